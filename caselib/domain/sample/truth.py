"""The ground truth of a sample campaign: what its files were built to contain, as truth.json.

`_build_truth` gathers, from the plan, the drawn tips and the mess, the dict that
`_write_truth` writes; `caselib.domain.sample` documents its keys.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from caselib.domain.sample.mess import _FUTURE_YEAR, _UNPARSEABLE_TIME
from caselib.domain.sample.planning import _OUTCOME, _TRACEABLE, ODD_COUNTRY_VALUES, SCENARIOS, _Countries, _Objects
from caselib.domain.sample.rendering import _format_tip_id


def _build_truth(
    *,
    seed: int,
    tips: int,
    fmt: str,
    messy: bool,
    waves: list[dict],
    per_wave: list[int],
    end: dt.date,
    paths: dict[str, Path],
    objs: _Objects,
    countries: _Countries,
    info: dict,
    core: dict,
    specials: Sequence[int],
    n_rows: int,
    tip_id_width: int,
    mess_counts: dict,
    mess_detail: dict,
    redelivery_counts: dict,
    near_duplicates: dict | None = None,
) -> dict:
    """The contents of truth.json.

    ``core`` holds every row of the tips file (valid and messy), ``specials`` the indexes in
    it of the script and formula texts, ``info`` what `_make_tips` drew besides the columns,
    ``near_duplicates`` the planted copies' truth (only with planting: the key is absent
    otherwise).
    """
    special_ids = [int(core["tip_num"][i]) for i in specials]

    def tip_id(num: int) -> str:
        return _format_tip_id(num, tip_id_width)

    counts = info["counts"]
    truth_objects = {}
    for i, object_id in enumerate(objs.ids):
        name = SCENARIOS[objs.scenario[i]]
        origin = (
            countries.alpha3[objs.origin[i]]
            if name in ("converging", "split", "identified", "closed")
            else None
        )
        entry = {
            "scenario": name,
            "wave_id": waves[objs.wave[i]]["wave_id"],
            "true_origin": origin,
            "traceable": name in _TRACEABLE,
            "expected_outcome": _OUTCOME[name],
            "tips": int(counts[i]),
            "countable_tips": int(info["k"][i]),
            "untriaged_tips": int(info["u"][i]),
        }
        if name == "split":
            entry["split_between"] = [
                countries.alpha3[objs.origin[i]],
                countries.alpha3[objs.second[i]],
            ]
        truth_objects[object_id] = entry
    rejected = (
        mess_counts["unknown_object"] + mess_counts["missing_required"] + mess_counts["future"]
    )
    wave_tips = np.bincount(objs.wave, weights=counts, minlength=len(waves))
    truth = {
        "seed": seed,
        "tips": tips,
        "n_tips": n_rows,
        "arguments": {
            "tips": tips,
            "seed": seed,
            "objects": sum(per_wave),
            "fmt": fmt,
            "messy": messy,
        },
        "as_of": end.isoformat(),
        "files": {key: path.name for key, path in paths.items() if key != "truth"},
        "waves": [
            {
                "wave_id": w["wave_id"],
                "name": w["name"],
                "launched_on": w["launched_on"].isoformat(),
                "objects": per_wave[j],
                "tips": int(wave_tips[j]),
            }
            for j, w in enumerate(waves)
        ],
        "objects": truth_objects,
        "tips_file": {
            "rows": n_rows,
            "valid_tips": tips,
            "exact_duplicate": mess_counts["exact_duplicate"],
            "rejected": rejected,
        },
        "messy": mess_counts,
        "messy_detail": {
            **mess_detail,
            "odd_country_alpha3": {value: alpha3 for value, alpha3 in ODD_COUNTRY_VALUES},
            "odd_country_column": "reporter_country",
            "future_year": _FUTURE_YEAR,
            "unparseable_received_at": _UNPARSEABLE_TIME,
        },
        "redelivery": redelivery_counts,
        "special_tips": {"script": tip_id(special_ids[0]), "formula": tip_id(special_ids[1])},
        "contact_rows": {
            "reporter_email": int(core["email"].sum()),
            "reporter_phone": int(core["phone"].sum()),
        },
    }
    if near_duplicates is not None:
        truth["arguments"]["near_duplicates"] = near_duplicates["share"]
        truth["near_duplicates"] = near_duplicates
    return truth


def _write_truth(path: Path, truth: dict) -> None:
    path.write_text(
        json.dumps(truth, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )
