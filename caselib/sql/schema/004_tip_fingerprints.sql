-- A digest of the contract text each stored tip was last delivered as (its contract columns
-- as the file gave them) and of the loader's rules and mapping that read it: a re-delivery whose row
-- has the same digest is the same tip, unchanged, without being parsed and compared again.
-- A tip without one (stored before, or changed otherwise than by a load: an analyst's
-- decision must delete its row here) is compared in full, and gets one.
CREATE TABLE tip_fingerprints (
    tip_id          VARCHAR NOT NULL,
    fingerprint     UBIGINT NOT NULL,
    coords_dropped  BOOLEAN NOT NULL,  -- the row gave coordinates that were dropped (the summary counts them)
    kept_raw        BOOLEAN NOT NULL   -- the tip keeps an unrecognised country as given (*_raw)
);
