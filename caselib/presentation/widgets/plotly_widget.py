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
import importlib
import importlib.util
import re
import sys
import types
from pathlib import Path


def _defer_iri_grammar(name: str = "rfc3987_syntax") -> None:
    """Have ``rfc3987_syntax`` compile its grammar when first used, not when imported.

    plotly's ``FigureWidget`` imports plotly's renderers, which import nbformat, which imports
    jsonschema, whose format checkers import ``rfc3987_syntax.is_valid_syntax``; that module
    compiles an Earley grammar as it is imported: 1.1 s of every kernel's first figure, for a
    check (IRI formats in a JSON schema) that no view makes. Until then a stand-in module
    holds its place; its ``is_valid_syntax``, or any other name asked of it, imports the real
    module, which then takes its place in ``sys.modules``.
    """
    if name in sys.modules or importlib.util.find_spec(name) is None:
        return
    stand_in = types.ModuleType(name, "Stands in for rfc3987_syntax until it is used (caselib).")

    def real() -> types.ModuleType:
        if sys.modules.get(name) is stand_in:
            del sys.modules[name]
        return importlib.import_module(name)

    def is_valid_syntax(*args, **kwargs):
        return real().is_valid_syntax(*args, **kwargs)

    def other(attribute: str):
        # The import system asks a module for __path__ and the like: those do not load it.
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        return getattr(real(), attribute)

    stand_in.is_valid_syntax = is_valid_syntax
    stand_in.__getattr__ = other
    sys.modules[name] = stand_in


_defer_iri_grammar()

import anywidget  # noqa: E402
import plotly  # noqa: E402
import plotly.graph_objects as go  # noqa: E402
from plotly.serializers import custom_serializers  # noqa: E402
from traitlets import Dict  # noqa: E402

__all__ = ["FigureWidget", "bundle_widget"]

_BUNDLE = Path(plotly.__file__).parent / "package_data" / "widgetbundle.js"

# The global both scripts meet at: a promise of plotly's widget factory.
_SHARED = """const shared = () => globalThis.__caselibPlotlyWidget ??= (() => {
  let resolve; const promise = new Promise((r) => { resolve = r; }); return {promise, resolve};
})();
"""

_STUB_ESM = _SHARED + """export default async () => (await shared().promise)();
"""

# plotly's view sizes its figure to its box on Lumino's resize messages, which a view that
# anywidget renders never gets: it stayed at plotly's default 700 px whatever its box. Here
# each view follows its element's size (the first observation, when the element is laid out,
# included), through the view's own autosizeFigure (a figure with a width of its own keeps it).
_FOLLOW_WIDTH = """{
  const render = FigureView.prototype.perform_render;
  FigureView.prototype.perform_render = function (...args) {
    const result = render.apply(this, args);
    let last = null;
    const follow = () => {
      const width = this.el.getBoundingClientRect().width;
      if (!width || width === last) return;
      if (!this.el._fullLayout) { setTimeout(follow, 50); return; }  // still drawing
      last = width;
      this.autosizeFigure();
    };
    const observer = new ResizeObserver(follow);
    observer.observe(this.el);
    const remove = this.remove;
    this.remove = function (...rest) { observer.disconnect(); return remove.apply(this, rest); };
    return result;
  };
}
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
    view = match and re.search(r"([\w$]+) as FigureView", match.group(1))
    if not default or not view:
        raise RuntimeError(f"plotly's widget bundle {_BUNDLE} no longer ends with its default and FigureView "
                           "exports; caselib's FigureWidget needs updating for this plotly version.")
    body, found = _REPORTERS.subn(r"\1(\2){return;", text[: match.start()])
    if found != 2:
        raise RuntimeError(f"plotly's widget bundle {_BUNDLE} no longer defines _sendTraceDeltas and "
                           "_sendLayoutDelta once each; caselib's FigureWidget needs updating for this plotly version.")
    return (body + "\n" + _FOLLOW_WIDTH.replace("FigureView", view.group(1)) + _SHARED
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
    """A ``go.FigureWidget`` whose JavaScript comes from :func:`bundle_widget`, which sends no
    drawn state back after updates, and which a reloaded page draws as it is now."""

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

    def get_state(self, key=None, drop_defaults=False):
        """The widget's state, with the figure's traces and layout as they are now.

        plotly keeps the state it sent the page (``_widget_data``, ``_widget_layout``) as it
        was when the widget was created or displayed, and sends later changes as messages. A
        page that loads the widget again (a reload, the notebook reopened while the kernel
        runs) asks for the state and would draw the figure as it was then, under captions
        that are current. Here it gets the current figure.
        """
        state = super().get_state(key, drop_defaults)
        if not hasattr(self, "_layout_obj"):  # asked while plotly's __init__ runs
            return state
        for name, current in (("_widget_data", self._data), ("_widget_layout", self._layout_obj._props)):
            if name in state:
                state[name] = self.trait_metadata(name, "to_json", self._trait_to_json)(current, self)
        return state
