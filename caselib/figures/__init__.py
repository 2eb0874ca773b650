"""Figures: functions that take pandas frames and return plotly figures.

Importing this package loads plotly; ``import caselib`` does not import it.
"""

from caselib.figures.maps import choropleth, point_map

__all__ = ["choropleth", "point_map"]
