"""The shared store's schema and roles in PostgreSQL: ``caselib shared init``.

Versioned migrations, as for DuckDB: ``caselib/sql/shared/NNN_name.sql``, applied in order
and recorded in ``caselib.schema_version``. A migration may hold ``{{mirror}}``: the shared
tables (:data:`caselib.store.shared.tables.TABLES`) created from the DuckDB schema of this caselib,
with PostgreSQL's types, ``_rev``, their indexes and the triggers that stamp and tombstone.
A later DuckDB migration that adds a column is mirrored by ``{{mirror_columns}}``, which adds
the columns the shared tables lack.
"""

from __future__ import annotations

import re

from caselib.store.shared.tables import TABLES, Table

__all__ = ["ROLES", "local_columns", "migrations", "pg_type"]

# The roles, each with the rights of the one before (caselib/sql/shared/002_roles.sql).
ROLES = ("viewer", "analyst", "reviewer", "admin")

_PG_TYPES = {
    "VARCHAR": "text",
    "JSON": "text",  # kept as the text DuckDB wrote
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "DOUBLE": "double precision",
    "BOOLEAN": "boolean",
    "TIMESTAMP": "timestamp",
    "DATE": "date",
    "UBIGINT": "bigint",  # the same 64 bits read as signed (caselib.store.shared.sync converts)
}


def pg_type(duckdb_type: str) -> str:
    try:
        return _PG_TYPES[duckdb_type]
    except KeyError:
        raise ValueError(f"no PostgreSQL type for DuckDB's {duckdb_type}") from None


def local_columns() -> dict[str, tuple[tuple[str, str, bool], ...]]:
    """table -> ((column, DuckDB type, nullable), ...) of the shared tables, in order, as
    this caselib's DuckDB migrations define them."""
    from caselib.store import schema_columns

    found = schema_columns()
    return {t.name: found[t.name] for t in TABLES}


def _key_text(table: Table, alias: str) -> str:
    return f"{alias}.{table.group}::text"


def _mirror_table(table: Table) -> str:
    columns = [f"    {name} {pg_type(kind)}{'' if nullable else ' NOT NULL'}"
               for name, kind, nullable in local_columns()[table.name]]
    columns.append("    _rev bigint NOT NULL DEFAULT caselib.rev()")
    if table.unique:
        columns.append(f"    PRIMARY KEY ({table.group})")
    lines = [f"CREATE TABLE caselib.{table.name} (\n" + ",\n".join(columns) + "\n);",
             f"CREATE INDEX ON caselib.{table.name} (_rev);"]
    if table.group and not table.unique:
        lines.append(f"CREATE INDEX ON caselib.{table.name} ({table.group});")
    lines.append(
        f"CREATE TRIGGER {table.name}_stamp BEFORE UPDATE ON caselib.{table.name} "
        "FOR EACH ROW EXECUTE FUNCTION caselib.stamp();"
    )
    if table.group:
        lines.append(
            f"CREATE FUNCTION caselib.{table.name}_gone() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            "BEGIN\n"
            f"    INSERT INTO caselib.tombstones (tbl, key, rev) SELECT DISTINCT '{table.name}', {_key_text(table, 'o')}, caselib.rev() FROM old_rows o;\n"
            "    RETURN NULL;\n"
            "END $$;"
        )
        lines.append(
            f"CREATE TRIGGER {table.name}_gone AFTER DELETE ON caselib.{table.name} REFERENCING OLD TABLE AS old_rows "
            f"FOR EACH STATEMENT EXECUTE FUNCTION caselib.{table.name}_gone();"
        )
    else:
        # appended to only: no row changes or goes, whoever asks
        lines.append(
            f"CREATE TRIGGER {table.name}_append_only BEFORE UPDATE OR DELETE ON caselib.{table.name} "
            "FOR EACH ROW EXECUTE FUNCTION caselib.append_only();"
        )
    return "\n".join(lines)


def mirror_sql() -> str:
    """CREATE statements of every shared table (what ``{{mirror}}`` stands for)."""
    return "\n\n".join(_mirror_table(t) for t in TABLES)


def mirror_columns_sql(existing: dict[str, set[str]]) -> str:
    """ALTER statements adding the DuckDB columns a shared table lacks (``{{mirror_columns}}``)."""
    statements = []
    for table in TABLES:
        for name, kind, _ in local_columns()[table.name]:
            if name not in existing.get(table.name, set()):
                statements.append(f"ALTER TABLE caselib.{table.name} ADD COLUMN {name} {pg_type(kind)};")
    return "\n".join(statements)


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, SQL) of the shared store's migrations, in order."""
    from caselib.store import _migrations

    return _migrations("sql/shared")


SHARED_SCHEMA_VERSION = len(migrations())


def applied_version(shared) -> int:
    """The shared schema's version (0: not initialised)."""
    if not shared.scalar("SELECT to_regclass('caselib.schema_version') IS NOT NULL"):
        return 0
    return int(shared.scalar("SELECT coalesce(max(version), 0) FROM caselib.schema_version"))


def _existing_columns(shared) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for name, column in shared.rows(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'caselib'"
    ):
        found.setdefault(name, set()).add(column)
    return found


def init(shared) -> list[str]:
    """Create or upgrade the shared schema and its roles; returns the migrations applied.

    Run by someone allowed to create schemas and roles (the server's superuser, or the
    database's owner with CREATEROLE). Running it again applies nothing."""
    import uuid

    from caselib.store.shared import SharedError

    current = applied_version(shared)
    if current > SHARED_SCHEMA_VERSION:
        raise SharedError(f"the shared store has schema version {current}, newer than this caselib knows "
                          f"({SHARED_SCHEMA_VERSION}); upgrade caselib")
    applied = []
    import psycopg

    try:
        with shared.con.transaction():
            # one initialiser at a time
            shared.con.execute("SELECT pg_advisory_xact_lock(hashtext('caselib shared init'))")
            current = applied_version(shared)
            if current == 0:
                shared.con.execute("CREATE SCHEMA IF NOT EXISTS caselib")
                shared.con.execute(
                    "CREATE TABLE caselib.schema_version (version integer PRIMARY KEY, name text NOT NULL, "
                    "applied_at timestamptz NOT NULL DEFAULT now())"
                )
            for version, name, text in migrations():
                if version <= current:
                    continue
                text = text.replace("{{mirror}}", mirror_sql())
                if "{{mirror_columns}}" in text:
                    text = text.replace("{{mirror_columns}}", mirror_columns_sql(_existing_columns(shared)))
                shared.con.execute(text)
                shared.con.execute("INSERT INTO caselib.schema_version (version, name) VALUES (%s, %s)", (version, name))
                applied.append(f"{version:03d}_{name}")
            shared.con.execute(
                "INSERT INTO caselib.store_info VALUES ('store_id', %s), ('created_at', now()::text) ON CONFLICT DO NOTHING",
                (str(uuid.uuid4()),),
            )
            shared.con.execute("GRANT SELECT ON caselib.schema_version TO caselib_viewer")
    except psycopg.errors.InsufficientPrivilege as error:
        raise SharedError(f"{shared.user} may not create the shared schema and roles: {str(error).splitlines()[0]}; "
                          "run `caselib shared init` as the server's superuser or the database's owner") from None
    return applied


def add_user(shared, name: str, role: str, password: str) -> None:
    """Create the login ``name`` with ``password``, a member of ``caselib_<role>`` (an
    administrator may add users too); or, when it exists, give it that role instead."""
    import psycopg
    from psycopg import sql

    from caselib.store.shared import NotAllowed, SharedError

    if role not in ROLES:
        raise SharedError(f"unknown role {role!r}; the roles are {', '.join(ROLES)}")
    if not re.fullmatch(r"[a-z_][a-z0-9_.-]{0,62}", name):
        raise SharedError(f"a user name is lower-case letters, digits, '_', '.' or '-' (got {name!r})")
    user = sql.Identifier(name)
    try:
        with shared.con.transaction():
            exists = shared.scalar("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,))
            if exists:
                for other in ROLES:
                    shared.con.execute(sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(f"caselib_{other}"), user))
                shared.con.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(user, sql.Literal(password)))
            else:
                shared.con.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(user, sql.Literal(password)))
            shared.con.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(f"caselib_{role}"), user))
            if role == "admin":
                shared.con.execute(sql.SQL("ALTER ROLE {} CREATEROLE").format(user))
    except psycopg.errors.InsufficientPrivilege as error:
        raise NotAllowed(f"{shared.user} may not add users: {str(error).splitlines()[0]}") from None
