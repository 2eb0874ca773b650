"""The wave configuration of a sample campaign: reading, defaults, checks, and what follows.

`load_wave_config` reads a TOML of ``[[waves]]`` tables; `_default_waves` reads the shipped
``caselib/data/demo_campaign.toml``. Both, and the ``waves`` argument of `generate_campaign`,
go through `_normalise_waves`, which fills in the generator's settings and explains every
bad value as a `SampleConfigError`. The campaign's end and its objects per wave follow from
the waves.
"""

from __future__ import annotations

import datetime as dt
import importlib.resources
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from caselib.errors import CaselibError

_WAVE_KEYS = frozenset(
    {
        "wave_id",
        "name",
        "launched_on",
        "notes",
        "objects",
        "tip_weight",
        "burst",
        "burst_days",
        "decay",
        "decay_days",
    }
)
_WAVE_DEFAULTS = {
    "objects": 20,
    "burst": 0.30,
    "burst_days": 1.0,
    "decay": 0.55,
    "decay_days": 10.0,
}


class SampleConfigError(CaselibError, ValueError):
    """The arguments or wave configuration of `generate_campaign` cannot make a campaign."""


def load_wave_config(path: str | Path) -> list[dict]:
    """Read a wave configuration TOML with an array of ``[[waves]]`` tables.

    Parameters
    ----------
    path
        A TOML file shaped like ``caselib/data/demo_campaign.toml``.

    Returns
    -------
    list of dict
        One dict per wave, sorted by launch date, with ``wave_id``, ``name``,
        ``launched_on`` (a `datetime.date`), ``notes`` and the generator's settings
        ``objects``, ``tip_weight``, ``burst``, ``burst_days``, ``decay``, ``decay_days``
        (defaults filled in).

    Raises
    ------
    SampleConfigError
        If the file is not valid TOML or a wave lacks a required key or has a bad value.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SampleConfigError(
            f"Wave configuration {path} is not valid TOML ({exc}); fix the file and retry."
        ) from exc
    return _waves_from_config(data, str(path))


def _default_waves() -> list[dict]:
    text = (
        importlib.resources.files("caselib")
        .joinpath("data/demo_campaign.toml")
        .read_text(encoding="utf-8")
    )
    return _waves_from_config(tomllib.loads(text), "caselib/data/demo_campaign.toml")


def _waves_from_config(data: Mapping, source: str) -> list[dict]:
    waves = data.get("waves")
    if not isinstance(waves, list):
        raise SampleConfigError(
            f"{source} has no [[waves]] tables; "
            "add one per wave with wave_id, name and launched_on."
        )
    return _normalise_waves(waves, source)


def _normalise_waves(waves: Sequence[Mapping], source: str) -> list[dict]:
    if not waves:
        raise SampleConfigError(
            f"{source} names no waves; give at least one wave with wave_id, name and launched_on."
        )
    out = []
    for number, wave in enumerate(waves, start=1):
        if not isinstance(wave, Mapping):
            raise SampleConfigError(
                f"Wave {number} in {source} is not a table of keys; "
                "write it as wave_id, name, launched_on."
            )
        unknown = sorted(set(wave) - _WAVE_KEYS)
        if unknown:
            raise SampleConfigError(
                f"Wave {number} in {source} has unknown keys {', '.join(unknown)}; "
                f"allowed are {', '.join(sorted(_WAVE_KEYS))}."
            )
        for key in ("wave_id", "launched_on"):
            if wave.get(key) in (None, ""):
                raise SampleConfigError(
                    f"Wave {number} in {source} has no {key}; "
                    "every wave needs wave_id and launched_on."
                )
        wave_id = str(wave["wave_id"]).strip()
        launched = wave["launched_on"]
        if isinstance(launched, dt.datetime):
            launched = launched.date()
        elif isinstance(launched, str):
            try:
                launched = dt.date.fromisoformat(launched.strip())
            except ValueError:
                raise SampleConfigError(
                    f"Wave {wave_id} in {source} has launched_on {launched!r}; "
                    "write the date as YYYY-MM-DD."
                ) from None
        elif not isinstance(launched, dt.date):
            raise SampleConfigError(
                f"Wave {wave_id} in {source} has launched_on {launched!r}; "
                "write the date as YYYY-MM-DD."
            )
        settings = {key: wave.get(key, default) for key, default in _WAVE_DEFAULTS.items()}
        objects = settings["objects"]
        if not isinstance(objects, int) or isinstance(objects, bool) or objects < 1:
            raise SampleConfigError(
                f"Wave {wave_id} in {source} has objects={objects!r}; "
                "give a whole number of at least 1."
            )
        try:
            floats = {
                key: float(settings[key]) for key in ("burst", "burst_days", "decay", "decay_days")
            }
            tip_weight = float(wave.get("tip_weight", objects))
        except (TypeError, ValueError):
            raise SampleConfigError(
                f"Wave {wave_id} in {source} has a non-numeric tip_weight, burst or decay setting."
            ) from None
        if not (
            tip_weight > 0
            and floats["burst_days"] > 0
            and floats["decay_days"] > 0
            and floats["burst"] >= 0
            and floats["decay"] >= 0
            and floats["burst"] + floats["decay"] <= 1
        ):
            raise SampleConfigError(
                f"Wave {wave_id} in {source} has out-of-range settings; "
                "tip_weight and the *_days must be "
                "positive, burst and decay between 0 and 1 with burst + decay <= 1."
            )
        out.append(
            {
                "wave_id": wave_id,
                "name": str(wave.get("name") or wave_id),
                "launched_on": launched,
                "notes": str(wave.get("notes") or ""),
                "objects": objects,
                "tip_weight": tip_weight,
                **floats,
            }
        )
    ids = [w["wave_id"] for w in out]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise SampleConfigError(
            f"{source} names wave {', '.join(duplicated)} more than once; wave ids must be unique."
        )
    return sorted(out, key=lambda w: (w["launched_on"], w["wave_id"]))


def _campaign_end(latest_launch: dt.date) -> dt.date:
    """Last day of the sixth month after the latest launch (2023-12-01 gives 2024-06-30)."""
    months = latest_launch.year * 12 + latest_launch.month - 1 + 7
    return dt.date(months // 12, months % 12 + 1, 1) - dt.timedelta(days=1)


def _campaign_until(latest_launch: dt.date, until: dt.date | None) -> dt.date:
    """The campaign's last day: ``until``, or else the configured end (`_campaign_end`).

    Every scenario needs six months after the latest launch to play out (a quiet object
    falls silent, a split one stays active), so ``until`` may not come earlier than the
    configured end; nor after today (UTC), whose tips have not yet arrived. Without
    ``until`` the configured end must already be past.
    """
    today = dt.datetime.now(dt.UTC).date()
    end = _campaign_end(latest_launch)
    if until is None:
        if end >= today:
            raise SampleConfigError(
                f"The campaign would run until {end}, which is not yet past; launch the latest "
                "wave at least seven months before today."
            )
        return end
    if isinstance(until, dt.datetime) or not isinstance(until, dt.date):
        raise SampleConfigError(f"until={until!r} is not a day; give a datetime.date.")
    if until > today:
        raise SampleConfigError(
            f"The campaign cannot run until {until}, after today ({today}); "
            "give today or an earlier day."
        )
    if until < end:
        raise SampleConfigError(
            f"The campaign cannot end on {until}: the latest wave, launched on "
            f"{latest_launch}, needs until {end} at least (the last day of the sixth month "
            "after its launch); give a later day or launch the wave earlier."
        )
    return until


def _objects_per_wave(waves: list[dict], objects: int | Sequence[int] | None) -> list[int]:
    configured = [w["objects"] for w in waves]
    if objects is None:
        return configured
    if isinstance(objects, int) and not isinstance(objects, bool):
        if objects < len(waves):
            raise SampleConfigError(
                f"objects={objects} is fewer than the {len(waves)} waves; "
                "every wave needs an object."
            )
        extra = _largest_remainder(objects - len(waves), np.array(configured, dtype=float))
        return [1 + int(e) for e in extra]
    counts = list(objects)
    if len(counts) != len(waves) or any(not isinstance(c, int) or c < 1 for c in counts):
        raise SampleConfigError(
            "objects must be a total or one whole number >= 1 per wave "
            f"({len(waves)} waves); got {objects!r}."
        )
    return counts


def _largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """Split ``total`` into integers proportional to ``weights`` (ties to the earlier one)."""
    exact = total * weights / weights.sum()
    floor = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - floor), kind="stable")
    floor[order[: total - int(floor.sum())]] += 1
    return floor

