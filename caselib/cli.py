"""The `caselib` command: a thin layer that parses arguments and calls the library."""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
from pathlib import Path

import click

from caselib.config import default_db_path
from caselib.errors import CaselibError
from caselib.presentation.export import safe_csv

__all__ = ["cli"]


# Characters that would drive the terminal or forge a line if data printed them raw: C0
# and C1 controls (ESC starts escape sequences, CSI is one by itself), line and paragraph
# separators, and the bidirectional controls that reorder what a line appears to say.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _shown(value) -> str:
    """``value`` as text safe to print: each unsafe character as its escape (``\\x1b``, ``\\n``)."""
    def escape(match: re.Match) -> str:
        char = match.group()
        return _NAMED.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")

    return _UNSAFE.sub(escape, str(value))


def _shown_json(text: str) -> str:
    """JSON text with every unsafe character in its strings written as ``\\uXXXX``: the same
    data, safe to print (JSON escapes the C0 controls itself; raw line breaks are layout)."""
    return _UNSAFE.sub(lambda match: match.group() if match.group() in "\n\r\t" else f"\\u{ord(match.group()):04x}", text)


def _shown_csv(text: str) -> str:
    """CSV as written to a file or pipe; escaped only when it goes to a terminal."""
    return _shown_lines(text) if sys.stdout.isatty() else text


def _shown_lines(text: str) -> str:
    """Several lines of our own, each escaped (a summary's lines stay lines)."""
    return "\n".join(_shown(line) for line in text.split("\n"))


class _Group(click.Group):
    """Prints user errors as one line and bugs as one line (exit 3), no traceback; each
    error's class gives the exit status (:mod:`caselib.errors`)."""

    def invoke(self, ctx: click.Context):
        try:
            result = super().invoke(ctx)
            sys.stdout.flush()  # a closed pipe found here, not at exit beyond our reach
            return result
        except BrokenPipeError:
            _closed_pipe()
        except CaselibError as error:
            _say(f"caselib: error: {_shown(error)}")
            sys.exit(error.exit_code)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except KeyboardInterrupt:
            _say("caselib: interrupted; nothing was changed by the unfinished step")
            sys.exit(130)
        except Exception as error:  # a bug: still one line, the traceback only on request
            if ctx.obj and ctx.obj.get("debug"):
                raise
            first = str(error).strip().splitlines()[0] if str(error).strip() else ""
            _say(f"caselib: internal error: {type(error).__name__}: {_shown(first)} (run with --debug for the traceback)")
            sys.exit(3)


# The exit status of a command whose reader stopped reading (`caselib rejected | head -1`):
# 128 + SIGPIPE, what a Unix tool killed by the signal gives, so `set -o pipefail` still
# tells a cut-short listing from a whole one.
EXIT_CLOSED_PIPE = 141


def _say(line: str) -> None:
    """One line on stderr; a closed stderr (`2>&1 | head -1`) does not turn it into a traceback."""
    with contextlib.suppress(BrokenPipeError):
        click.echo(line, err=True)


def _closed_pipe() -> None:
    """Stop quietly: nothing more can reach the reader, and nothing is wrong with the data."""
    # Python flushes stdout once more at exit; pointed at /dev/null that flush cannot fail.
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    sys.exit(EXIT_CLOSED_PIPE)


@click.group(cls=_Group)
@click.option(
    "--db",
    type=click.Path(path_type=Path),  # a folder or a foreign file: the Store says so in one line
    default=None,
    help="Database file (default: $CASELIB_DB, else data/caselib.duckdb).",
)
@click.option("--shared", metavar="URL", default=None,
              help="A team's shared store (postgresql://…); default $CASELIB_SHARED_URL.")
@click.option("--debug", is_flag=True, hidden=True, help="Show tracebacks of internal errors.")
@click.version_option(package_name="caselib")
@click.pass_context
def cli(ctx: click.Context, db: Path | None, shared: str | None, debug: bool) -> None:
    """Trace-an-Object case workbench: load and inspect a campaign database."""
    # The shared URL is resolved by the commands that use it: a malformed one in the
    # environment does not stop `caselib status` reading the copy.
    ctx.obj = {"db": db or default_db_path(), "debug": debug, "shared": shared}


def _store(ctx: click.Context, *, read_only: bool = False):
    from caselib.store import Store

    return Store(ctx.obj["db"], read_only=read_only)


# -- team mode: a shared store on PostgreSQL (caselib.store.shared), the --db file its copy --------


def _shared_url(ctx: click.Context) -> str | None:
    """The team's shared store (``--shared``, else ``$CASELIB_SHARED_URL``); None: local work."""
    from caselib.store.shared import shared_url

    return shared_url(ctx.obj["shared"])


def _connect(ctx: click.Context, url: str | None = None, *, command: str):
    """The shared store, opened; ``command`` names what needs it when no URL is given."""
    from caselib.store.shared import connect

    url = url or _shared_url(ctx)
    if url is None:
        raise CaselibError(f"caselib {command} needs a team's shared store: give --shared URL or set CASELIB_SHARED_URL")
    return connect(url)


def _no_by(by: str | None, shared) -> None:
    if by is not None:
        raise CaselibError(f"in team mode the decider is the logged-in user ({shared.user}); drop --by")


@contextlib.contextmanager
def _allowed(shared, doing: str, role: str):
    """The server's refusal of a write to the user's role, said with the role it takes."""
    from caselib.store.shared import NotAllowed

    try:
        yield
    except NotAllowed as error:
        held = shared.roles()
        raise NotAllowed(f"{shared.user} ({held[-1] if held else 'no caselib role'}) may not {doing}: "
                         f"that takes the {role} role ({error})") from None


def _synced(store, shared) -> str:
    """Bring the copy up to the shared store; the line saying what came."""
    from caselib.store.shared.sync import sync

    return f"Copy {store.path.name}: {sync(store, shared).summary()}"


@contextlib.contextmanager
def _told(store, shared):
    """A conflict leaves the copy showing what the other analyst decided."""
    from caselib.store.shared import Conflict

    try:
        yield
    except Conflict as error:
        try:
            _synced(store, shared)
        except CaselibError:
            raise error from None
        raise Conflict(f"{error}; your copy is synced and shows it") from None


def _seen_copy(store, shared, url: str) -> None:
    """The copy whose rows say what the analyst saw: this store's copy (never a campaign of
    its own), synced once when it never was (it has shown nothing yet)."""
    from caselib.store.shared.sync import check_copy, copy_rev, sync

    check_copy(store, shared.store_id(), url)
    if copy_rev(store) == 0:
        sync(store, shared)


@cli.command()
@click.argument("kind", type=click.Choice(["waves", "objects", "tips"]))
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--mapping", type=click.Path(path_type=Path), help="Mapping file (TOML or YAML) for a foreign export.")
@click.option("--pseudonymize", is_flag=True, help="Keep a keyed pseudonym of contact columns instead of dropping them.")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a terminal, for loads over a second).")
@click.option("--refresh/--no-refresh", default=True, show_default=True,
              help="After a tips load, work out near-duplicate clusters, languages and names of the new tips.")
@click.pass_context
def load(ctx, kind: str, file: Path, mapping: Path | None, pseudonymize: bool, progress: bool | None,
         refresh: bool) -> None:
    """Load a waves, objects or tips FILE (CSV, XLSX, JSON Lines, JSON, Parquet)."""
    from caselib.domain.ingest import check_request, load_file

    # What can be refused without the database is refused before it is opened, so a refused
    # load into a new path leaves no empty database behind.
    _, _, parsed = check_request(kind, file, mapping)
    url = _shared_url(ctx)
    if url is not None:  # an administrator's load, made in their copy and sent in the server's transaction
        from caselib.domain.team import load as shared_load

        with _connect(ctx, url, command="load") as shared, _store(ctx) as store:
            result, lines = shared_load(store, shared, kind, file, refresh=refresh, mapping=parsed,
                                        pseudonymize=pseudonymize, progress=progress)
        click.echo(_shown_lines(result.summary()))
        for line in lines:
            click.echo(_shown(f"  {line}"))
        return
    with _store(ctx) as store:
        result = load_file(store, kind, file, mapping=parsed, pseudonymize=pseudonymize, progress=progress)
        click.echo(_shown_lines(result.summary()))
        if kind == "tips" and refresh:
            from caselib.domain.enrich import refresh_all

            for line in refresh_all(store):
                click.echo(_shown(f"  {line}"))


@cli.command()
@click.option("--only", "steps", multiple=True, type=click.Choice(["clusters", "languages", "names"]),
              help="Only this refresh (repeatable; default: all three).")
@click.pass_context
def refresh(ctx, steps) -> None:
    """Work out what loads left to do: near-duplicate clusters, detected languages and the
    names tips give, for the tips not seen yet (each its own transaction)."""
    from caselib.domain.enrich import STEPS, refresh_all

    url = _shared_url(ctx)
    if url is not None:  # an administrator's write: the copy's refresh sent to the server
        from caselib.store.shared.push import admin_write

        with _connect(ctx, url, command="refresh") as shared, _store(ctx) as store:
            with admin_write(store, shared, what="refresh clusters, languages and names"):
                lines = refresh_all(store, steps or STEPS)
        for line in lines:
            click.echo(_shown(line))
        return
    with _store(ctx) as store:
        for line in refresh_all(store, steps or STEPS):
            click.echo(_shown(line))


@cli.command()
@click.option("--object", "object_id", help="Only the tips of this object.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.pass_context
def clusters(ctx, object_id: str | None, fmt: str) -> None:
    """Near-duplicate clusters: one row per clustered tip (tip_id, object_id, cluster_id,
    score, state)."""
    from caselib.domain.clusters import clusters as cluster_rows
    from caselib.store.clusters import compared_count

    with _store(ctx, read_only=True) as store:
        frame = cluster_rows(store, object_id)
        waiting = int(store.scalar("SELECT count(*) FROM tips")) - compared_count(store)
    frame = frame[["tip_id", "object_id", "cluster_id", "score", "state"]]
    if fmt == "csv":
        click.echo(_shown_csv(safe_csv(frame)), nl=False)
    elif fmt == "json":
        click.echo(_shown_json(frame.to_json(orient="records", indent=2, force_ascii=False)))
    else:
        for row in frame.itertuples(index=False):
            click.echo(_shown(f"{row.cluster_id:<14} {row.tip_id:<14} {row.object_id:<8} {row.score:.2f} {row.state}"))
        count = frame["cluster_id"].nunique()
        click.echo(f"{len(frame)} tips in {count} cluster{'s' if count != 1 else ''}")
    if waiting > 0:
        click.echo(f"{waiting:,} tips not compared yet: caselib refresh", err=True)


@cli.command()
@click.argument("cluster_id")
@click.option("--confirm", "state", flag_value="confirmed", help="Its tips are copies: they count once.")
@click.option("--reject", "state", flag_value="rejected", help="Split it: its tips are not copies.")
@click.option("--remove", "remove_tip", help="Take this tip out of the cluster (for good).")
@click.option("--reason", required=True, help="Why (kept in the audit).")
@click.option("--by", help="Who decides (default: the login name).")
@click.pass_context
def cluster(ctx, cluster_id: str, state: str | None, remove_tip: str | None, reason: str, by: str | None) -> None:
    """Decide on a near-duplicate cluster: --confirm, --reject, or --remove TIP_ID."""
    from caselib.domain.clusters import decide_cluster, remove_from_cluster

    if (state is None) == (remove_tip is None):
        raise CaselibError("give one of --confirm, --reject or --remove TIP_ID")
    url = _shared_url(ctx)
    if url is not None:
        _team_cluster(ctx, url, cluster_id, state, remove_tip, reason, by)
        return
    with _store(ctx) as store:
        if remove_tip is not None:
            from caselib.store.clusters import tip_cluster

            if tip_cluster(store, remove_tip) != cluster_id:
                raise CaselibError(f"tip {remove_tip} is not in cluster {cluster_id}")
            record = remove_from_cluster(store, remove_tip, reason=reason, by=by)
            done = f"Took {remove_tip} out of {cluster_id}"
        else:
            record = decide_cluster(store, cluster_id, state, reason=reason, by=by)
            done = f"Cluster {cluster_id} {state}"
    click.echo(_shown(f"{done}; audit record {record.seq} by {record.actor}"))


def _team_cluster(ctx, url: str, cluster_id: str, state: str | None, remove_tip: str | None, reason: str,
                  by: str | None) -> None:
    """`caselib cluster` on the shared store: the decision is the logged-in analyst's."""
    from caselib.domain import team as decisions
    from caselib.store.clusters import tip_cluster

    with _connect(ctx, url, command="cluster") as shared:
        _no_by(by, shared)
        with _store(ctx) as store, _told(store, shared), _allowed(shared, "decide on clusters", "analyst"):
            _seen_copy(store, shared, url)
            if remove_tip is not None:
                if tip_cluster(store, remove_tip) != cluster_id:
                    raise CaselibError(f"tip {remove_tip} is not in cluster {cluster_id}")
                record = decisions.remove_from_cluster(store, shared, remove_tip, reason=reason)
                done = f"Took {remove_tip} out of {cluster_id}"
            else:
                record = decisions.decide_cluster(store, shared, cluster_id, state, reason=reason)
                done = f"Cluster {cluster_id} {state}"
            click.echo(_shown(f"{done}; audit record {record.seq} by {record.actor}"))
            click.echo(_shown(_synced(store, shared)))


@cli.command()
@click.option("--tips", type=click.IntRange(min=100), default=28_000, show_default=True, help="Number of tips to generate.")
@click.option("--seed", type=int, default=2017, show_default=True, help="Random seed.")
@click.option("--waves-config", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="TOML file of waves (default: the 2017-2023 demo waves).")
@click.option("--until", default="today", show_default=True, help="The campaign's last day, YYYY-MM-DD or 'today' (UTC); tips run up to it.")
@click.option("--force", is_flag=True, help="Replace a database holding non-demo data (a backup is kept).")
@click.option("--if-missing", is_flag=True, help="Do nothing when the database already exists.")
@click.option("--progress/--no-progress", default=None, help="Progress bars for long loads.")
@click.option("--refresh/--no-refresh", default=True, show_default=True,
              help="Work out the tips' clusters, languages and names (else later, with caselib refresh).")
@click.pass_context
def demo(ctx, tips: int, seed: int, waves_config: Path | None, until: str, force: bool, if_missing: bool,
         progress: bool | None, refresh: bool) -> None:
    """Generate the synthetic campaign, running up to today, and load it through the real loader."""
    from caselib.domain.demo import build_demo
    from caselib.domain.rules import today_utc

    url = _shared_url(ctx)
    if url is not None:
        # `make lab` and `make dashboard` run `caselib demo --if-missing`: in team mode the
        # campaign is the team's, so the copy is made (or brought up to date) instead.
        if not if_missing:
            raise CaselibError("caselib demo builds a local database of its own; in team mode the campaign comes "
                               "from the shared store (drop --shared and unset CASELIB_SHARED_URL to build a demo)")
        with _connect(ctx, url, command="demo") as shared, _store(ctx) as store:
            click.echo(_shown(_synced(store, shared)))
        return
    if if_missing and Path(ctx.obj["db"]).exists():
        click.echo(f"Database {_shown(ctx.obj['db'])} exists; not building the demo.")
        return

    last_day = today_utc() if until == "today" else _date(until, "--until")
    result = build_demo(ctx.obj["db"], tips=tips, seed=seed, waves_config=waves_config, force=force, progress=progress,
                        until=last_day, enrich=refresh)
    for load_result in result.loads:
        click.echo(_shown_lines(load_result.summary()))
    for line in result.enriched:
        click.echo(_shown(line))
    if result.backup:
        click.echo(f"The previous database was kept as {_shown(result.backup)}")
    click.echo(f"Demo database (synthetic data) ready at {_shown(result.db_path)}")


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--as-of", help="Also the objects as of this day, YYYY-MM-DD, or 'today' (UTC).")
@click.pass_context
def status(ctx, fmt: str, as_of: str | None) -> None:
    """What the database holds and the most recent loads."""
    from caselib.domain.status import database_status

    with _store(ctx, read_only=True) as store:
        info = database_status(store, as_of=as_of if as_of in (None, "today") else _date(as_of))
    if fmt == "json":
        click.echo(_shown_json(json.dumps(info, indent=2, default=str)))
        return
    click.echo(f"Database: {_shown(info['database'])} (schema {info['schema_version']}, {info['contents']} data)")
    for key in ("waves", "objects", "tips", "rejected_rows", "triage_changes", "loads"):
        click.echo(f"  {key.replace('_', ' '):<15}{info[key]:>12,}")
    if "campaign" in info:
        objects = info["campaign"]["objects"]
        click.echo(f"As of {info['campaign']['as_of']} (UTC):")
        for key in ("published", "open", "ready", "closed", "identified"):
            label = {"ready": "ready for closure", "closed": "closed or withdrawn"}.get(key, key)
            click.echo(f"  objects {label:<22}{objects[key]:>8,}")
        click.echo(f"  tips received{info['campaign']['tips']:>25,}")
    if info["recent_loads"]:
        click.echo("Recent loads:")
        for row in info["recent_loads"]:
            click.echo(
                f"  #{row['batch_id']:<4} {row['started_at']}  {row['kind']:<7} {_shown(row['file_name'])}  "
                f"read {row['rows_read']} = +{row['inserted']} ~{row['updated']} "
                f"={row['unchanged']} x{row['rejected']}  ({_shown(row['origin'])}, {_shown(row['loaded_by'])})"
            )


@cli.command()
@click.option("--batch", type=int, default=None, help="Only the rows rejected by this load batch.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many rows.")
@click.pass_context
def rejected(ctx, batch: int | None, fmt: str, limit: int | None) -> None:
    """The quarantine: rows that were not loaded, with the reason for each."""
    import pandas as pd

    from caselib.domain.status import rejected_rows

    with _store(ctx, read_only=True) as store:
        frame = rejected_rows(store, batch=batch, limit=limit)
    if fmt == "csv":
        click.echo(_shown_csv(safe_csv(frame)), nl=False)
    elif fmt == "json":
        click.echo(_shown_json(frame.to_json(orient="records", indent=2, force_ascii=False)))
    elif frame.empty:
        click.echo("No rejected rows." if batch is None else f"No rejected rows in batch {batch}.")
    else:
        for row in frame.itertuples(index=False):
            where = f"line {row.line_no}" if pd.isna(row.record_no) else f"record {row.record_no}"
            click.echo(f"batch {row.batch_id} {row.kind} {_shown(row.file_name)} {where}: {_shown(row.reason)}")
            if isinstance(row.raw_record, str):
                click.echo(f"    {_shown(row.raw_record[:200])}")
        click.echo(f"{len(frame)} rejected rows")


def _date(value: str | None, option: str = "--as-of"):
    import datetime as dt

    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        # a CaselibError, not click.BadParameter: that prints the usage too, not one line
        raise CaselibError(f"{option} {value!r} is not a date; write it as YYYY-MM-DD") from None


@cli.command()
@click.option("--as-of", help="Evaluate as of this day, YYYY-MM-DD (default: today, UTC).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.option("--ready-only", is_flag=True, help="Only the objects ready for closure.")
@click.option("--rules", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="TOML file of thresholds ([closure] table).")
@click.option("--min-countable", type=click.IntRange(min=0), help="Rule 4: countable tips needed (default 5).")
@click.option("--min-share", type=click.FloatRange(0, 1), help="Rule 4: share of the leading country needed (default 0.6).")
@click.option("--min-reporter-countries", type=click.IntRange(min=0), help="Rule 4: reporter countries needed (default 3).")
@click.option("--wide-min-countable", type=click.IntRange(min=0), help="Rule 5: countable tips needed (default 20).")
@click.option("--wide-min-countries", type=click.IntRange(min=0), help="Rule 5: suggested countries needed (default 5).")
@click.option("--wide-max-share", type=click.FloatRange(0, 1), help="Rule 5: leading share below which it is widely distributed (default 0.3).")
@click.option("--quiet-days", type=click.IntRange(min=0), help="Rule 6: days without a tip (default 180).")
@click.option("--min-age-days", type=click.IntRange(min=0), help="Rule 6: days since publication (default 365).")
@click.pass_context
def flags(ctx, as_of, fmt, ready_only, rules, **thresholds) -> None:
    """Closure flags: which objects are ready to close, with reasons and figures."""
    from caselib.domain.closure import ClosureRules, closure_flags, outcome_label, read_rules

    base = read_rules(rules) if rules else ClosureRules()
    with _store(ctx, read_only=True) as store:
        frame = closure_flags(store, as_of=_date(as_of), rules=base.with_overrides(**thresholds), ready_only=ready_only)
    if fmt == "csv":
        click.echo(_shown_csv(safe_csv(frame.assign(ready=frame["ready"].map({True: "true", False: "false"})))), nl=False)
    elif fmt == "json":
        # last_tip_on is a day; pandas would write it as a midnight timestamp
        days = [d.isoformat() if hasattr(d, "isoformat") else None for d in frame["last_tip_on"]]
        click.echo(_shown_json(frame.assign(last_tip_on=days).to_json(orient="records", indent=2, force_ascii=False)))
    elif frame.empty:
        click.echo("No objects ready for closure." if ready_only else "No objects.")
    else:
        for row in frame.itertuples(index=False):
            mark = "READY" if row.ready else "     "
            origin = f" -> {_shown(row.origin_country)}" if isinstance(row.origin_country, str) else ""
            # In words here; the codes are in --format csv and json.
            click.echo(f"{mark} {_shown(row.object_id):<8} {outcome_label(row.outcome)}{origin}: {_shown(row.reasons)}")
        click.echo(f"{int(frame['ready'].sum())} of {len(frame)} objects ready for closure")


@cli.command()
@click.argument("object_id")
@click.option("--outcome", required=True, type=click.Choice(["origin_established", "widely_distributed", "exhausted", "withdrawn"]))
@click.option("--reason", required=True, help="Why the object is closed (kept in the audit).")
@click.option("--by", help="Who decides (default: the login name).")
@click.pass_context
def close(ctx, object_id: str, outcome: str, reason: str, by: str | None) -> None:
    """Close OBJECT_ID with an outcome and a reason, recorded in the audit chain."""
    from caselib.domain.audit import close_object

    done = f"Closed {_shown(object_id)} ({outcome})"
    url = _shared_url(ctx)
    if url is not None:
        from caselib.domain import team as decisions

        _team_object(ctx, url, by, "close objects", "reviewer", done,
                     lambda store, shared: decisions.close_object(store, shared, object_id, outcome=outcome, reason=reason))
        return
    with _store(ctx) as store:
        record = close_object(store, object_id, outcome=outcome, reason=reason, by=by)
    click.echo(f"{done}; audit record {record.seq} by {_shown(record.actor)}")


def _team_object(ctx, url: str, by: str | None, doing: str, role: str, done: str, decide) -> None:
    """A closure decision on the shared store by the logged-in user (``decide(copy, shared)``
    returns its audit record), then the copy brought up to date."""
    with _connect(ctx, url, command=ctx.info_name) as shared:
        _no_by(by, shared)
        with _store(ctx) as store:
            with _allowed(shared, doing, role):
                record = decide(store, shared)
            click.echo(f"{done}; audit record {record.seq} by {_shown(record.actor)}")
            click.echo(_shown(_synced(store, shared)))


@cli.command()
@click.argument("object_id")
@click.option("--reason", required=True, help="Why the object is reopened (kept in the audit).")
@click.option("--by", help="Who decides (default: the login name).")
@click.pass_context
def reopen(ctx, object_id: str, reason: str, by: str | None) -> None:
    """Reopen a closed OBJECT_ID, recorded in the audit chain."""
    from caselib.domain.audit import reopen_object

    url = _shared_url(ctx)
    if url is not None:
        from caselib.domain import team as decisions

        _team_object(ctx, url, by, "reopen objects", "reviewer", f"Reopened {_shown(object_id)}",
                     lambda store, shared: decisions.reopen_object(store, shared, object_id, reason=reason))
        return
    with _store(ctx) as store:
        record = reopen_object(store, object_id, reason=reason, by=by)
    click.echo(f"Reopened {_shown(object_id)}; audit record {record.seq} by {_shown(record.actor)}")


@cli.command("keep-open")
@click.argument("object_id")
@click.option("--reason", required=True, help="Why the object stays open (kept in the audit).")
@click.option("--by", help="Who decides (default: the login name).")
@click.pass_context
def keep_open(ctx, object_id: str, reason: str, by: str | None) -> None:
    """Record that OBJECT_ID was reviewed and stays open (its flag at that moment kept in the
    audit chain); the object's status does not change."""
    from caselib.domain import audit

    url = _shared_url(ctx)
    if url is not None:
        from caselib.domain import team as decisions

        _team_object(ctx, url, by, "keep objects open", "analyst", f"Kept {_shown(object_id)} open",
                     lambda store, shared: decisions.keep_open(store, shared, object_id, reason=reason))
        return
    with _store(ctx) as store:
        record = audit.keep_open(store, object_id, reason=reason, by=by)
    click.echo(f"Kept {_shown(object_id)} open; audit record {record.seq} by {_shown(record.actor)}")


@cli.command()
@click.argument("tip_ids", nargs=-1)
@click.option("--status", required=True, type=click.Choice(
    ["new", "under_review", "actionable", "not_actionable", "duplicate", "off_topic", "forwarded"]))
@click.option("--forwarded-to", help="With --status forwarded: the country the tips went to (e.g. PRT).")
@click.option("--reason", required=True, help="Why (kept in the triage history and the audit).")
@click.option("--by", help="Who decides (default: the login name).")
@click.option("--filter", "filter_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A saved filter (TOML of filter fields: objects, triage, wave, ...): the tips it chooses.")
@click.option("--cluster", "cluster_ids", multiple=True, help="Every tip of this near-duplicate cluster (repeatable).")
@click.pass_context
def triage(ctx, tip_ids, status: str, forwarded_to: str | None, reason: str, by: str | None,
           filter_file: Path | None, cluster_ids) -> None:
    """Triage TIP_IDS (and/or the tips a saved filter chooses): a status, with who and why,
    in the triage history and the audit. Re-exports of the intake system never overwrite it."""
    from caselib.domain import triage as decisions

    url = _shared_url(ctx)
    if url is not None:
        _team_triage(ctx, url, tip_ids, status, forwarded_to, reason, by, filter_file, cluster_ids)
        return
    with _store(ctx) as store:
        chosen = _chosen_tips(store, tip_ids, filter_file, cluster_ids)
        done = decisions.decide(store, chosen, status=status, forwarded_to=forwarded_to, reason=reason, by=by)
    click.echo(_shown(done.summary()))


def _chosen_tips(store, tip_ids, filter_file: Path | None, cluster_ids) -> list[str]:
    """The tips named, those the saved filter chooses, and the clusters' members."""
    from caselib.domain import triage as decisions

    chosen = list(tip_ids)
    if filter_file is not None:
        chosen += decisions.filtered_tips(store, decisions.read_filter(filter_file))
    if cluster_ids:
        from caselib.store.clusters import member_tip_ids

        for cluster_id in cluster_ids:
            members = member_tip_ids(store, cluster_id)
            if not members:
                raise CaselibError(f"there is no cluster {cluster_id!r}")
            chosen += members
    return chosen


def _team_triage(ctx, url: str, tip_ids, status: str, forwarded_to: str | None, reason: str, by: str | None,
                 filter_file: Path | None, cluster_ids) -> None:
    """`caselib triage` on the shared store: the tips chosen in the copy, decided by the
    logged-in analyst with what their copy shows of them (a tip decided since is a conflict,
    nothing written), then the copy brought up to date."""
    from caselib.domain import team as decisions
    from caselib.store.triage import tip_states

    with _connect(ctx, url, command="triage") as shared:
        _no_by(by, shared)
        with _store(ctx) as store:
            _seen_copy(store, shared, url)
            chosen = _chosen_tips(store, tip_ids, filter_file, cluster_ids)
            seen = {tip: (state, country) for tip, _, state, country, _ in tip_states(store, chosen)}
            # the status `forwarded` is a reviewer's (the server's row-level security says so)
            doing, role = ("mark tips forwarded", "reviewer") if status == "forwarded" else ("triage tips", "analyst")
            with _told(store, shared), _allowed(shared, doing, role):
                done = decisions.decide(shared, chosen, status=status, forwarded_to=forwarded_to, reason=reason,
                                        expected=seen)
            click.echo(_shown(done.summary()))
            click.echo(_shown(_synced(store, shared)))


@cli.command()
@click.option("--country", required=True, help="The country whose police receive the package (e.g. PRT, Portugal).")
@click.option("--object", "object_id", help="Only the tips of this object.")
@click.option("--source", type=click.Choice(["A", "B", "C", "X"]), default="X", show_default=True,
              help="Source grading (X: cannot be judged, an anonymous tipster).")
@click.option("--information", type=click.Choice(["1", "2", "3", "4"]), default="4", show_default=True,
              help="Information grading (4: cannot be judged).")
@click.option("--handling", type=click.Choice(["H0", "H1", "H2", "H3"]), default="H0", show_default=True,
              help="Handling code.")
@click.option("--by", help="Who forwards (default: the login name).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path), help="FILE.zip")
@click.pass_context
def forward(ctx, country: str, object_id: str | None, source: str, information: str, handling: str,
            by: str | None, output: Path) -> None:
    """Write a forwarding package for one country's police (the actionable tips suggesting it,
    not yet forwarded to it) and mark those tips forwarded."""
    from caselib.domain.forwarding import codes as grading
    from caselib.presentation.forwarding import write_package

    chosen = grading(source, information, handling)
    url = _shared_url(ctx)
    if url is not None:
        from caselib.presentation.forwarding import write_shared_package as write_shared

        with _connect(ctx, url, command="forward") as shared:
            _no_by(by, shared)
            with _store(ctx) as store:
                with _told(store, shared), _allowed(shared, "forward tips", "reviewer"):
                    package = write_shared(store, shared, country, output, object_id=object_id, codes=chosen)
                click.echo(_shown(package.summary()))
                click.echo(_shown(_synced(store, shared)))
        return
    with _store(ctx) as store:
        package = write_package(store, country, output, object_id=object_id, codes=chosen, by=by)
    click.echo(_shown(package.summary()))


@cli.command("triage-history")
@click.option("--tip", "tips", multiple=True, help="Only this tip (repeatable).")
@click.option("--disagreements", is_flag=True, help="Only re-exports that disagreed with an analyst's decision.")
@click.option("--analyst", is_flag=True, help="Only analysts' decisions.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many rows (newest first).")
@click.pass_context
def triage_history(ctx, tips, disagreements: bool, analyst: bool, fmt: str, limit: int | None) -> None:
    """The triage history, newest first: loads' changes, analysts' decisions, disagreements."""
    import pandas as pd

    from caselib.store.triage import triage_history as history

    if disagreements and analyst:
        raise CaselibError("--disagreements and --analyst exclude each other")
    source = "intake_disagrees" if disagreements else "analyst" if analyst else None
    with _store(ctx, read_only=True) as store:
        rows = history(store, tip_ids=list(tips) or None, source=source, limit=limit)
    frame = pd.DataFrame(rows, columns=["tip_id", "changed_at", "source", "old_triage_status", "new_triage_status",
                                        "old_forwarded_to", "new_forwarded_to", "decided_by", "reason", "batch_id", "audit_seq"])
    if fmt == "csv":
        click.echo(_shown_csv(safe_csv(frame)), nl=False)
    elif fmt == "json":
        click.echo(_shown_json(frame.to_json(orient="records", indent=2, force_ascii=False, date_format="iso")))
    elif frame.empty:
        click.echo("No triage changes.")
    else:
        for row in rows:
            who = f"{row['decided_by']}: {row['reason']}" if row["source"] == "analyst" else f"batch {row['batch_id']}"
            click.echo(_shown(
                f"{row['changed_at']:%Y-%m-%d %H:%M} {row['tip_id']} {row['old_triage_status']} -> "
                f"{row['new_triage_status']}" + (f" ({row['new_forwarded_to']})" if row["new_forwarded_to"] else "")
                + f"  [{row['source']}] {who}"
            ))
        click.echo(f"{len(rows)} changes")


@cli.group()
def audit() -> None:
    """The tamper-evident audit of decisions and triage changes."""


@audit.command()
@click.pass_context
def verify(ctx) -> None:
    """Check the audit chain; report the first record edited, removed or reordered."""
    from caselib.domain.audit import verify as verify_chain
    from caselib.errors import SchemaAltered

    try:
        store = _store(ctx.parent, read_only=True)
    except SchemaAltered as error:  # a dropped audit table stops the opening already
        click.echo(f"caselib: audit chain broken: {_shown(error)}", err=True)
        sys.exit(4)
    with store:
        result = verify_chain(store)
    if result.ok:
        click.echo(f"Audit chain intact: {result.records} records; head {result.head}")
        click.echo("Note the head hash outside the database: removing the newest records cannot be detected otherwise.")
        return
    click.echo(f"caselib: audit chain broken: {_shown(result.problem)}", err=True)
    sys.exit(4)


@cli.command()
@click.option("--as-of", help="Report as of this day, YYYY-MM-DD (default: today, UTC).")
@click.option("--wave", help="Focus the maps and tip counts on this wave (its id, e.g. 2021-03).")
@click.option("-k", "k", type=click.IntRange(min=2), default=5, show_default=True, help="Hide tip counts below k.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="FILE.html (self-contained) or FILE.pdf (printed by headless Chromium).")
@click.option("--paper", type=click.Choice(["a4", "letter"]), default="a4", show_default=True,
              help="Paper size the PDF is printed on (and the HTML when printed from a browser).")
@click.pass_context
def report(ctx, as_of: str | None, wave: str | None, k: int, output: Path, paper: str) -> None:
    """Write the campaign report for management (no tip text, small counts hidden)."""
    from caselib.extras import require

    require("report", "the report")
    from caselib.presentation.report import build_report

    with _store(ctx, read_only=True) as store:
        built = build_report(store, as_of=_date(as_of), wave=wave, k=k)
    path = built.write(output, paper=paper)
    click.echo(f"Report written to {_shown(path)} ({path.stat().st_size / 1e6:.1f} MB, {built.figures} figures)")


# -- team mode's own commands -------------------------------------------------------------------


@cli.command()
@click.pass_context
def sync(ctx) -> None:
    """Bring the --db copy up to the team's shared store: only what changed since the last
    sync, in one transaction (the copy is made when missing)."""
    with _connect(ctx, command="sync") as shared, _store(ctx) as store:
        click.echo(_shown(_synced(store, shared)))


@cli.command()
@click.argument("tip_ids", nargs=-1, required=True)
@click.option("--minutes", type=click.IntRange(min=1, max=24 * 60), default=30, show_default=True,
              help="How long the claim holds unless renewed.")
@click.pass_context
def claim(ctx, tip_ids, minutes: int) -> None:
    """Claim TIP_IDS for your review ("in review by …"): other analysts' decisions on them are
    refused until you decide, release them, or the claim lapses. Team mode only."""
    from caselib.domain import team as decisions

    with _connect(ctx, command="claim") as shared, _allowed(shared, "claim tips", "analyst"):
        taken, held = decisions.claim(shared, tip_ids, minutes=minutes)
    if taken:
        click.echo(_shown(f"Claimed {len(taken)} tip{'s' if len(taken) != 1 else ''} for {minutes} minutes: "
                          + ", ".join(taken)))
    for tip_id, by, at in held:
        click.echo(_shown(f"{tip_id}: in review by {by} since {decisions.when_text(at)}"))
    if not taken:
        click.echo("No tips claimed: each is in review by another analyst.")


@cli.command()
@click.argument("tip_ids", nargs=-1)
@click.pass_context
def release(ctx, tip_ids) -> None:
    """Give up your claims of TIP_IDS (none named: all of yours). Team mode only."""
    from caselib.domain import team as decisions

    with _connect(ctx, command="release") as shared, _allowed(shared, "release claims", "analyst"):
        count = decisions.release(shared, list(tip_ids) or None)
    click.echo(f"Released {count} claim{'s' if count != 1 else ''}." if count else "No claims of yours to release.")


@cli.command()
@click.option("--object", "object_ids", multiple=True, help="Assign this object (repeatable).")
@click.option("--tip", "tip_ids", multiple=True, help="Assign this tip (repeatable).")
@click.option("--to", "to", metavar="USER", help="The analyst (a login of the shared store) who takes them.")
@click.option("--unassign", is_flag=True, help="Take them off whoever has them.")
@click.option("--reason", required=True, help="Why (kept in the audit).")
@click.pass_context
def assign(ctx, object_ids, tip_ids, to: str | None, unassign: bool, reason: str) -> None:
    """Assign objects or tips to an analyst (--to USER), or --unassign them; a reviewer's
    decision, in the audit. Team mode only."""
    from caselib.domain import team as decisions

    if bool(object_ids) == bool(tip_ids):
        raise CaselibError("give --object ID… or --tip ID…, not both")
    if (to is None) == (not unassign):
        raise CaselibError("give --to USER or --unassign")
    kind, ids = ("object", object_ids) if object_ids else ("tip", tip_ids)
    with _connect(ctx, command="assign") as shared, _allowed(shared, "assign work", "reviewer"):
        record = decisions.assign(shared, kind, ids, None if unassign else to, reason=reason)
    what = f"{len(set(ids))} {kind}{'s' if len(set(ids)) != 1 else ''} ({', '.join(sorted(set(ids)))})"
    done = f"Unassigned {what}" if unassign else f"Assigned {what} to {to}"
    click.echo(_shown(f"{done}; audit record {record.seq} by {record.actor}"))


@cli.group("shared")
def shared_group() -> None:
    """A team's shared store on PostgreSQL: its schema, its users and where the copy stands."""


@shared_group.command("init")
@click.pass_context
def shared_init(ctx) -> None:
    """Create or upgrade the shared store's schema and roles (run with the server's
    superuser's URL, or the database owner's with CREATEROLE)."""
    from caselib.store.shared import describe
    from caselib.store.shared.schema import SHARED_SCHEMA_VERSION, init

    with _connect(ctx, command="shared init") as shared:
        applied = init(shared)
        store_id = shared.store_id()
        where = describe(shared.url)
    if applied:
        click.echo(_shown(f"Shared store at {where}: applied {', '.join(applied)} (schema version {SHARED_SCHEMA_VERSION})"))
    else:
        click.echo(_shown(f"Shared store at {where}: already up to date (schema version {SHARED_SCHEMA_VERSION})"))
    click.echo(f"Store id {_shown(store_id)}")


@shared_group.group("user")
def shared_user() -> None:
    """The people who log in to the shared store."""


def _password(path: Path | None, name: str) -> str:
    """The new password: the file's first line, or typed twice without echo."""
    if path is not None:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as error:
            raise CaselibError(f"cannot read the password file {path}: {error.__class__.__name__}") from None
        password = lines[0] if lines else ""
    else:
        password = click.prompt(f"Password for {name}", hide_input=True, confirmation_prompt=True)
    if not password.strip():
        raise CaselibError("the password is empty; give a password file whose first line is the password")
    return password


@shared_user.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(["viewer", "analyst", "reviewer", "admin"]),
              help="What they may do (each role may do what the one before may).")
@click.option("--password-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A file whose first line is the password (default: typed twice, not shown).")
@click.pass_context
def shared_user_add(ctx, name: str, role: str, password_file: Path | None) -> None:
    """Add NAME as a login of the shared store with a role, or give an existing login that
    role (and the new password). Run as the superuser or an administrator."""
    from caselib.store.shared import describe
    from caselib.store.shared.schema import add_user

    url = _shared_url(ctx)
    if url is None:
        raise CaselibError("caselib shared user add needs a team's shared store: give --shared URL or set CASELIB_SHARED_URL")
    password = _password(password_file, name)
    with _connect(ctx, url, command="shared user add") as shared:
        add_user(shared, name, role, password)
    click.echo(_shown(f"{name} may log in to the shared store at {describe(url)} as {role}"))


# The logins that belong to one of the shared store's roles, with those roles.
_USERS = (
    "SELECT r.rolname, array_agg(g.rolname ORDER BY g.rolname) FROM pg_roles r "
    "JOIN pg_auth_members m ON m.member = r.oid JOIN pg_roles g ON g.oid = m.roleid "
    "WHERE r.rolcanlogin AND g.rolname = ANY(%s) GROUP BY r.rolname ORDER BY r.rolname"
)


@shared_group.command("users")
@click.pass_context
def shared_users(ctx) -> None:
    """The shared store's logins and the role of each."""
    from caselib.store.shared.schema import ROLES

    with _connect(ctx, command="shared users") as shared:
        shared.store_id()  # one line when the store is not initialised
        rows = shared.rows(_USERS, ([f"caselib_{r}" for r in ROLES],))
    for name, granted in rows:
        highest = max((g.removeprefix("caselib_") for g in granted), key=ROLES.index)
        click.echo(_shown(f"{name:<20} {highest}"))
    click.echo(f"{len(rows)} user{'s' if len(rows) != 1 else ''}")


@shared_group.command("status")
@click.pass_context
def shared_status(ctx) -> None:
    """The shared store (its id, schema version, last write), who you are on it, and how far
    the --db copy is behind."""
    from caselib.store.shared import SharedError, describe
    from caselib.store.shared.schema import applied_version
    from caselib.store.shared.sync import check_copy, copy_rev

    with _connect(ctx, command="shared status") as shared:
        store_id = shared.store_id()
        version, rev, user, roles = applied_version(shared), shared.rev(), shared.user, shared.roles()
        where = describe(shared.url)
    click.echo(_shown(f"Shared store: {where}"))
    click.echo(_shown(f"  store id        {store_id}"))
    click.echo(f"  schema version  {version}")
    click.echo(f"  last write      {rev:,}")
    click.echo(_shown(f"  you             {user} ({', '.join(roles) or 'no caselib role'})"))
    path = Path(ctx.obj["db"])
    if not path.exists():
        click.echo(_shown(f"Copy {path}: not made yet; caselib sync makes it"))
        return
    with _store(ctx, read_only=True) as store:
        try:
            check_copy(store, store_id, shared.url)
        except SharedError as error:
            click.echo(_shown(f"Copy {path}: not a copy of this store ({error})"))
            return
        synced = copy_rev(store)
    behind = rev - synced
    state = "up to date" if behind == 0 else f"{behind:,} write{'s' if behind != 1 else ''} behind; caselib sync"
    click.echo(_shown(f"Copy {path}: synced to write {synced:,}, {state}"))
