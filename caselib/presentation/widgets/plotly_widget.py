"""plotly's ``FigureWidget``, made light for the browser: its JavaScript sent once per kernel,
and no drawn state sent back to the kernel after each redraw.

plotly 7's ``FigureWidget`` is an anywidget whose ``_esm`` is plotly's whole widget bundle
(about 5 MB, plotly.js included), held in every widget's state: a view of three figures
sent 15 MB before drawing anything. And after every update it draws, its JavaScript
reports the figure's full computed state back (``_js2py_traceDeltas``, ~190 KB per map),
which the kernel processes and echoes back to the page (ipywidgets' ``echo_update``), so
the kernel stayed busy for a second after every pick (``benchmarks/bench_browser.py``).

Here :class:`FigureWidget`'s ``_esm`` is a few lines that wait for the bundle, which one
hidden widget per kernel (:func:`bundle_widget`) carries; the page loads it once. In that
copy of the bundle, the two methods that compute and send the drawn state
(``_sendTraceDeltas``, ``_sendLayoutDelta``) return at once: computing it merged every
trace's full data, coordinates included, after every update (50-200 ms per map), even
when nothing was sent. The views never read plotly's computed defaults back
(:mod:`caselib.presentation.figures.live` keeps what it showed); clicks
(``_js2py_pointsCallback``) and the user's own pans and zooms still reach the kernel.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import anywidget
import plotly
import plotly.graph_objects as go
from plotly.serializers import custom_serializers
from traitlets import Dict

__all__ = ["FigureWidget", "bundle_widget"]

_BUNDLE = Path(plotly.__file__).parent / "package_data" / "widgetbundle.js"

# The global both scripts meet at: a promise of plotly's widget factory.
_SHARED = """const shared = () => globalThis.__caselibPlotlyWidget ??= (() => {
  let resolve; const promise = new Promise((r) => { resolve = r; }); return {promise, resolve};
})();
"""

_STUB_ESM = _SHARED + """export default async () => (await shared().promise)();
"""

# The definitions (not the calls) of the methods that report the drawn state to the kernel.
_REPORTERS = re.compile(r"\b(_sendTraceDeltas|_sendLayoutDelta)\(([\w$]*)\)\{")


@functools.cache
def _bundle_esm() -> str:
    """plotly's widget bundle, registering its factory on the shared global instead of exporting it,
    with its drawn-state reports made to return at once."""
    text = _BUNDLE.read_text(encoding="utf-8")
    # The module's own export is its last statement; only license comments follow it.
    match = list(re.finditer(r"export\s*\{([^{}]*)\}", text))[-1:]
    match = match[0] if match else None
    default = match and re.search(r"([\w$]+) as default", match.group(1))
    if not default:
        raise RuntimeError(f"plotly's widget bundle {_BUNDLE} no longer ends with its default export; "
                           "caselib's FigureWidget needs updating for this plotly version.")
    body, found = _REPORTERS.subn(r"\1(\2){return;", text[: match.start()])
    if found != 2:
        raise RuntimeError(f"plotly's widget bundle {_BUNDLE} no longer defines _sendTraceDeltas and "
                           "_sendLayoutDelta once each; caselib's FigureWidget needs updating for this plotly version.")
    return (body + "\n" + _SHARED
            + f"shared().resolve({default.group(1)});\nexport default {{ render() {{}} }};\n" + text[match.end():])


class _PlotlyBundle(anywidget.AnyWidget):
    """Carries plotly's widget JavaScript to the page, once per kernel; shows nothing."""

    _esm = ""

    def __init__(self) -> None:
        type(self)._esm = _bundle_esm()
        super().__init__()


@functools.cache
def bundle_widget() -> _PlotlyBundle:
    """The kernel's one carrier of plotly's widget bundle (created with the first figure)."""
    return _PlotlyBundle()


def _quiet_trait():
    # A message the page sends is not echoed back to it (ipywidgets' echo_update).
    return Dict(allow_none=True).tag(sync=True, echo_update=False, **custom_serializers)


class FigureWidget(go.FigureWidget):
    """A ``go.FigureWidget`` whose JavaScript comes from :func:`bundle_widget` and which
    sends no drawn state back after updates."""

    _esm = _STUB_ESM
    _js2py_traceDeltas = _quiet_trait()
    _js2py_layoutDelta = _quiet_trait()
    _js2py_restyle = _quiet_trait()
    _js2py_relayout = _quiet_trait()
    _js2py_update = _quiet_trait()
    _js2py_pointsCallback = _quiet_trait()

    def __init__(self, *args, **kwargs) -> None:
        bundle_widget()  # before the figure, so that the page has plotly when it draws it
        super().__init__(*args, **kwargs)
