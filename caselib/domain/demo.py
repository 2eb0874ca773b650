"""Build the demo database: the synthetic campaign, loaded through the real loader."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from caselib.domain.ingest import LoadResult, load_file
from caselib.domain.sample import generate_campaign, load_wave_config
from caselib.domain.status import database_status
from caselib.errors import DemoRefused
from caselib.store import Store

__all__ = ["DemoResult", "build_demo"]


@dataclass
class DemoResult:
    """The database built, the files it was built from, the loads, and any backup made."""

    db_path: Path
    files_dir: Path
    loads: list[LoadResult]
    backup: Path | None


def _contents(path: Path) -> str:
    if not path.exists():
        return "empty"
    with Store(path, read_only=True) as store:
        return database_status(store, recent=0)["contents"]


def build_demo(
    db_path: str | os.PathLike[str],
    *,
    tips: int = 28_000,
    seed: int = 2017,
    waves_config: str | os.PathLike[str] | None = None,
    force: bool = False,
    progress: bool | None = None,
    files_dir: str | os.PathLike[str] | None = None,
) -> DemoResult:
    """Generate the synthetic campaign and load it into a new database at ``db_path``.

    The database is built beside the target and moved into place only when every load
    has committed, so an interrupted build never leaves a half-written database. An
    existing demo database is replaced; one holding analyst data is refused unless
    ``force``, and then kept as ``<name>.bak-<UTC time>``.
    """
    db_path = Path(db_path).expanduser().resolve()
    contents = _contents(db_path)
    if contents == "analyst" and not force:
        raise DemoRefused(
            f"{db_path} holds loaded (non-demo) data; the demo would replace it. Use --force "
            "to replace it (a backup is kept) or --db to build the demo elsewhere"
        )
    waves = load_wave_config(waves_config) if waves_config else None
    files_dir = Path(files_dir) if files_dir else db_path.parent / "demo"
    campaign = generate_campaign(files_dir, tips=tips, seed=seed, waves=waves)

    building = db_path.with_name(db_path.name + ".building")
    for leftover in (building, building.with_name(building.name + ".wal")):
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
            store.execute(
                "INSERT OR REPLACE INTO meta VALUES ('contents', 'demo'), "
                "('demo_seed', $seed), ('demo_tips', $tips)",
                {"seed": str(seed), "tips": str(tips)},
            )
            store.checkpoint()
    except BaseException:
        for leftover in (building, building.with_name(building.name + ".wal")):
            leftover.unlink(missing_ok=True)
        raise
    backup = None
    if contents == "analyst":
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        backup = db_path.with_name(f"{db_path.name}.bak-{stamp}")
        os.replace(db_path, backup)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(db_path.with_name(db_path.name + ".wal"))
    os.replace(building, db_path)
    return DemoResult(db_path, files_dir, loads, backup)
