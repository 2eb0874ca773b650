-- A digest of the contract text each stored tip was made from (its columns as the file gave
-- them, trimmed and mapped) and of the loader's rules that made it: a re-delivery whose row
-- has the same digest is the same tip, unchanged, without being parsed and compared again.
-- A tip without one (stored before, or changed otherwise than by a load: an analyst's
-- decision must delete its row here) is compared in full.
CREATE TABLE tip_fingerprints (
    tip_id          VARCHAR NOT NULL,
    fingerprint     UBIGINT NOT NULL,
    coords_dropped  BOOLEAN NOT NULL,  -- the row gave coordinates that were dropped (the summary counts them)
    kept_raw        BOOLEAN NOT NULL   -- the tip keeps an unrecognised country as given (*_raw)
);
