"""Figures: functions that take pandas frames and return plotly figures.

:mod:`caselib.figures.maps`, :mod:`~caselib.figures.response`, :mod:`~caselib.figures.consensus`
and :mod:`~caselib.figures.management` build static figures; :mod:`caselib.figures.live` holds
the interactive views' figures, drawn once with the same helpers and then updated in place.

Importing this package loads plotly; ``import caselib`` does not import it.
"""

from caselib.figures.maps import choropleth, point_map

__all__ = ["choropleth", "point_map"]
