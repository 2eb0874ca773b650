"""Team mode: one shared case state on a PostgreSQL server, each analyst's DuckDB a copy.

The shared store (``--shared URL`` or ``CASELIB_SHARED_URL``, a ``postgresql://`` URL) holds
the waves, objects, tips, decisions, clusters, claims, assignments and the audit chain. An
analyst's DuckDB file is an analytic copy of it, refreshed by :func:`caselib.store.shared.sync.sync`
(only what changed since the last sync, moved as Arrow); the notebooks, dashboard and report
read the copy. Decisions are written to the server, where the roles are enforced and
concurrent writers are serialised (:mod:`caselib.domain.team`); loads are made in the
administrator's copy and sent to the server in the same transaction
(:mod:`caselib.store.shared.push`).

Without a shared URL everything works on the local DuckDB file, as before.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from caselib.errors import Conflict, NotAllowed, SharedError

__all__ = ["ENV", "Conflict", "NotAllowed", "Shared", "SharedError", "connect", "describe", "shared_url"]

ENV = "CASELIB_SHARED_URL"




def shared_url(option: str | None = None) -> str | None:
    """The shared store's URL: ``option`` (``--shared``), else ``CASELIB_SHARED_URL``, else None."""
    url = (option or os.environ.get(ENV) or "").strip()
    if not url:
        return None
    if urlsplit(url).scheme not in ("postgresql", "postgres"):
        raise SharedError(f"the shared store's URL must start with postgresql:// (got {describe(url)})")
    return url


def describe(url: str) -> str:
    """The URL without its password, fit for a message."""
    parts = urlsplit(url)
    if not parts.netloc:
        return url.split("?")[0][:60]
    user = f"{parts.username}@" if parts.username else ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{user}{parts.hostname or ''}{port}{parts.path}"


def _reason(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


@dataclass
class Shared:
    """An open connection to the shared store (psycopg, in transactions the caller opens)."""

    url: str
    con: object  # psycopg.Connection
    _arrow: object = None  # an ADBC connection, opened when rows are moved as Arrow

    def arrow(self):
        """The ADBC connection that moves rows as Arrow (autocommit: callers say BEGIN and COMMIT)."""
        if self._arrow is None:
            import adbc_driver_postgresql.dbapi as adbc

            try:
                self._arrow = adbc.connect(self.url, autocommit=True)
            except Exception as error:  # the driver's own error classes
                raise SharedError(f"cannot connect to the shared store at {describe(self.url)}: {_reason(error)}") from None
        return self._arrow

    @property
    def user(self) -> str:
        return self.con.info.user

    def scalar(self, statement: str, params=None):
        row = self.con.execute(statement, params).fetchone()
        return None if row is None else row[0]

    def rows(self, statement: str, params=None) -> list[tuple]:
        return self.con.execute(statement, params).fetchall()

    def store_id(self) -> str:
        found = self.scalar("SELECT value FROM caselib.store_info WHERE key = 'store_id'")
        if found is None:
            raise SharedError(f"the shared store at {describe(self.url)} is not initialised; run `caselib shared init`")
        return found

    def rev(self) -> int:
        """The number of the last write committed."""
        return int(self.scalar("SELECT rev FROM caselib.clock"))

    def roles(self) -> list[str]:
        """The caselib roles the connected user has (directly or through another)."""
        from caselib.store.shared.schema import ROLES

        return [r for r in ROLES if self.scalar("SELECT pg_has_role(session_user, %s, 'MEMBER')", (f"caselib_{r}",))]

    @contextlib.contextmanager
    def writing(self):
        """A shared write: one transaction holding the write clock (its number returned)
        until it commits; an exception rolls it back. The database's refusals become one
        line: :class:`NotAllowed` for the role's rights, :class:`SharedError` otherwise."""
        import psycopg

        try:
            with self.con.transaction():
                number = int(self.con.execute(
                    "SELECT caselib.begin_write() FROM (SELECT set_config('lock_timeout', '60s', true)) AS waiting"
                ).fetchone()[0])
                yield number
        except psycopg.errors.InsufficientPrivilege as error:
            raise NotAllowed(f"the shared store refused it to {self.user}: {_reason(error)}") from None
        except psycopg.errors.LockNotAvailable:
            raise SharedError("the shared store is busy: another write held it for a minute; try again") from None
        except psycopg.errors.RaiseException as error:
            raise SharedError(f"the shared store refused it: {_reason(error)}") from None

    def close(self) -> None:
        if self._arrow is not None:
            self._arrow.close()
            self._arrow = None
        self.con.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def connect(url: str, *, application: str = "caselib") -> Shared:
    """Open the shared store at ``url``; a server that cannot be reached or refuses the login
    is one line naming it (never the password)."""
    import psycopg

    try:
        con = psycopg.connect(url, autocommit=True, application_name=application, connect_timeout=10)
    except psycopg.OperationalError as error:
        raise SharedError(f"cannot connect to the shared store at {describe(url)}: {_reason(error)}") from None
    except psycopg.ProgrammingError as error:  # a malformed URL
        raise SharedError(f"the shared store's URL {describe(url)} is not valid: {_reason(error)}") from None
    con.execute("SET TIME ZONE 'UTC'")
    return Shared(url, con)
