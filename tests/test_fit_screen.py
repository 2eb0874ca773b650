"""Every view fits a 1280×800 screen: each notebook run in a real JupyterLab with its file
browser open, the Voilà dashboard and the HTML report, in headless Chromium with the network
blocked. No output is cut off or needs a sideways scroll, figures stay inside their output,
plotly titles inside their figure, launch labels apart, and ids, dates and statuses on one line.

Screenshots of each view go to ``CASELIB_SHOTS`` (a folder) when it is set.

A figure also fills its box: plotly lays a figure out at 700 px when it is drawn before its
box is on the page; caselib's ``FigureWidget`` lays it out again whenever its box changes
size (``caselib.presentation.widgets.plotly_widget``), so a figure with no width of its own
is as wide as its box. (The report's figures have a width of their own, for print.)
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest

from caselib import Store
from caselib.domain.demo import build_demo
from servers import served_dashboard, served_lab

ROOT = Path(__file__).resolve().parents[1]
VIEWPORT = (1280, 800)
NOTEBOOKS = ["00_start_here", "01_tip_explorer", "02_campaign_response", "03_closure_review", "04_campaign_report"]

# What does not fit, inside each root element (an output area, or the report's body): a
# list of sentences naming the element and the pixels it is over by.
_MISFITS_JS = """
([selector, follow]) => {
  const problems = [];
  const name = (el) => {
    const cls = (el.getAttribute('class') || '').split(/\\s+/).filter((c) => c).slice(0, 3).join('.');
    const text = (el.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 40);
    return `${el.tagName.toLowerCase()}${cls ? '.' + cls : ''}${text ? ' "' + text + '"' : ''}`;
  };
  const shown = (el) => {
    if (!el.getClientRects().length) return false;
    const style = getComputedStyle(el);
    return style.visibility !== 'hidden' && style.display !== 'none';
  };
  const box = (el) => el.getBoundingClientRect();
  const inside = (inner, outer, slack = 1) => inner.left >= outer.left - slack && inner.right <= outer.right + slack
                                              && inner.top >= outer.top - slack && inner.bottom <= outer.bottom + slack;
  for (const root of document.querySelectorAll(selector)) {
    if (!shown(root)) continue;
    const edge = box(root).right;
    for (const el of [root, ...root.querySelectorAll('*')]) {
      if (!shown(el)) continue;
      const svg = el instanceof SVGElement;
      // plotly's hover layers and drag handles sit over the plot, often wider than it.
      if (el.closest('.hoverlayer, .draglayer, .modebar-container, .caselib-map-tooltip')) continue;
      if (!svg) {
        const style = getComputedStyle(el);
        const cut = style.overflowX !== 'visible';
        if (el.scrollWidth > el.clientWidth + 1 && (cut || el.tagName === 'SELECT')) {
          problems.push(`${name(el)}: ${el.scrollWidth} px of content in ${el.clientWidth} px (overflow-x ${style.overflowX})`);
        }
      }
      const rect = box(el);
      // Named once, at the outermost element that goes beyond the edge.
      const parent = el === root ? null : el.parentElement;
      const parentBeyond = parent && parent !== root && box(parent).right > edge + 1;
      if (rect.width > 0 && rect.right > edge + 1 && !parentBeyond && !(svg && el.closest('defs, clipPath'))) {
        problems.push(`${name(el)}: ends ${Math.round(rect.right - edge)} px beyond the right edge of its output`);
      }
    }
    for (const gd of root.querySelectorAll('.js-plotly-plot')) {
      const svg = gd.querySelector('.main-svg');
      if (!svg) continue;
      const figure = box(svg);
      if (figure.width > box(root).width + 1) {
        problems.push(`plotly figure "${gd.querySelector('.gtitle')?.textContent ?? ''}": ${Math.round(figure.width)} px wide in an output of ${Math.round(box(root).width)} px`);
      }
      // Follows its box: no width of its own, and as wide as its box (see the module's docstring).
      if (follow && (gd.layout.width !== undefined || !gd._fullLayout.autosize)) {
        problems.push(`plotly figure "${gd.querySelector('.gtitle')?.textContent ?? ''}": a fixed width of ${gd._fullLayout.width} px`);
      } else if (follow && Math.abs(figure.width - box(gd).width) > 2) {
        problems.push(`plotly figure "${gd.querySelector('.gtitle')?.textContent ?? ''}": ${Math.round(figure.width)} px wide in its box of ${Math.round(box(gd).width)} px`);
      }
      const title = gd.querySelector('.gtitle');
      if (title && title.textContent.trim() && !inside(box(title), figure)) {
        const t = box(title);
        problems.push(`plotly title "${title.textContent}": ${Math.round(t.left)}–${Math.round(t.right)} px, outside its figure ${Math.round(figure.left)}–${Math.round(figure.right)} px`);
      }
      const labels = Array.from(gd.querySelectorAll('.annotation')).filter(shown).map((a) => [a, a.getBoundingClientRect()])
        .filter(([, r]) => r.width > 0);
      for (let i = 0; i < labels.length; i++) {
        for (let j = i + 1; j < labels.length; j++) {
          const [a, r] = labels[i], [b, s] = labels[j];
          const across = Math.min(r.right, s.right) - Math.max(r.left, s.left);
          const down = Math.min(r.bottom, s.bottom) - Math.max(r.top, s.top);
          if (across > 1 && down > 1) {
            problems.push(`plotly labels "${a.textContent}" and "${b.textContent}" overlap by ${Math.round(across)}×${Math.round(down)} px`);
          }
        }
      }
    }
  }
  return problems;
}
"""

# Cells that must keep their text on one line (ids, dates, statuses): those of ``selector``
# and every cell that holds only an id ("G004", "T0003087", "2017-06") or a date and time.
_NOWRAP_JS = """
(selector) => {
  const wrapped = [];
  const idOrDate = /^(?:[A-Z]{1,3}\\d+|\\d{4}-\\d{2}(?:-\\d{2})?(?: \\d{2}:\\d{2})?(?: UTC)?)$/;
  const cells = new Set([...document.querySelectorAll(selector),
                         ...Array.from(document.querySelectorAll('td')).filter((td) => idOrDate.test(td.textContent.trim()))]);
  for (const cell of cells) {
    if (!cell.getClientRects().length || !cell.textContent.trim()) continue;
    const range = document.createRange();
    range.selectNodeContents(cell);
    const tops = new Set(Array.from(range.getClientRects()).filter((r) => r.width > 0).map((r) => Math.round(r.top)));
    if (tops.size > 1) wrapped.push(`"${cell.textContent.trim()}" on ${tops.size} lines`);
  }
  return wrapped;
}
"""
NOWRAP_CELLS = ".caselib-table td.nowrap, .caselib-summary td.nowrap, .caselib-summary td.number"


def misfits(page, selector: str, *, follow: bool = True) -> list[str]:
    """Sentences naming what does not fit inside the elements matching ``selector``; with
    ``follow``, also every plotly figure with a width of its own."""
    return page.evaluate(_MISFITS_JS, [selector, follow]) + page.evaluate(_NOWRAP_JS, NOWRAP_CELLS)


def said(found: list[str]) -> str:
    """The first of ``found``, one a line, and how many more there are."""
    more = f"\n… and {len(found) - 20} more" if len(found) > 20 else ""
    return "does not fit:\n" + "\n".join(found[:20]) + more


def screenshot(page, name: str, *, tall: bool = False) -> None:
    """The screen as the analyst sees it (``name``.png) and, below, the whole view
    (``name``-whole.png): the page, or with ``tall`` a screen 1280 px wide and 4000 px high."""
    folder = os.environ.get("CASELIB_SHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(Path(folder) / f"{name}.png"))
    if tall:
        page.set_viewport_size({"width": VIEWPORT[0], "height": 4000})
        page.wait_for_timeout(1000)
        page.locator(".jp-OutputArea-output").first.scroll_into_view_if_needed()
    page.screenshot(path=str(Path(folder) / f"{name}-whole.png"), full_page=not tall)
    page.set_viewport_size({"width": VIEWPORT[0], "height": VIEWPORT[1]})


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("fit") / "demo.duckdb"
    build_demo(path, tips=5000, progress=False, enrich=False)
    return path


@pytest.fixture(scope="module")
def lab(demo_db):
    """`make lab` on the demo database; yields the lab's URL, token and working-copy folder."""
    folder = demo_db.parent
    with served_lab(demo_db, folder) as (base, token, work):
        # The report notebook writes its file next to the test's database, not into work/.
        copy = ROOT / work / "04_campaign_report.ipynb"
        notebook = json.loads(copy.read_text())
        for cell in notebook["cells"]:
            cell["source"] = "".join(cell["source"]).replace("'../reports/campaign-report.html'",
                                                             repr(str(folder / "report.html")))
        copy.write_text(json.dumps(notebook))
        yield base, token, work


def run_all(browser, lab, name: str):
    """Open the working copy of notebook ``name`` with the file browser open, run every cell,
    and return the page once the kernel is idle and every figure and map has drawn."""
    base, token, work = lab
    url = f"{base}/lab/workspaces/fit-{uuid.uuid4().hex[:8]}/tree/{work}/{name}.ipynb?reset&token={token}"
    report = browser.open_page(url, timeout=120_000, viewport=VIEWPORT)
    page = report.page
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=120_000)
    # JupyterLab opens with its file browser showing; the views must fit beside it.
    assert page.locator("#filebrowser").is_visible()
    assert page.evaluate("() => document.querySelector('#filebrowser').getBoundingClientRect().width") > 200
    # The kernel is connected (the status bar says so) before Run All, else it may run nothing.
    page.wait_for_function("() => /\\| Idle/.test(document.querySelector('#jp-main-statusbar')?.textContent ?? '')",
                           timeout=120_000)
    page.click(".lm-MenuBar-itemLabel:text-is('Run')")
    page.click(".lm-Menu-itemLabel:text-is('Run All Cells')")
    page.wait_for_function(
        """() => { const prompts = Array.from(document.querySelectorAll('.jp-CodeCell .jp-InputPrompt'));
                   return prompts.length && prompts.every((p) => /\\[\\d+\\]/.test(p.textContent)); }""",
        timeout=120_000,
    )
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=120_000)
    page.wait_for_function(
        """() => Array.from(document.querySelectorAll('.js-plotly-plot')).every((d) => d._fullLayout && d.querySelector('.main-svg'))
              && Array.from(document.querySelectorAll('.caselib-map')).every((m) => Number(m.dataset.drawn) > 0)""",
        timeout=120_000,
    )
    page.wait_for_timeout(1000)  # plotly's resize after the widget's box settles
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").all_inner_texts()
    assert errors == []
    return report


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_views_fit_beside_the_file_browser(browser, lab, name):
    report = run_all(browser, lab, name)
    page = report.page
    outputs = page.locator(".jp-OutputArea-output").count()
    assert outputs >= 1
    # The notebook itself never scrolls sideways.
    panel = page.evaluate("""() => { const el = document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-outer');
                                     return [el.scrollWidth, el.clientWidth]; }""")
    found = misfits(page, ".jp-OutputArea-output")
    if name == "01_tip_explorer":
        # The last cell picked one wave; cleared, the timeline shows every launch.
        painted = page.evaluate("() => Number(document.querySelector('.caselib-map').dataset.drawn)")
        page.get_by_role("button", name="Clear filters").click()
        page.wait_for_function("(n) => Number(document.querySelector('.caselib-map').dataset.drawn) > n",
                               arg=painted, timeout=60_000)
        page.wait_for_timeout(1000)
        found += [f"all tips: {problem}" for problem in misfits(page, ".jp-OutputArea-output")]
    # The view is what a screenshot shows: scrolled to the first output.
    page.locator(".jp-OutputArea-output").first.scroll_into_view_if_needed()
    screenshot(page, name, tall=True)
    assert not found, said(found)
    assert panel[0] <= panel[1]
    assert report.page_errors == [] and report.external_requests == []


@pytest.fixture(scope="module")
def dashboard(demo_db):
    with served_dashboard(demo_db, demo_db.parent) as url:
        yield url


def test_the_dashboard_fits_the_screen(browser, dashboard):
    report = browser.open_page(dashboard, timeout=180_000, viewport=VIEWPORT)
    page = report.page
    page.wait_for_selector(".caselib-tiles", timeout=180_000)
    report.plot_marks(count=2, timeout=120_000)
    report.map_marks(count=1, timeout=120_000)
    page.wait_for_timeout(1000)
    screenshot(page, "dashboard", tall=True)
    assert page.locator(".jp-OutputArea-output").count() >= 1
    found = misfits(page, ".jp-OutputArea-output")
    width = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert not found, said(found)
    assert width[0] <= width[1]
    assert report.page_errors == [] and report.external_requests == []


def test_the_report_fits_the_screen(browser, demo_db, tmp_path):
    from caselib.presentation.report import build_report

    with Store(demo_db, read_only=True) as store:
        path = build_report(store).write(tmp_path / "report.html")
    report = browser.open_page(path.as_uri(), viewport=VIEWPORT)
    page = report.page
    report.plot_marks(count=3)
    screenshot(page, "report")
    # The report's figures are 680 px wide on purpose: the page shows what the PDF prints.
    found = misfits(page, "body", follow=False) + page.evaluate(_NOWRAP_JS, "td:not(.wrap)")
    width = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert not found, said(found)
    assert width[0] <= width[1]
    assert report.page_errors == [] and report.external_requests == []
