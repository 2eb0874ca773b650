"""Seeded synthetic Trace-an-Object campaign: contract files plus their ground truth.

`generate_campaign` writes a waves file, an objects file, a tips export and a later
re-delivery of some of those tips, exactly as described in the intake contract, together
with ``truth.json``, which records what the files were built to contain: each object's
scenario and true origin, the outcome the default closure rules should give at the campaign
end, and how many rows of each kind of mess were written. Tests, ``caselib demo``, the
notebooks' fallback data and the benchmarks all build their data here.

Everything is drawn from one ``numpy.random.default_rng(seed)``, vectorised over tips, and
nothing depends on the clock or on dict/set order, so the same arguments give byte-identical
files. The campaign ends on ``until`` (default: six months after the latest launch; the
clock only refuses an end after today). Besides the standard library this package uses numpy, pyarrow, `caselib.domain.contract` and
`caselib.errors`.

Scenarios, one per object; every scenario appears when the waves allow it (``everywhere``
only in the wave with the most tips per object, ``quiet`` only in waves launched at least
545 days before the end, ``until``). The outcome is what the default closure rules give at
the end:

- ``converging``: >= 6 actionable/forwarded tips, 65-85 % naming ``true_origin``, the first
  three from three reporter countries; outcome ``origin_established``.
- ``split``: actionable tips about 45/45 between two countries, one tip in the last 61 days
  (so rule 6 does not apply); ``not_ready``.
- ``everywhere``: >= 20 actionable tips spread evenly over 8 countries;
  ``widely_distributed``.
- ``quiet``: few tips, none actionable, none later than 150 days after launch; ``exhausted``.
- ``untriaged``: some tips still ``new``/``under_review``, dated near the end as an intake
  backlog is; ``not_ready``.
- ``identified``: status ``identified`` with ``origin_country``; ``origin_established``.
- ``closed`` (origin known) and ``withdrawn``: ``closed``.

Only ``untriaged`` objects have ``new``/``under_review`` tips. The re-delivery changes only
triage details that keep these outcomes (``actionable`` to ``forwarded``, ``new`` to
``under_review``, swaps among ``not_actionable``/``duplicate``/``off_topic``, another
``forwarded_to``), so they hold before and after it is loaded.

``truth.json`` holds: ``seed``, ``tips`` (valid tips), ``n_tips`` (rows in the tips file),
``arguments``, ``as_of`` (campaign end), ``waves`` (with objects and tips per wave),
``objects`` (per id: ``scenario``, ``true_origin`` alpha-3 or null, ``traceable``,
``expected_outcome``, ``tips``, ``countable_tips``, ``untriaged_tips``, ``split_between``),
``tips_file`` (rows = valid tips + exact duplicates + rejected), ``messy`` (rows per kind of
mess), ``messy_detail``, ``redelivery`` (triage_update / unchanged / conflict rows),
``special_tips`` (the ids of the script and formula texts) and ``contact_rows``; with
planted near-duplicates also ``near_duplicates`` (``share``, ``copies``: each copy's tip id
-> ``of``, its source's, and ``kind``, how it was changed; ``kinds``: copies per kind).
``traceable`` is true when the records lead to ``true_origin``: converging, identified and
closed objects.

The package's modules, each importing only those above it: `caselib.domain.sample.configuration`
(the waves), `caselib.domain.sample.planning` (countries, objects, scenarios, tips per object),
`caselib.domain.sample.drawing` (the tips), `caselib.domain.sample.duplicates` (planted
near-duplicates, only when asked for), `caselib.domain.sample.mess` (messy rows, re-delivery),
`caselib.domain.sample.rendering` (the contract's files) and `caselib.domain.sample.truth` (truth.json).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from caselib.domain.sample.configuration import (
    SampleConfigError,
    _campaign_until,
    _default_waves,
    _normalise_waves,
    _objects_per_wave,
    load_wave_config,
)
from caselib.domain.sample.drawing import _make_tips
from caselib.domain.sample.duplicates import _near_duplicate_truth, _plant_near_duplicates, n_template_texts
from caselib.domain.sample.mess import _mess, _place_messy_rows, _redelivery
from caselib.domain.sample.planning import SCENARIOS, _load_countries, _plan_objects
from caselib.domain.sample.rendering import _format_tip_id, _lookups, _write_objects, _write_tips, _write_waves
from caselib.domain.sample.truth import _build_truth, _write_truth

__all__ = [
    "SCENARIOS",
    "SampleCampaign",
    "SampleConfigError",
    "generate_campaign",
    "load_wave_config",
]


@dataclass(frozen=True)
class SampleCampaign:
    """Paths of the files `generate_campaign` wrote, and the number of rows in the tips file.

    ``n_tips`` counts every data row of ``tips_path``: the valid tips plus the messy rows
    (exact duplicates and rows the loader must reject). ``truth_path`` names the JSON ground
    truth; ``until`` is the campaign's last day (its ``as_of``).
    """

    waves_path: Path
    objects_path: Path
    tips_path: Path
    redelivery_path: Path
    truth_path: Path
    n_tips: int
    until: dt.date | None = None


def generate_campaign(
    out_dir: str | Path,
    *,
    tips: int = 28_000,
    seed: int = 2017,
    waves: Sequence[Mapping] | None = None,
    objects: int | Sequence[int] | None = None,
    fmt: str = "csv",
    messy: bool = True,
    until: dt.date | None = None,
    near_duplicates: float = 0.0,
) -> SampleCampaign:
    """Write a synthetic campaign as contract files plus ``truth.json`` into ``out_dir``.

    Parameters
    ----------
    out_dir
        Directory to write into (created if missing). Existing files of the same names are
        replaced: ``waves.csv``, ``objects.csv``, ``tips.<fmt>``, ``tips_redelivery.<fmt>``,
        ``truth.json``.
    tips
        Number of valid tips. The default 28,000 follows the public record of the 2017
        campaign; other values scale every wave proportionally. Messy rows come on top.
    seed
        Seed of ``numpy.random.default_rng``; the same arguments give byte-identical files.
    waves
        Wave dicts (``wave_id``, ``name``, ``launched_on`` and optional generator settings,
        see ``caselib/data/demo_campaign.toml``); default: that file's six waves.
    objects
        Total number of objects, spread over the waves in proportion to their configured
        ``objects``; or one count per wave; default: as configured (140 for the demo).
    fmt
        ``"csv"`` or ``"parquet"`` for the two tips files; waves and objects are always CSV.
    messy
        Whether to add the rows and values the loader must quarantine, count or reject.
    until
        The campaign's last day, a `datetime.date`: the tips run up to it and every scenario
        is planned against it (a wave's thin tail, the intake backlog of the latest wave,
        the recent tip of a split object, quiet objects fallen silent), so that as of that
        day the campaign is live. Default: the configured end, the last day of the sixth
        month after the latest launch (30 June 2024 for the demo waves); ``until`` may not
        be earlier than that, nor after today (UTC). ``caselib demo`` passes today. The
        same ``until`` (and other arguments) give the same files.
    near_duplicates
        Share of the valid tips (0 to 0.5) made copies of another tip of the same object,
        changed in case, punctuation or one word (`caselib.domain.sample.duplicates`, which
        also gives every tip a text of its own first); truth.json's ``near_duplicates``
        names each copy's source. Default 0: no planting, the files of before.

    Returns
    -------
    SampleCampaign
        The written paths and the number of data rows in the tips file.

    Raises
    ------
    SampleConfigError
        For an unknown ``fmt``, a bad wave configuration, a campaign that would end after
        today or before the configured end, or too few tips for the objects' scenarios (the message names enough).

    Examples
    --------
    >>> import json, shutil, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> campaign = generate_campaign(folder, tips=20_000)
    >>> truth = json.loads(campaign.truth_path.read_text())
    >>> truth["tips"], truth["as_of"]
    (20000, '2024-06-30')
    >>> shutil.rmtree(folder)
    """
    if fmt not in ("csv", "parquet"):
        raise SampleConfigError(f"fmt={fmt!r} is not a tips file format; use 'csv' or 'parquet'.")
    if not isinstance(tips, int) or isinstance(tips, bool) or tips < 1:
        raise SampleConfigError(f"tips={tips!r} is not a positive whole number of tips.")
    wave_list = (
        _default_waves() if waves is None else _normalise_waves(list(waves), "the waves argument")
    )
    if not isinstance(near_duplicates, int | float) or not 0 <= near_duplicates <= 0.5:
        raise SampleConfigError(f"near_duplicates={near_duplicates!r} is not a share of the tips from 0 to 0.5.")
    per_wave = _objects_per_wave(wave_list, objects)
    end = _campaign_until(wave_list[-1]["launched_on"], until)

    rng = np.random.default_rng(seed)
    countries = _load_countries()
    nc = len(countries.alpha3)
    objs = _plan_objects(rng, wave_list, per_wave, end, countries)
    core, info = _make_tips(rng, tips, wave_list, end, objs, countries)
    extra_texts, planted = [], None
    if near_duplicates:
        extra_texts, planted = _plant_near_duplicates(seed, core, float(near_duplicates), n_template_texts(nc))
    extra, mess_counts, mess_detail, used, specials = _mess(
        rng, core, info, len(objs.ids), nc, messy
    )
    redelivery, redelivery_counts = _redelivery(rng, core, used, len(objs.ids), nc, end, messy)
    order = _place_messy_rows(rng, core, extra)
    del extra
    max_num = int(core["tip_num"].max())
    lk = _lookups(objs, countries, max_num, extra_texts)

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "waves": out / "waves.csv",
        "objects": out / "objects.csv",
        "tips": out / f"tips.{fmt}",
        "redelivery": out / f"tips_redelivery.{fmt}",
        "truth": out / "truth.json",
    }
    _write_waves(paths["waves"], wave_list)
    _write_objects(paths["objects"], objs)
    _write_tips(paths["tips"], fmt, core, order, lk)
    _write_tips(paths["redelivery"], fmt, redelivery, np.arange(len(redelivery["tip_num"])), lk)

    n_rows = len(order)
    truth = _build_truth(
        seed=seed,
        tips=tips,
        fmt=fmt,
        messy=messy,
        waves=wave_list,
        per_wave=per_wave,
        end=end,
        paths=paths,
        objs=objs,
        countries=countries,
        info=info,
        core=core,
        specials=specials,
        n_rows=n_rows,
        tip_id_width=lk.tip_id_width,
        mess_counts=mess_counts,
        mess_detail=mess_detail,
        redelivery_counts=redelivery_counts,
        near_duplicates=None if planted is None else _near_duplicate_truth(
            float(near_duplicates), planted, core, specials, lambda num: _format_tip_id(num, lk.tip_id_width)
        ),
    )
    _write_truth(paths["truth"], truth)
    return SampleCampaign(
        waves_path=paths["waves"],
        objects_path=paths["objects"],
        tips_path=paths["tips"],
        redelivery_path=paths["redelivery"],
        truth_path=paths["truth"],
        n_tips=n_rows,
        until=end,
    )
