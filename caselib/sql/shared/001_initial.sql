-- The shared store of a team (caselib.shared): everything in the schema caselib.

CREATE TABLE caselib.store_info (
    key    text PRIMARY KEY,
    value  text NOT NULL
);

-- The write clock: one row. A shared write begins with caselib.begin_write(), which takes
-- the next number and holds the row's lock until the write commits or rolls back, so writes
-- are numbered in the order they commit (serialised here, in the database).
CREATE TABLE caselib.clock (
    one  boolean PRIMARY KEY DEFAULT true CHECK (one),
    rev  bigint NOT NULL
);
INSERT INTO caselib.clock VALUES (true, 0);

-- A group of rows (a tip's, an object's) that a write removed: a copy drops it.
CREATE TABLE caselib.tombstones (
    tbl  text NOT NULL,
    key  text NOT NULL,
    rev  bigint NOT NULL
);
CREATE INDEX ON caselib.tombstones (rev);

CREATE FUNCTION caselib.begin_write() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    taken text := current_setting('caselib.rev', true);
    number bigint;
BEGIN
    IF taken IS NOT NULL AND taken <> '' THEN
        RETURN taken::bigint;  -- this transaction holds the clock already
    END IF;
    UPDATE caselib.clock SET rev = rev + 1 RETURNING rev INTO number;
    PERFORM set_config('caselib.rev', number::text, true);
    RETURN number;
END $$;

CREATE FUNCTION caselib.rev() RETURNS bigint LANGUAGE plpgsql STABLE AS $$
DECLARE
    taken text := current_setting('caselib.rev', true);
BEGIN
    IF taken IS NULL OR taken = '' THEN
        RAISE EXCEPTION 'a write to the shared store must begin with caselib.begin_write()'
            USING ERRCODE = 'P0001';
    END IF;
    RETURN taken::bigint;
END $$;

CREATE FUNCTION caselib.stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW._rev := caselib.rev();
    RETURN NEW;
END $$;

CREATE FUNCTION caselib.append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'caselib.% is appended to only: its rows are never changed or removed', TG_TABLE_NAME
        USING ERRCODE = '42501';
END $$;

{{mirror}}

-- The audit chain is one chain however many write at once: a record must follow the head
-- (its number the next, its prev_hash the head's hash), inside a write that holds the clock,
-- and be recorded by who is connected.
CREATE FUNCTION caselib.audit_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    head_seq bigint;
    head_hash text;
BEGIN
    PERFORM caselib.rev();
    SELECT seq, hash INTO head_seq, head_hash FROM caselib.audit_log ORDER BY seq DESC LIMIT 1;
    IF NEW.seq <> coalesce(head_seq, 0) + 1
       OR NEW.prev_hash <> coalesce(head_hash, '0000000000000000000000000000000000000000000000000000000000000000') THEN
        RAISE EXCEPTION 'the audit chain moved: record % does not follow record %', NEW.seq, coalesce(head_seq, 0)
            USING ERRCODE = '40001';
    END IF;
    IF NEW.actor <> session_user THEN
        RAISE EXCEPTION 'an audit record is recorded by who is connected (%), not %', session_user, NEW.actor
            USING ERRCODE = '42501';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER audit_log_chain BEFORE INSERT ON caselib.audit_log
    FOR EACH ROW EXECUTE FUNCTION caselib.audit_chain();
CREATE UNIQUE INDEX ON caselib.audit_log (seq);
