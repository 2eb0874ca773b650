-- The roles, enforced here and not only by the workbench's interface. Each role has the
-- rights of the one before it:
--   caselib_viewer    reads everything (dashboards, reports, a copy's sync)
--   caselib_analyst   triage decisions, claims, cluster decisions, keeping an object open
--   caselib_reviewer  closing and reopening objects, forwarding, assigning work
--   caselib_admin     loads, and everything else
-- A person logs in as their own role, a member of one of these (caselib shared user add).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'caselib_viewer') THEN CREATE ROLE caselib_viewer NOLOGIN; END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'caselib_analyst') THEN CREATE ROLE caselib_analyst NOLOGIN; END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'caselib_reviewer') THEN CREATE ROLE caselib_reviewer NOLOGIN; END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'caselib_admin') THEN CREATE ROLE caselib_admin NOLOGIN; END IF;
END $$;
GRANT caselib_viewer TO caselib_analyst;
GRANT caselib_analyst TO caselib_reviewer;
GRANT caselib_reviewer TO caselib_admin;

REVOKE ALL ON SCHEMA caselib FROM PUBLIC;
GRANT USAGE ON SCHEMA caselib TO caselib_viewer;
GRANT SELECT ON ALL TABLES IN SCHEMA caselib TO caselib_viewer;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA caselib FROM PUBLIC;
GRANT EXECUTE ON FUNCTION caselib.rev() TO caselib_viewer;

-- Taking the clock is a write: the analyst's and up. It runs with the rights of the
-- schema's owner, so nobody needs the right to change the clock itself; nor to write
-- tombstones, which only the triggers of a removal write.
ALTER FUNCTION caselib.begin_write() SECURITY DEFINER SET search_path = pg_catalog, caselib;
GRANT EXECUTE ON FUNCTION caselib.begin_write() TO caselib_analyst;
DO $$
DECLARE f record;
BEGIN
    FOR f IN SELECT p.oid::regprocedure AS sig FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = 'caselib' AND p.proname LIKE '%\_gone' LOOP
        EXECUTE format('ALTER FUNCTION %s SECURITY DEFINER SET search_path = pg_catalog, caselib', f.sig);
    END LOOP;
END $$;

CREATE FUNCTION caselib.is_member(role text) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT pg_has_role(session_user, role, 'MEMBER')
$$;
GRANT EXECUTE ON FUNCTION caselib.is_member(text) TO caselib_viewer;

-- analysts: triage decisions
GRANT UPDATE (triage_status, forwarded_to, forwarded_to_raw) ON caselib.tips TO caselib_analyst;
GRANT INSERT ON caselib.tip_triage_history TO caselib_analyst;
GRANT DELETE ON caselib.tip_fingerprints TO caselib_analyst;
GRANT INSERT ON caselib.audit_log TO caselib_analyst;
-- claims: an analyst's own
GRANT INSERT, UPDATE, DELETE ON caselib.tip_claims TO caselib_analyst;
-- cluster decisions
GRANT UPDATE (state, decided_by, decided_at, reason) ON caselib.tip_clusters TO caselib_analyst;
GRANT UPDATE (pending) ON caselib.tip_cluster_members TO caselib_analyst;
GRANT DELETE ON caselib.tip_cluster_members TO caselib_analyst;
GRANT UPDATE (held_out) ON caselib.tip_cluster_compared TO caselib_analyst;
GRANT INSERT ON caselib.tip_cluster_decisions TO caselib_analyst;

-- reviewers: closing and reopening, assigning
GRANT UPDATE (status, closed_on) ON caselib.objects TO caselib_reviewer;
GRANT INSERT, UPDATE, DELETE ON caselib.object_assignments, caselib.tip_assignments TO caselib_reviewer;

-- administrators: loads, and the rest
GRANT INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA caselib TO caselib_admin;
REVOKE UPDATE, DELETE ON caselib.clock FROM caselib_admin;

-- What a right to a table does not say, its rows do (row-level security).
ALTER TABLE caselib.tips ENABLE ROW LEVEL SECURITY;
CREATE POLICY read ON caselib.tips FOR SELECT TO caselib_viewer USING (true);
CREATE POLICY triage ON caselib.tips FOR UPDATE TO caselib_analyst USING (true)
    WITH CHECK (triage_status <> 'forwarded' OR caselib.is_member('caselib_reviewer'));
CREATE POLICY admin ON caselib.tips TO caselib_admin USING (true) WITH CHECK (true);

ALTER TABLE caselib.tip_triage_history ENABLE ROW LEVEL SECURITY;
CREATE POLICY read ON caselib.tip_triage_history FOR SELECT TO caselib_viewer USING (true);
CREATE POLICY decide ON caselib.tip_triage_history FOR INSERT TO caselib_analyst
    WITH CHECK (source = 'analyst' AND decided_by = session_user
                AND (new_triage_status <> 'forwarded' OR caselib.is_member('caselib_reviewer')));
CREATE POLICY admin ON caselib.tip_triage_history TO caselib_admin USING (true) WITH CHECK (true);

ALTER TABLE caselib.audit_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY read ON caselib.audit_log FOR SELECT TO caselib_viewer USING (true);
CREATE POLICY analyst ON caselib.audit_log FOR INSERT TO caselib_analyst
    WITH CHECK (action IN ('triage', 'claim', 'cluster_confirmed', 'cluster_rejected', 'cluster_removed', 'keep_open'));
CREATE POLICY reviewer ON caselib.audit_log FOR INSERT TO caselib_reviewer
    WITH CHECK (action IN ('close', 'reopen', 'forward', 'assign'));
CREATE POLICY admin ON caselib.audit_log TO caselib_admin USING (true) WITH CHECK (true);

ALTER TABLE caselib.tip_claims ENABLE ROW LEVEL SECURITY;
CREATE POLICY read ON caselib.tip_claims FOR SELECT TO caselib_viewer USING (true);
CREATE POLICY own ON caselib.tip_claims FOR INSERT TO caselib_analyst WITH CHECK (claimed_by = session_user);
CREATE POLICY renew ON caselib.tip_claims FOR UPDATE TO caselib_analyst
    USING (claimed_by = session_user OR expires_at < now() AT TIME ZONE 'UTC') WITH CHECK (claimed_by = session_user);
CREATE POLICY release ON caselib.tip_claims FOR DELETE TO caselib_analyst
    USING (claimed_by = session_user OR expires_at < now() AT TIME ZONE 'UTC' OR caselib.is_member('caselib_reviewer'));
