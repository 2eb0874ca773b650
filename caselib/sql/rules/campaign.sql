-- The campaign's rules, each defined once (contract v1.1). The store creates these macros
-- on every connection it opens, after the schema is in place; every query calls them by
-- name instead of writing the rule again. The rules that are not SQL live in
-- caselib/rules.py (the default as-of day, small-count suppression).
--
-- Days are UTC calendar days. "As of D" means as things stood at the end of day D.

-- A tip counts as of D when it arrived before the midnight after D (23:59:59 UTC counts).
CREATE OR REPLACE TEMP MACRO received_by(moment, day) AS
    moment < day::DATE + INTERVAL 1 DAY;

-- U: a tip still to triage.
CREATE OR REPLACE TEMP MACRO is_untriaged(triage_status) AS
    triage_status IN ('new', 'under_review');

-- A tip an analyst judged worth acting on.
CREATE OR REPLACE TEMP MACRO is_actionable(triage_status) AS
    triage_status IN ('actionable', 'forwarded');

-- C: a countable tip: actionable, with a recognised suggested country (an unrecognised or
-- empty one neither counts nor dilutes a share).
CREATE OR REPLACE TEMP MACRO is_countable(triage_status, suggested_country) AS
    is_actionable(triage_status) AND suggested_country IS NOT NULL;

-- Each wave's window: from its launch day up to the day before the next launch (a relaunch
-- draws tips for old objects too, and those belong to the relaunch). next_launch and
-- window_ends_on are NULL for the latest wave; waves launched the same day share a window.
CREATE OR REPLACE TEMP MACRO wave_windows() AS TABLE
    SELECT wave_id,
           name,
           launched_on,
           next_launch,
           next_launch - 1 AS window_ends_on
    FROM (
        SELECT wave_id,
               coalesce(name, wave_id) AS name,
               launched_on,
               -- the first launch on a later day (one window function: cheaper to plan than a join)
               min(launched_on) OVER (ORDER BY launched_on
                                      RANGE BETWEEN INTERVAL 1 DAY FOLLOWING AND UNBOUNDED FOLLOWING) AS next_launch
        FROM waves
    );

-- Whether `moment` lies in the window of the wave with id `wave`.
CREATE OR REPLACE TEMP MACRO in_wave_window(moment, wave) AS
    moment >= (SELECT launched_on FROM wave_windows() WHERE wave_id = wave)
    AND moment < coalesce((SELECT next_launch FROM wave_windows() WHERE wave_id = wave), DATE '9999-12-31');

-- The workbench's decisions that change an object's status (close, reopen), from the audit
-- chain, with the status and closed_on before and after each. keep_open changes nothing.
-- Records written before the audit kept closed_on: a close set it to the day it was
-- recorded; a reopen found the closed_on of the object's last close, or of the last load
-- that changed it (object_history), before the reopen.
CREATE OR REPLACE TEMP MACRO object_decisions() AS TABLE
    WITH decided AS (
        SELECT seq, object_id, recorded_at, action, payload::JSON AS p
        FROM audit_log
        WHERE action IN ('close', 'reopen')
    ),
    closings AS (  -- what set an object's closed_on, and when: a close, or a load
        SELECT object_id, recorded_at AS happened_at, recorded_at::DATE AS closed_on
        FROM audit_log
        WHERE action = 'close'
        UNION ALL
        SELECT object_id, changed_at, (new_values->>'closed_on')::DATE
        FROM object_history
    )
    SELECT d.seq,
           d.object_id,
           d.recorded_at AS decided_at,
           d.action,
           d.p->>'previous_status' AS old_status,
           d.p->>'status' AS new_status,
           CASE WHEN json_exists(d.p, '$.previous_closed_on') THEN (d.p->>'previous_closed_on')::DATE
                WHEN d.action = 'reopen' THEN c.closed_on
           END AS old_closed_on,
           CASE WHEN json_exists(d.p, '$.closed_on') THEN (d.p->>'closed_on')::DATE
                WHEN d.action = 'close' THEN d.recorded_at::DATE
           END AS new_closed_on
    FROM decided AS d
    -- the last closing before the decision
    ASOF LEFT JOIN closings AS c ON d.object_id = c.object_id AND d.recorded_at > c.happened_at;

-- Every object as it stood at the end of each day in `days` (a DATE list), one row per day
-- and object:
--   status: 'not_published' when first published after the day; else the recorded status
--     as of that day: a decision recorded after the day is undone (the object stands as it
--     was before the first such decision); then closed/withdrawn holds from closed_on,
--     identified from identified_on (before them the object was identified or open), and a
--     status without its date holds from first_published;
--   published, identified (identified on or before the day: still identified, or since
--     closed), established_origin (origin_country while identified on the day, or when it
--     was identified before its closure).
CREATE OR REPLACE TEMP MACRO object_states(days) AS TABLE
    WITH d AS (
        SELECT DISTINCT unnest(days)::DATE AS as_of
    ),
    undone AS (
        SELECT d.as_of, x.object_id,
               arg_min(struct_pack(status := x.old_status, closed_on := x.old_closed_on), x.seq) AS before
        FROM d
        JOIN object_decisions() AS x ON x.decided_at >= d.as_of + INTERVAL 1 DAY
        GROUP BY ALL
    ),
    recorded AS (
        SELECT d.as_of, o.object_id, o.title, o.category, o.wave_id, o.first_published,
               o.origin_country, o.identified_on,
               CASE WHEN u.before IS NULL THEN o.status ELSE u.before.status END AS recorded_status,
               CASE WHEN u.before IS NULL THEN o.closed_on ELSE u.before.closed_on END AS closed_on
        FROM d
        CROSS JOIN objects AS o
        LEFT JOIN undone AS u ON u.as_of = d.as_of AND u.object_id = o.object_id
    ),
    dated AS (
        SELECT *,
               CASE WHEN first_published > as_of THEN 'not_published'
                    WHEN recorded_status IN ('closed', 'withdrawn') AND coalesce(closed_on <= as_of, true)
                         THEN recorded_status
                    WHEN recorded_status IN ('identified', 'closed', 'withdrawn') AND identified_on <= as_of
                         THEN 'identified'
                    WHEN recorded_status = 'identified' AND identified_on IS NULL THEN 'identified'
                    ELSE 'open'
               END AS status
        FROM recorded
    )
    SELECT as_of, object_id, title, category, wave_id, first_published, status,
           status <> 'not_published' AS published,
           status <> 'not_published'
               AND (status = 'identified' OR coalesce(identified_on <= as_of, false)) AS identified,
           CASE WHEN status <> 'not_published' AND identified_on <= as_of THEN identified_on END AS identified_on,
           CASE WHEN status IN ('closed', 'withdrawn') AND closed_on <= as_of THEN closed_on END AS closed_on,
           CASE WHEN status = 'identified'
                  OR (status IN ('closed', 'withdrawn') AND coalesce(identified_on <= as_of, true))
                THEN origin_country END AS established_origin
    FROM dated;

-- The objects as they stood at the end of `day` (object_states of one day).
CREATE OR REPLACE TEMP MACRO objects_as_of(day) AS TABLE
    SELECT * EXCLUDE (as_of) FROM object_states([day::DATE]);

-- The tips as they stood at the end of `day`: a triage decision an analyst recorded in the
-- workbench after the day is undone (the tip stands as it was before the first such
-- decision; changes that loads brought are not undone). The rules below read tips through it.
CREATE OR REPLACE TEMP MACRO tips_as_of(day) AS TABLE
    SELECT t.* REPLACE (
               CASE WHEN u.tip_id IS NULL THEN t.triage_status ELSE u.before.status END AS triage_status,
               CASE WHEN u.tip_id IS NULL THEN t.forwarded_to ELSE u.before.forwarded_to END AS forwarded_to)
    FROM tips AS t
    LEFT JOIN (
        SELECT tip_id,
               arg_min(struct_pack(status := old_triage_status, forwarded_to := old_forwarded_to), changed_at) AS before
        FROM tip_triage_history
        WHERE source = 'analyst' AND changed_at >= day::DATE + INTERVAL 1 DAY
        GROUP BY tip_id
    ) AS u ON u.tip_id = t.tip_id;

-- The duplicate groups as of `day`: the near-duplicate clusters an analyst had confirmed by
-- the end of the day (the last decision on each recorded by then was a confirmation), each
-- with the tips it held at that confirmation (tips that joined later, pending, are not in
-- it; a tip taken out of its cluster since counts on its own on every day).
CREATE OR REPLACE TEMP MACRO duplicate_groups(day) AS TABLE
    SELECT m.tip_id, m.cluster_id
    FROM (
        SELECT cluster_id, arg_max(action, decided_at) AS action, max(decided_at) AS decided_at
        FROM tip_cluster_decisions
        WHERE tip_id IS NULL AND decided_at < day::DATE + INTERVAL 1 DAY
        GROUP BY cluster_id
    ) AS d
    JOIN tip_cluster_members AS m ON m.cluster_id = d.cluster_id AND m.added_at <= d.decided_at
    WHERE d.action = 'confirmed';

-- C, counting people, not copies: the countable tips as of `day` (of `object_ids`, a list,
-- or of all objects when NULL), each duplicate group as one tip, its first received (then
-- lowest tip id) speaking for it. `duplicate_group`: the group's cluster id (NULL for a tip
-- on its own); `copies`: the countable tips it stands for.
CREATE OR REPLACE TEMP MACRO countable_tips(day, object_ids) AS TABLE
    WITH countable AS (
        SELECT object_id, tip_id, received_at, suggested_country, reporter_country
        FROM tips_as_of(day)
        WHERE received_by(received_at, day)
          AND is_countable(triage_status, suggested_country)
          AND (object_ids IS NULL OR list_contains(object_ids, object_id))
    ),
    grouped AS (
        SELECT c.*, g.cluster_id FROM countable AS c JOIN duplicate_groups(day) AS g ON g.tip_id = c.tip_id
    )
    SELECT object_id, tip_id, suggested_country, reporter_country, NULL::VARCHAR AS duplicate_group, 1 AS copies
    FROM countable
    WHERE tip_id NOT IN (SELECT tip_id FROM grouped)
    UNION ALL
    SELECT object_id,
           arg_min(tip_id, (received_at, tip_id)),
           arg_min(suggested_country, (received_at, tip_id)),
           arg_min(reporter_country, (received_at, tip_id)),
           cluster_id,
           count(*)
    FROM grouped
    GROUP BY object_id, cluster_id;

-- Per object and suggested country, as of `day`, among the countable tips (each duplicate
-- group once: countable_tips above): tips, the distinct recognised reporter countries
-- behind them, the object's countable tips (|C|) and suggested countries (k), and the rank
-- (1 = the leading country c*: the most tips, a tie going to the alphabetically first
-- alpha-3); and per object the tips received that C counts (countable_received), the
-- duplicate groups and the tips in them. `object_ids`: a list of object ids, or NULL.
CREATE OR REPLACE TEMP MACRO suggested_origins(day, object_ids) AS TABLE
    SELECT object_id,
           suggested_country AS country,
           count(*) AS tips,
           count(DISTINCT reporter_country) AS reporter_countries,
           sum(count(*)) OVER (PARTITION BY object_id) AS countable_tips,
           count(*) OVER (PARTITION BY object_id) AS suggested_countries,
           row_number() OVER (PARTITION BY object_id ORDER BY count(*) DESC, suggested_country) AS rank,
           sum(sum(copies)) OVER (PARTITION BY object_id) AS countable_received,
           sum(count(duplicate_group)) OVER (PARTITION BY object_id) AS duplicate_groups,
           sum(coalesce(sum(copies) FILTER (WHERE duplicate_group IS NOT NULL), 0)) OVER (PARTITION BY object_id) AS duplicate_tips
    FROM countable_tips(day, object_ids)
    GROUP BY object_id, suggested_country;
