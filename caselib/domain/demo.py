"""Build the demo database: the synthetic campaign, loaded through the real loader."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from caselib.domain.enrich import refresh_all
from caselib.domain.ingest import LoadResult, load_file
from caselib.domain.sample import generate_campaign, load_wave_config
from caselib.domain.status import database_status
from caselib.errors import CannotWrite, DemoRefused
from caselib.store import Store

__all__ = ["DemoResult", "build_demo"]


@dataclass
class DemoResult:
    """The database built, the files it was built from, the loads, and any backup made."""

    db_path: Path
    files_dir: Path
    loads: list[LoadResult]
    backup: Path | None
    # One line per refresh after the loads (clusters, languages, names; caselib.domain.enrich)
    enriched: list[str] = field(default_factory=list)


def _contents(path: Path) -> str:
    if not path.exists():
        return "empty"
    with Store(path, read_only=True) as store:
        return database_status(store, recent=0)["contents"]


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def _fsync(path: Path) -> None:
    """Flush ``path`` (a file, or a folder's entries) to disk, where the system allows it."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _copy_private(source: Path, target: Path) -> None:
    """Copy ``source`` to a new owner-only ``target`` (for file systems without hard links)."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with source.open("rb") as src, os.fdopen(fd, "wb", closefd=False) as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
            dst.flush()
            os.fsync(fd)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    finally:
        os.close(fd)


def _keep_backup(db_path: Path) -> Path:
    """Keep the database at ``db_path`` as ``<name>.bak-<UTC time>`` (with its WAL as
    ``<backup>.wal``), without emptying the path: a hard link, or else a copy."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    backup = db_path.with_name(f"{db_path.name}.bak-{stamp}")
    counter = 1
    while backup.exists() or _wal(backup).exists():
        counter += 1
        backup = db_path.with_name(f"{db_path.name}.bak-{stamp}-{counter}")
    pairs = [(db_path, backup)]
    if _wal(db_path).exists():
        pairs.append((_wal(db_path), _wal(backup)))
    try:
        for source, target in pairs:
            try:
                os.link(source, target)
            except OSError:
                _copy_private(source, target)
            os.chmod(target, 0o600)
    except BaseException:
        for _, target in pairs:
            target.unlink(missing_ok=True)
        raise
    return backup


def _swap_in(building: Path, db_path: Path, *, force: bool) -> Path | None:
    """Move the complete database ``building`` onto ``db_path`` in one ``os.replace``, so
    that the path always holds the old database or the new one; return the backup made.

    A WAL a crash left is first folded into the old file. While it swaps it holds the old
    database open read-only, so that no other process can write it meanwhile, and it looks
    again at what the old database holds. A WAL that appeared all the same goes with the
    backup (or, for a demo, away) before the new file arrives: an old WAL beside the new
    file would be replayed into it, or make it unopenable.
    """
    os.chmod(building, 0o600)  # owner-only whatever the umask
    _fsync(building)
    if db_path.exists() and _wal(db_path).exists():
        # A crash left the old database's last transactions in its WAL: fold them into the
        # file (DuckDB's own recovery), so that the old database is whole in one file.
        with Store(db_path) as store:
            store.checkpoint()
    with contextlib.ExitStack() as hold:
        contents = "empty"
        if db_path.exists():
            store = hold.enter_context(Store(db_path, read_only=True))
            contents = database_status(store, recent=0)["contents"]
        if contents == "analyst" and not force:
            raise _refusal(db_path)
        backup = _keep_backup(db_path) if contents == "analyst" else None
        _wal(db_path).unlink(missing_ok=True)  # kept with the backup, or a demo's
        os.replace(building, db_path)
    _fsync(db_path.parent)
    return backup


def _refusal(db_path: Path) -> DemoRefused:
    return DemoRefused(
        f"{db_path} holds loaded (non-demo) data; the demo would replace it. Use --force "
        "to replace it (a backup is kept) or --db to build the demo elsewhere"
    )


def build_demo(
    db_path: str | os.PathLike[str],
    *,
    tips: int = 28_000,
    seed: int = 2017,
    waves_config: str | os.PathLike[str] | None = None,
    force: bool = False,
    progress: bool | None = None,
    files_dir: str | os.PathLike[str] | None = None,
    until: dt.date | None = None,
    enrich: bool = True,
) -> DemoResult:
    """Generate the synthetic campaign and load it into a new database at ``db_path``.

    The database is built beside the target and moved into place only when every load
    has committed, so an interrupted build never leaves a half-written database; the move
    is one ``os.replace``, so the path holds the old database or the new one at every
    moment, even if the process is killed. An existing demo database is replaced; one
    holding analyst data is refused unless ``force``, and then kept (hard-linked, or
    copied) as ``<name>.bak-<UTC time>``, with its write-ahead log if it has one. The new
    database is owner-only (0600).

    ``until`` is the campaign's last day (see `generate_campaign`): ``caselib demo`` passes
    today, so that "as of today" shows a live campaign; without it the campaign ends six
    months after the latest launch (30 June 2024 for the demo waves), the same on every day.
    The day is kept in the ``meta`` table as ``demo_until``. With ``enrich`` (the default)
    the near-duplicate clusters, detected languages and names in tips are worked out after
    the loads, as ``caselib load`` does (:func:`caselib.domain.enrich.refresh_all`).
    """
    db_path = Path(db_path).expanduser().resolve()
    contents = _contents(db_path)
    if contents == "analyst" and not force:
        raise _refusal(db_path)
    waves = load_wave_config(waves_config) if waves_config else None
    files_dir = Path(files_dir) if files_dir else db_path.parent / "demo"
    try:
        campaign = generate_campaign(files_dir, tips=tips, seed=seed, waves=waves, until=until)
    except OSError as error:  # a read-only or full disk, a folder that cannot be made
        raise CannotWrite(f"cannot write the demo's files to {files_dir}: {error.strerror or error}") from None

    building = db_path.with_name(db_path.name + ".building")
    for leftover in (building, _wal(building)):
        leftover.unlink(missing_ok=True)
    loads = []
    try:
        with Store(building) as store:
            for kind, path in (
                ("waves", campaign.waves_path),
                ("objects", campaign.objects_path),
                ("tips", campaign.tips_path),
                ("tips", campaign.redelivery_path),
            ):
                loads.append(load_file(store, kind, path, origin="demo", progress=progress))
            enriched = refresh_all(store) if enrich else []
            store.execute(
                "INSERT OR REPLACE INTO meta VALUES ('contents', 'demo'), "
                "('demo_seed', $seed), ('demo_tips', $tips), ('demo_until', $until)",
                {"seed": str(seed), "tips": str(tips), "until": campaign.until.isoformat()},
            )
            store.checkpoint()
        if _wal(building).exists():  # DuckDB folds the WAL in when it closes; make sure
            with Store(building) as store:
                store.checkpoint()
        if _wal(building).exists():
            raise OSError(f"the demo database {building} kept a write-ahead log after closing")
        backup = _swap_in(building, db_path, force=force)
    except BaseException as error:
        for leftover in (building, _wal(building)):
            with contextlib.suppress(OSError):
                leftover.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise CannotWrite(f"cannot build the demo database at {db_path}: {error.strerror or error}") from None
        raise
    return DemoResult(db_path, files_dir, loads, backup, enriched)
