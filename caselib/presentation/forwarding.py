"""A forwarding package as files: one ZIP for the police of one country.

``tips.csv`` and ``tips.xlsx`` (every text cell formula-safe, pseudonyms only: the store
keeps no contact data), ``objects.csv`` (the objects concerned, text only), ``cover.html``
and ``cover.pdf`` (the objects' descriptions, the counts, the grading codes and the date;
tip text escaped, nothing fetched), and ``manifest.json`` listing every other file with its
SHA-256, the country, the codes and the tip ids. The ZIP is written owner-only and only if
the decision that marks its tips ``forwarded`` commits (:func:`caselib.domain.triage.decide`):
a failure leaves neither the file nor the decision.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import html
import io
import json
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from caselib.config import write_private
from caselib.domain import audit, triage
from caselib.domain.countries import country_name
from caselib.domain.forwarding import Codes, country_code
from caselib.errors import CaselibError
from caselib.presentation.export import safe_cell, safe_csv
from caselib.store import Store
from caselib.store import triage as state

__all__ = ["Package", "write_package", "write_shared_package"]

MANIFEST_FORMAT = "caselib forwarding package 1"
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed: the same files make the same ZIP


@dataclass(frozen=True)
class Package:
    """What a forwarding did: the file (None when there was nothing new to forward)."""

    country: str
    path: Path | None
    tips: int
    objects: int
    audit_seq: int | None
    sha256: str | None

    def summary(self) -> str:
        name = country_name(self.country) or self.country
        if self.path is None:
            return f"Nothing new to forward to {name} ({self.country}): no actionable tip suggesting it is left unforwarded"
        return (
            f"Forwarding package for {name} ({self.country}) written to {self.path}: {self.tips} tip{'s' if self.tips != 1 else ''} of "
            f"{self.objects} object{'s' if self.objects != 1 else ''}, now forwarded; audit record {self.audit_seq}, "
            f"sha256 {self.sha256}"
        )


def _text_frame(frame):
    """The tips as text cells, times in ISO 8601 UTC."""
    out = frame.copy()
    if "received_at" in out:
        out["received_at"] = out["received_at"].map(lambda v: v.strftime("%Y-%m-%dT%H:%M:%SZ") if v is not None else None)
    return out


def _xlsx(frame, sheet: str) -> bytes:
    """An .xlsx of ``frame``: every cell a value, never a formula (text cells that would start
    one are made safe as in the CSV, and written as text cells)."""
    import openpyxl
    from openpyxl.cell import WriteOnlyCell

    book = openpyxl.Workbook(write_only=True)
    page = book.create_sheet(sheet)
    page.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        cells = []
        for value in row:
            if value is None or value != value:  # None or NaN
                cells.append(None)
                continue
            cell = WriteOnlyCell(page, value=None)
            if isinstance(value, str):
                cell.value = safe_cell(value)
                cell.data_type = "s"  # never "f": openpyxl would take a leading "=" for a formula
            else:
                cell.value = value
            cells.append(cell)
        page.append(cells)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cover(country: str, codes: Codes, tips, objects, created_at: dt.datetime, created_by: str) -> str:
    name = html.escape(country_name(country) or country)
    counts = tips.groupby("object_id").size().to_dict()
    rows = "".join(  # one object, with its description, never split across pages
        f"<tbody class=o><tr><th>{html.escape(str(o.object_id))}</th><td>{html.escape(str(o.title or ''))}</td>"
        f"<td>{html.escape(str(o.category or ''))}</td><td class=n>{counts.get(o.object_id, 0)}</td></tr>"
        f"<tr class=d><td></td><td colspan=3>{html.escape(str(o.description or '')) or '(no description)'}</td></tr></tbody>"
        for o in objects.itertuples(index=False)
    )
    grading = "".join(
        f"<tr><th>{html.escape(what)}</th><td class=c>{html.escape(code)}</td><td>{html.escape(meaning)}</td></tr>"
        for what, code, meaning in codes.lines()
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Trace an Object: tips for {name}</title>
<style>
body {{ font: 11pt/1.4 "DejaVu Sans", Arial, sans-serif; margin: 2cm; color: #111; }}
h1 {{ font-size: 16pt; margin: 0 0 .3em; }} h2 {{ font-size: 12pt; margin: 1.4em 0 .4em; }}
table {{ border-collapse: collapse; width: 100%; }} th, td {{ text-align: left; vertical-align: top; padding: .25em .5em; }}
tr + tr th, tr + tr td, tbody.o + tbody.o th, tbody.o + tbody.o td {{ border-top: 1px solid #ddd; }}
tr.d td {{ color: #333; font-size: 10pt; border-top: 0; }} tbody.o {{ break-inside: avoid; }}
td.n {{ text-align: right; }} td.c {{ font-weight: bold; width: 3em; }} p.small {{ font-size: 9pt; color: #444; }}
</style></head><body>
<h1>Trace an Object: tips for the police of {name} ({html.escape(country)})</h1>
<p>{len(tips)} tip{'s' if len(tips) != 1 else ''} about {len(objects)} object{'s' if len(objects) != 1 else ''}
from the public, triaged actionable and suggesting {name}.
Prepared {created_at:%Y-%m-%d %H:%M} UTC by {html.escape(created_by)}.</p>
<h2>Grading</h2>
<table>{grading}</table>
<h2>Objects</h2>
<table><thead><tr><th>Object</th><th>Title</th><th>Category</th><th>Tips</th></tr></thead>{rows}</table>
<h2>Files</h2>
<p><b>tips.csv</b> and <b>tips.xlsx</b> (the same tips), <b>objects.csv</b>, this cover page, and
<b>manifest.json</b>, which lists every file with its SHA-256 and the tip ids.</p>
<p class="small">Tip texts are as the public wrote them: untrusted, shown as plain text. Tipsters were
promised anonymity: no contact data is included (a pseudonym where the intake system gave one).
Objects are described in words only; no image is part of this package.</p>
</body></html>
"""


def _pdf(page: str) -> bytes:
    from caselib.presentation.report import write_pdf

    with tempfile.TemporaryDirectory(prefix="caselib-cover-") as folder:
        target = Path(folder) / "cover.pdf"
        write_pdf(page, target)
        return target.read_bytes()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def write_package(
    store: Store,
    country: str,
    output: str | Path,
    *,
    object_id: str | None = None,
    codes: Codes | None = None,
    by: str | None = None,
    _decide=None,
) -> Package:
    """Forward to ``country`` the tips not yet forwarded to it (of one object, or all), as a
    ZIP at ``output`` (``.zip``; never over an existing file), and mark them forwarded.

    (A team's shared store marks them through ``_decide``, its own triage decision:
    :func:`write_shared_package`.)"""
    codes = codes or Codes()
    code = country_code(country)
    output = Path(output)
    if output.suffix.lower() != ".zip":
        raise CaselibError(f"a forwarding package is written as a .zip file, not {output.name}")
    if output.exists():
        raise CaselibError(f"{output} exists already: a package sent is never overwritten; choose another name")
    if object_id is not None and not store.scalar("SELECT count(*) FROM objects WHERE object_id = $o", {"o": object_id}):
        raise CaselibError(f"there is no object {object_id!r}")
    tips = state.forwardable_tips(store, code, object_id)
    if tips.empty:
        return Package(code, None, 0, 0, None, None)
    objects = state.package_objects(store, tips["object_id"].unique().tolist())
    actor = audit.actor_name(by)
    created_at = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    text = _text_frame(tips)
    cover = _cover(code, codes, tips, objects, created_at, actor)
    files = {
        "tips.csv": safe_csv(text).encode("utf-8"),
        "tips.xlsx": _xlsx(text, "tips"),
        "objects.csv": safe_csv(_text_frame(objects.astype(object).where(objects.notna(), None))).encode("utf-8"),
        "cover.html": cover.encode("utf-8"),
        "cover.pdf": _pdf(cover),
    }
    ids = tips["tip_id"].tolist()
    manifest = {
        "format": MANIFEST_FORMAT,
        "country": code,
        "country_name": country_name(code),
        "created_at": created_at.isoformat() + "Z",
        "created_by": actor,
        "codes": codes.as_dict(),
        "objects": objects["object_id"].tolist(),
        "tip_ids": ids,
        "files": [{"name": name, "bytes": len(data), "sha256": _sha256(data)} for name, data in files.items()],
    }
    files["manifest.json"] = json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8")
    archive = _zip(files)
    digest = _sha256(archive)
    try:
        done = (_decide or triage.decide)(
            store, ids, status="forwarded", forwarded_to=code, by=actor,
            reason=f"forwarded in the package {output.name} (source {codes.source}, information {codes.information}, "
                   f"handling {codes.handling})",
            _action="forward",
            _details={"package": output.name, "zip_sha256": digest,
                      "manifest_sha256": _sha256(files["manifest.json"]), "codes": codes.as_dict()},
            _before_commit=lambda seq: write_private(output, archive),
        )
    except BaseException:
        with contextlib.suppress(OSError):
            if output.exists() and _sha256(output.read_bytes()) == digest:
                output.unlink()  # written, but the decision did not commit
        raise
    return Package(code, output, done.changed, len(objects), done.audit_seq, digest)


def write_shared_package(store: Store, shared, country: str, output: str | Path, *, object_id: str | None = None,
                         codes: Codes | None = None) -> Package:
    """:func:`write_package` on a team's shared store (a reviewer's): the package's tips read
    from the reviewer's copy, caught up inside the server's write (no other write can change
    which tips are forwardable meanwhile), marked forwarded on the server, where the ZIP is
    put in place before the write commits: a failure leaves neither the file nor the decision."""
    from caselib.domain import team
    from caselib.store.shared.sync import sync

    def decide(_store, ids, *, status, forwarded_to, by, reason, _action, _details, _before_commit):
        return team.decide(shared, ids, status=status, forwarded_to=forwarded_to, reason=reason,
                           _action=_action, _details=_details, _before_commit=_before_commit)

    with shared.writing():
        sync(store, shared)
        done = write_package(store, country, output, object_id=object_id, codes=codes, by=shared.user, _decide=decide)
    sync(store, shared)
    return done
