"""From column codes to files: the lookups, the contract's text columns as Arrow, CSV and Parquet.

`_lookups` builds the values the codes of `caselib.domain.sample.drawing` and
`caselib.domain.sample.mess` point at; `_render` turns rows of codes into an Arrow table with the
tips file's columns; `_write_tips` writes such tables in chunks as CSV or Parquet, and
`_write_waves` and `_write_objects` write the two CSV files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from caselib.domain.sample.drawing import (
    _BRANDS,
    _CHANNELS,
    _CLOSERS,
    _MIDDLES,
    _OPENERS,
    _PERIODS,
    _PLACES,
    _SHOPS,
    _ZONES,
    STATUSES,
    _take,
)
from caselib.domain.sample.mess import (
    _TEXT_FORMULA,
    _TEXT_SCRIPT,
    _UNPARSEABLE_TIME,
    FORMULA_TEXT,
    SCRIPT_TEXT,
    UNKNOWN_OBJECT_IDS,
)
from caselib.domain.sample.planning import _Countries, _Objects

_CHUNK_ROWS = 1_000_000


@dataclass(frozen=True)
class _Lookups:
    objects: pa.Array
    countries: pa.Array
    places: pa.Array
    texts: pa.Array
    languages: pa.Array
    tip_id_width: int


def _lookups(objs: _Objects, countries: _Countries, max_tip_num: int, extra_texts: list[str] = ()) -> _Lookups:
    nc = len(countries.alpha3)
    middles = [""] + [m.format(countries.names[c]) for m in _MIDDLES for c in range(nc)]
    texts = [
        " ".join(piece for piece in (opener, middle, closer) if piece)
        for opener in ("", *_OPENERS)
        for middle in middles
        for closer in _CLOSERS
    ]
    texts[0] = None  # no opener, middle or closer: no text
    texts += list(extra_texts)  # planted near-duplicates' texts (caselib.domain.sample.duplicates)
    texts += [SCRIPT_TEXT, FORMULA_TEXT]
    places = [
        p.format(capital=countries.capitals[c], name=countries.names[c])
        for p in _PLACES
        for c in range(nc)
    ]
    return _Lookups(
        objects=pa.array(objs.ids + list(UNKNOWN_OBJECT_IDS), pa.string()),
        countries=pa.array(countries.spellings, pa.string()),
        places=pa.array(places, pa.string()),
        texts=pa.array(texts, pa.string()),
        languages=pa.array(countries.languages, pa.string()),
        tip_id_width=max(7, len(str(max_tip_num))),
    )


def _pick(values: pa.Array, codes: np.ndarray) -> pa.Array:
    return values.take(pa.array(codes, mask=codes < 0))


def _render(rows: dict, lk: _Lookups) -> pa.Table:
    """Turn the column codes of some rows into the contract's text columns."""
    tip_num = rows["tip_num"]
    tip_id = pa.array(tip_num, mask=tip_num < 0).cast(pa.string())
    tip_id = pc.utf8_replace_slice(pc.utf8_lpad(tip_id, lk.tip_id_width, "0"), 0, 0, "T")

    zone = rows["zone"].astype(np.int64)
    offsets = np.array([o for _, o in _ZONES], dtype=np.int64)
    local = (rows["t"] + offsets[zone]).astype("datetime64[s]")
    received = pc.replace_substring(pa.array(local).cast(pa.string()), " ", "T", max_replacements=1)
    received = pc.binary_join_element_wise(
        received, pa.array([s for s, _ in _ZONES]).take(zone), ""
    )
    kind = rows["ts_kind"]
    if kind.any():
        received = pc.if_else(pa.array(kind == 1), pa.scalar(_UNPARSEABLE_TIME), received)
        received = pc.if_else(pa.array(kind == 2), pa.scalar(None, pa.string()), received)

    text = rows["text"].copy()
    text[text == _TEXT_SCRIPT] = len(lk.texts) - 2
    text[text == _TEXT_FORMULA] = len(lk.texts) - 1
    contact = pa.array(rows["contact"]).cast(pa.string())
    email = pc.binary_join_element_wise("tipster", contact, "@example.org", "")
    phone = pc.binary_join_element_wise("+00 ", pc.utf8_lpad(contact, 8, "0"), "")
    null = pa.scalar(None, pa.string())
    return pa.table(
        {
            "tip_id": tip_id,
            "object_id": _pick(lk.objects, rows["obj"]),
            "received_at": received,
            "channel": pa.array(_CHANNELS).take(rows["channel"]),
            "language": _pick(lk.languages, rows["language"]),
            "reporter_country": _pick(lk.countries, rows["rep"]),
            "suggested_country": _pick(lk.countries, rows["sug"]),
            "suggested_place": _pick(lk.places, rows["place"]),
            "latitude": pa.array(rows["lat"], from_pandas=True),
            "longitude": pa.array(rows["lon"], from_pandas=True),
            "brand": _pick(pa.array(_BRANDS), rows["brand"]),
            "shop": _pick(pa.array(_SHOPS), rows["shop"]),
            "period": _pick(pa.array(_PERIODS), rows["period"]),
            "tip_text": lk.texts.take(text),
            "triage_status": pa.array(STATUSES).take(rows["status"]),
            "forwarded_to": _pick(lk.countries, rows["fwd"]),
            "reporter_email": pc.if_else(pa.array(rows["email"]), email, null),
            "reporter_phone": pc.if_else(pa.array(rows["phone"]), phone, null),
        }
    )


def _write_tips(path: Path, fmt: str, core: dict, order: np.ndarray, lk: _Lookups) -> None:
    writer = None
    try:
        for start in range(0, len(order), _CHUNK_ROWS):
            table = _render(_take(core, order[start : start + _CHUNK_ROWS]), lk)
            if writer is None:
                writer = (
                    pacsv.CSVWriter(path, table.schema)
                    if fmt == "csv"
                    else pq.ParquetWriter(path, table.schema)
                )
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()


def _write_csv(path: Path, columns: dict[str, list]) -> None:
    pacsv.write_csv(pa.table({k: pa.array(v, pa.string()) for k, v in columns.items()}), path)




def _write_waves(path: Path, waves: list[dict]) -> None:
    _write_csv(
        path,
        {
            "wave_id": [w["wave_id"] for w in waves],
            "name": [w["name"] for w in waves],
            "launched_on": [w["launched_on"].isoformat() for w in waves],
            "notes": [w["notes"] or None for w in waves],
        },
    )


def _write_objects(path: Path, objs: _Objects) -> None:
    _write_csv(path, {key: [row[key] for row in objs.rows] for key in objs.rows[0]})


def _format_tip_id(num: int, width: int) -> str:
    """A tip id as `_render` writes it: ``T`` and the number padded to ``width`` digits."""
    return "T" + str(num).zfill(width)
