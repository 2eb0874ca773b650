-- Every column as text; types are parsed later so a bad value rejects one row, not the file.
-- Lines the reader cannot split land in _csv_rejects with their line numbers.
-- The reader puts its projection of r (contact columns left out) in place of the star.
CREATE OR REPLACE TEMP TABLE _raw AS
SELECT *
FROM read_csv(
    $path,
    delim = $delim,
    header = true,
    quote = '"',
    escape = '"',
    auto_detect = false,
    columns = $columns,
    store_rejects = true,
    rejects_table = '_csv_rejects',
    rejects_scan = '_csv_scans',
    strict_mode = true,
    encoding = 'utf-8'
) r;
