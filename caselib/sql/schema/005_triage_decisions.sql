-- Triage decisions made in the workbench join the triage history of loads (issue 14).
-- A row's source says who changed the tip: 'load' (a re-export of the intake system, with
-- its batch_id), 'analyst' (a decision in the workbench: who, why, and the audit record that
-- chains it; batch_id NULL), or 'intake_disagrees' (a later re-export that would have changed
-- a tip an analyst decided: kept here and counted in that load's summary, never applied).
ALTER TABLE tip_triage_history ALTER COLUMN batch_id DROP NOT NULL;
ALTER TABLE tip_triage_history ADD COLUMN source VARCHAR DEFAULT 'load';
ALTER TABLE tip_triage_history ADD COLUMN decided_by VARCHAR;
ALTER TABLE tip_triage_history ADD COLUMN reason VARCHAR;
ALTER TABLE tip_triage_history ADD COLUMN audit_seq BIGINT;
UPDATE tip_triage_history SET source = 'load' WHERE source IS NULL;
