-- What a right to change a row does not say: that the change is recorded. A person's
-- change of a tip's triage or an object's status commits only with its history row and its
-- audit record, written in the same write (administrators' loads keep their own records).

CREATE INDEX ON caselib.tip_triage_history (tip_id, _rev);
CREATE INDEX ON caselib.audit_log (object_id, _rev);

CREATE FUNCTION caselib.tip_change_recorded() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.triage_status, NEW.forwarded_to) IS DISTINCT FROM (OLD.triage_status, OLD.forwarded_to)
       AND NOT caselib.is_member('caselib_admin')
       AND NOT EXISTS (SELECT 1 FROM caselib.tip_triage_history h
                       WHERE h.tip_id = NEW.tip_id AND h._rev = caselib.rev() AND h.source = 'analyst'
                         AND h.new_triage_status = NEW.triage_status
                         AND h.new_forwarded_to IS NOT DISTINCT FROM NEW.forwarded_to) THEN
        RAISE EXCEPTION 'tip % may change its triage only with its row in the triage history', NEW.tip_id
            USING ERRCODE = '42501';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER tips_change_recorded BEFORE UPDATE OF triage_status, forwarded_to ON caselib.tips
    FOR EACH ROW EXECUTE FUNCTION caselib.tip_change_recorded();

CREATE FUNCTION caselib.decision_audited() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.source = 'analyst' AND NOT EXISTS (
        SELECT 1 FROM caselib.audit_log a
        WHERE a.seq = NEW.audit_seq AND a._rev = NEW._rev AND a.actor = NEW.decided_by
          AND a.action IN ('triage', 'forward')) THEN
        RAISE EXCEPTION 'the triage of tip % has no audit record of its own write', NEW.tip_id
            USING ERRCODE = '42501';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER tip_triage_history_audited AFTER INSERT ON caselib.tip_triage_history
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION caselib.decision_audited();

CREATE FUNCTION caselib.closure_audited() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.status, NEW.closed_on) IS DISTINCT FROM (OLD.status, OLD.closed_on)
       AND NOT caselib.is_member('caselib_admin')
       AND NOT EXISTS (SELECT 1 FROM caselib.audit_log a
                       WHERE a.object_id = NEW.object_id AND a._rev = NEW._rev AND a.actor = session_user
                         AND a.action IN ('close', 'reopen')) THEN
        RAISE EXCEPTION 'object % may be closed or reopened only with its audit record', NEW.object_id
            USING ERRCODE = '42501';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER objects_closure_audited AFTER UPDATE ON caselib.objects
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION caselib.closure_audited();
