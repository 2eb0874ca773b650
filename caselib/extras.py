"""The optional parts of caselib and the libraries each needs.

``pip install caselib`` gives the loader, the analyses and the command line. Drawing needs
an extra: ``caselib[report]``, ``caselib[notebooks]``, ``caselib[dashboard]`` (or
``caselib[all]``). A command that needs one checks for it first with :func:`require`, so a
light install says in one line what to install instead of failing with a traceback.
"""

from __future__ import annotations

import importlib.util

from caselib.errors import CaselibError

__all__ = ["EXTRAS", "MissingExtra", "require"]

# The modules each extra brings that caselib imports (tests/test_packaging.py checks them
# against pyproject.toml's optional dependencies).
EXTRAS: dict[str, tuple[str, ...]] = {
    "report": ("plotly", "geopandas"),
    "notebooks": ("plotly", "geopandas", "ipywidgets", "anywidget", "jupyterlab", "ipykernel"),
    "dashboard": ("plotly", "geopandas", "ipywidgets", "anywidget", "voila", "ipykernel"),
}


class MissingExtra(CaselibError):
    """A part of caselib needs libraries of an extra that is not installed."""


def require(extra: str, what: str) -> None:
    """Raise :class:`MissingExtra` unless every library of ``extra`` is importable.

    ``what`` names the part that needs them, for the message: ``"the report"`` gives
    ``the report needs plotly and geopandas: pip install 'caselib[report]'``.
    """
    missing = [name for name in EXTRAS[extra] if importlib.util.find_spec(name) is None]
    if missing:
        names = missing[0] if len(missing) == 1 else ", ".join(missing[:-1]) + " and " + missing[-1]
        raise MissingExtra(f"{what} needs {names}: pip install 'caselib[{extra}]'")
