"""The presentation layer: plotly figures, ipywidgets views, the report, safe exports.

Built on :mod:`caselib.domain` and :mod:`caselib.store`; nothing below imports it. Importing
``caselib`` loads none of it: plotting and widget libraries come with the modules here.
"""
