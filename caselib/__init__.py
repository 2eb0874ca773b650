"""caselib: the Trace-an-Object case workbench library.

Loads tips, objects and waves into one DuckDB file per the intake contract, and offers the
analyses the notebooks, dashboards and reports compose. Importing caselib loads no plotting
or widget library; those are imported by the functions that draw.
"""

from caselib.domain.ingest import LoadResult, load_file
from caselib.errors import CaselibError
from caselib.store import Store

__all__ = ["CaselibError", "LoadResult", "Store", "load_file", "open_store"]
__version__ = "0.1.0"


def open_store(path=None, *, read_only: bool = False) -> Store:
    """Open the campaign database at ``path``, else `CASELIB_DB`, else ``data/caselib.duckdb``."""
    from caselib.config import default_db_path

    return Store(path or default_db_path(), read_only=read_only)
