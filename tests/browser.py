"""Headless Chromium for the project's browser tests, with the network cut off.

Every figure, report and dashboard the project makes must work on an air-gapped machine, so
the browser used to test them may reach only ``file://`` URLs and servers on this machine
(``127.0.0.1``, ``localhost``, ``[::1]``); every other request is aborted and recorded, and a
test asserts that there were none. Page errors and console errors are recorded too.

The browser is Debian's ``chromium`` (installed with apt-get when missing), driven by
Playwright's Python API; Playwright never downloads a browser of its own here.

The ``browser`` fixture is registered once, in ``conftest.py`` (Playwright's sync API allows
one instance per thread, so a test module must not import the fixture again). Use it::

    from browser import plot_marks

    def test_page(browser, tmp_path):
        report = browser.open_page(path.as_uri())
        assert report.external_requests == []
        assert report.page_errors == []
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
# Schemes that never leave the page: the document itself, inline data and blobs.
LOCAL_SCHEMES = {"file", "data", "blob", "about", "chrome-error"}

# Counts, per plotly graph div, what was actually drawn: the filled areas, lines and markers
# of every scatter trace (with the number of sub-paths "M..." in each fill, since plotly draws
# all the polygons of a trace as one path), and every non-empty path of any other trace type.
_PLOT_MARKS_JS = """
() => Array.from(document.querySelectorAll('.js-plotly-plot')).map((div) => {
  const nonEmpty = (el) => { const d = el.getAttribute('d'); return d !== null && d !== '' && d !== 'M0,0Z'; };
  const traces = Array.from(div.querySelectorAll('.scatterlayer .trace')).map((trace) => {
    const fills = Array.from(trace.querySelectorAll('path.js-fill')).filter(nonEmpty);
    return {
      fills: fills.length,
      fill_subpaths: fills.reduce((n, p) => n + (p.getAttribute('d').match(/M/g) || []).length, 0),
      fill_colors: fills.map((p) => getComputedStyle(p).fill),
      lines: Array.from(trace.querySelectorAll('path.js-line')).filter(nonEmpty).length,
      points: Array.from(trace.querySelectorAll('path.point')).filter(nonEmpty).length,
    };
  });
  const paths = Array.from(div.querySelectorAll(
      '.cartesianlayer .overplot path, .polarlayer path, .geolayer path, .pielayer path, '
      + '.sunburstlayer path, .treemaplayer path, .iciclelayer path, .funnelarealayer path'))
    .filter(nonEmpty).length;
  const rect = div.getBoundingClientRect();
  return {id: div.id, width: rect.width, height: rect.height, paths: paths, traces: traces,
          legend_items: div.querySelectorAll('.legend .traces').length};
})
"""


# Says, per caselib map (MapWidget) on the page, what it shows: its title, legend, how many
# updates it has painted, and each country's computed fill and label.
_MAP_MARKS_JS = """
() => Array.from(document.querySelectorAll('.caselib-map')).map((el) => {
  const svg = el.querySelector('svg');
  const rect = svg.getBoundingClientRect();
  const shapes = {};
  for (const shape of el.querySelectorAll('[data-iso3]')) {
    if (getComputedStyle(shape).display === 'none') continue;
    shapes[shape.dataset.iso3] = {fill: getComputedStyle(shape).fill, label: shape.getAttribute('aria-label')};
  }
  return {drawn: Number(el.dataset.drawn), title: el.querySelector('.caselib-map-title').textContent,
          legend: Array.from(el.querySelectorAll('.caselib-map-legend-item')).map((i) => i.textContent),
          width: rect.width, height: rect.height, countries: shapes};
})
"""


# Page coordinates of a point inside a country (its anchor) on the n-th caselib map.
COUNTRY_POINT_JS = """([n, code]) => {
    const svg = document.querySelectorAll('.caselib-map svg')[n];
    const shape = svg.querySelector(`[data-iso3="${code}"]`);
    const [x, y] = shape.dataset.anchor.split(' ').map(Number);
    const point = new DOMPoint(x, y).matrixTransform(svg.getScreenCTM());
    return [point.x, point.y];
}"""


def map_marks(page, *, count: int = 1, timeout: float = 30_000) -> list[dict]:
    """Return, per caselib map on ``page`` (in document order), what it shows, once ``count``
    maps have painted their first update.

    Returns
    -------
    list of dict
        ``drawn`` (updates painted), ``title``, ``legend`` (entry texts), ``width``,
        ``height`` and ``countries``: iso3 -> ``fill`` (computed CSS fill, ``"url(...)"`` when
        hatched) and ``label`` ("France: tips sent from: 2,872") of every outline and shown dot.
    """
    page.wait_for_function(
        """(n) => { const maps = document.querySelectorAll('.caselib-map');
                   return maps.length >= n && Array.from(maps).every((m) => Number(m.dataset.drawn) > 0); }""",
        arg=count,
        timeout=timeout,
    )
    return page.evaluate(_MAP_MARKS_JS)


def is_local(url: str) -> bool:
    """Whether ``url`` stays on this machine (a file, inline data, or a loopback server)."""
    parts = urlsplit(url)
    if parts.scheme in LOCAL_SCHEMES:
        return True
    if parts.scheme in {"http", "https", "ws", "wss"}:
        return (parts.hostname or "") in LOCAL_HOSTS
    return False


def apt_install(package: str, present, why: str) -> None:
    """Install Debian's ``package`` with apt-get unless ``present()`` already holds.

    Skips the calling test, saying ``why`` the package is needed, only when apt-get cannot
    be used at all (not root, no apt-get) or the install fails.
    """
    if present():
        return
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        pytest.skip(f"{why}; install it with `apt-get install -y {package}` (as root)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = [apt, "install", "-y", "-q", package]
    result = subprocess.run(install, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        subprocess.run([apt, "update", "-q"], capture_output=True, text=True, env=env)
        result = subprocess.run(install, capture_output=True, text=True, env=env)
    if result.returncode != 0 or not present():
        tail = " ".join((result.stderr or result.stdout).strip().splitlines()[-2:])
        pytest.skip(f"{why} and `apt-get install -y {package}` failed: {tail}")


def ensure_chromium() -> Path:
    """Return Debian's chromium, installing it with apt-get if it is missing."""
    apt_install("chromium", CHROMIUM.exists, "browser tests need /usr/bin/chromium")
    return CHROMIUM


@dataclass
class PageReport:
    """One page opened with the network cut off, and what happened while it loaded."""

    page: object  # playwright.sync_api.Page
    external_requests: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def plot_marks(self, *, count: int | None = None, timeout: float = 30_000) -> list[dict]:
        """Wait for the page's plotly figures to render, then say what each one drew."""
        return plot_marks(self.page, count=count, timeout=timeout)

    def map_marks(self, *, count: int = 1, timeout: float = 30_000) -> list[dict]:
        """Wait for the page's caselib maps to paint, then say what each one shows."""
        return map_marks(self.page, count=count, timeout=timeout)


def plot_marks(page, *, count: int | None = None, timeout: float = 30_000) -> list[dict]:
    """Return, per plotly graph div on ``page`` (in document order), what it drew.

    Waits until ``count`` graph divs (at least one if ``count`` is None) have rendered.

    Returns
    -------
    list of dict
        ``id``, ``width``, ``height``, ``paths`` (non-empty SVG paths in the plot area),
        ``legend_items`` and ``traces``: for each scatter trace in trace order, ``fills``
        (non-empty fill paths), ``fill_subpaths`` (rings drawn in them), ``fill_colors``
        (computed CSS fill, e.g. ``"rgb(253, 141, 60)"`` or ``"url(#...)"`` for a pattern),
        ``lines`` and ``points``.
    """
    wanted = 1 if count is None else count
    page.wait_for_function(
        """(n) => { const divs = document.querySelectorAll('.js-plotly-plot');
                   return divs.length >= n && Array.from(divs).every((d) => d._fullLayout && d.querySelector('.main-svg')); }""",
        arg=wanted,
        timeout=timeout,
    )
    # plotly finishes drawing in promise callbacks after the first frame.
    page.wait_for_timeout(300)
    return page.evaluate(_PLOT_MARKS_JS)


class Browser:
    """A headless Chromium whose pages may reach only local URLs."""

    def __init__(self) -> None:
        from playwright.sync_api import sync_playwright

        executable = ensure_chromium()
        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(
            executable_path=str(executable), headless=True, args=CHROMIUM_ARGS
        )

    def open_page(
        self,
        url: str,
        *,
        wait_until: str = "load",
        timeout: float = 60_000,
        viewport: tuple[int, int] = (1280, 800),
    ) -> PageReport:
        """Open ``url`` in a fresh context and return the report, still recording.

        Every request to anything but a local URL is aborted and its URL appended to
        ``external_requests`` (so is a WebSocket to a non-local host). The page stays open
        until the browser closes, so a test can go on interacting with it.
        """
        context = self._browser.new_context(
            viewport={"width": viewport[0], "height": viewport[1]}, service_workers="block"
        )
        page = context.new_page()
        report = PageReport(page=page)

        def route(route) -> None:
            request_url = route.request.url
            if is_local(request_url):
                route.continue_()
            else:
                report.external_requests.append(request_url)
                route.abort("blockedbyclient")

        context.route("**/*", route)
        # A request the router never sees (it should see all) is still recorded.
        page.on("request", lambda r: None if is_local(r.url) or r.url in report.external_requests
                else report.external_requests.append(r.url))
        page.on("websocket", lambda ws: None if is_local(ws.url) else report.external_requests.append(ws.url))
        page.on("pageerror", lambda error: report.page_errors.append(str(error)))
        page.on("console", lambda msg: report.console_errors.append(msg.text) if msg.type == "error" else None)
        page.goto(url, wait_until=wait_until, timeout=timeout)
        return report

    def close(self) -> None:
        self._browser.close()
        self._playwright.stop()


@pytest.fixture(scope="session")
def browser():
    """One `Browser` for the whole session; skipped only if chromium cannot be had."""
    instance = Browser()
    yield instance
    instance.close()
