"""Figures: functions that take pandas frames and return plotly figures.

:mod:`caselib.presentation.figures.maps`, :mod:`~caselib.presentation.figures.response`, :mod:`~caselib.presentation.figures.consensus`
and :mod:`~caselib.presentation.figures.management` build static figures; :mod:`caselib.presentation.figures.live` holds
the interactive views' figures, drawn once with the same helpers and then updated in place.

Importing this package loads plotly; ``import caselib`` does not import it.
"""

from caselib.presentation.figures.maps import choropleth, point_map

__all__ = ["choropleth", "point_map"]
