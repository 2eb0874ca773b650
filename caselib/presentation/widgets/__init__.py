"""Interactive views for JupyterLab and Voilà, composed from caselib's analyses and figures.

One module per view, each a :class:`~caselib.presentation.widgets.common.View` composed of shared parts:

- :mod:`~caselib.presentation.widgets.tip_explorer`: :class:`TipExplorer`, filters driving two country
  maps, a timeline and the tip table;
- :mod:`~caselib.presentation.widgets.response_explorer`: :class:`ResponseExplorer`, each wave's response;
- :mod:`~caselib.presentation.widgets.closure_review`: :class:`ClosureReview`, the closure queue and decisions;
- :mod:`~caselib.presentation.widgets.management_dashboard`: :class:`ManagementDashboard`, what management sees;
- :mod:`~caselib.presentation.widgets.triage_view`: :class:`TriageView`, the tips to triage, decided by key or button;
- :mod:`~caselib.presentation.widgets.filter_panel` (:class:`FilterPanel`), :mod:`~caselib.presentation.widgets.tip_table`
  (:class:`TipTable`) and :mod:`~caselib.presentation.widgets.common` (:class:`View`, figure widgets,
  escaped HTML, :func:`open_session`) are the parts they share.

Every view reads through a :class:`~caselib.store.session.Session` (its connection is let go as
soon as a load in another process waits for the file). One :class:`FilterPanel` yields a
:class:`~caselib.domain.filters.TipFilter`; views recompute from it and show its caption above
them. Figures are drawn once and then updated in place (:mod:`caselib.presentation.figures.live`), so
that an interaction recomputes what is visible within 100 ms at a million tips
(``benchmarks/bench_widgets.py``). Tip text is untrusted: it is only ever shown escaped,
never as HTML.

Importing this package loads ipywidgets and plotly; ``import caselib`` does not.
"""

from caselib.presentation.widgets.closure_review import ClosureReview
from caselib.presentation.widgets.common import (
    FigureOutput,
    NoDatabase,
    View,
    caption_html,
    escape_cell,
    figure_widget,
    html_table,
    open_session,
)
from caselib.presentation.widgets.filter_panel import FilterPanel
from caselib.presentation.widgets.management_dashboard import ManagementDashboard
from caselib.presentation.widgets.response_explorer import ResponseExplorer
from caselib.presentation.widgets.tip_explorer import TipExplorer
from caselib.presentation.widgets.tip_table import TABLE_COLUMNS, TipTable
from caselib.presentation.widgets.triage_view import TriageView

__all__ = [
    "TABLE_COLUMNS",
    "ClosureReview",
    "FigureOutput",
    "FilterPanel",
    "ManagementDashboard",
    "NoDatabase",
    "ResponseExplorer",
    "TipExplorer",
    "TipTable",
    "TriageView",
    "View",
    "caption_html",
    "escape_cell",
    "figure_widget",
    "html_table",
    "open_session",
]
