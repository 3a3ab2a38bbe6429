"""The built site in a real browser: headless Chromium (Debian's package) driven by Playwright.

Two sites are served on 127.0.0.1. One is built from test submissions, one of them hostile: the
home page loads without console errors or requests leaving the machine, board tables sort and
filter with their details rows kept under their rows, a method page shows its plot, and the
hostile submission never runs a script. The other is built from the committed submissions and
checked as a visitor would see it: the verdict banner on the first screen with one verdict per
experiment, one board table per tier in the suite's tier order, header explanations still in the
``title`` tooltips after the table script ran and also printed in the legend, sorting from the
keyboard, download links that load, a copy button that at least selects the command, and at
390 px a main table that does not scroll sideways, a first row whose decisions are on screen,
and plots whose tick labels stay readable. A screenshot of the home page is saved to
``artifacts/leaderboard.png`` for CI to keep.
"""

from __future__ import annotations

import csv
import io
import json
import re
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlparse

import pytest

from junkdna_bench.leaderboard import Leaderboard
from junkdna_bench.site.serve import make_server
from site_fixtures import HOSTILE_NAME, REPO_ROOT, BuiltSite, build_test_site

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
SCREENSHOT = REPO_ROOT / "artifacts" / "leaderboard.png"
DESKTOP = {"width": 1400, "height": 1000}
PHONE = {"width": 390, "height": 844}
MIN_TICK_PX = 9.0  # smallest plot text, in CSS pixels, that still reads on a phone

if not CHROMIUM.exists():
    pytest.skip(
        f"{CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="the Python package playwright is not installed")


def _serve(site: BuiltSite) -> Iterator[str]:
    server = make_server(site.layout.html, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    yield f"http://{host}:{port}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    return build_test_site(tmp_path_factory.mktemp("browser-site"))


@pytest.fixture(scope="module")
def base_url(site: BuiltSite) -> Iterator[str]:
    yield from _serve(site)


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    """The site of the committed submissions, as ``junkdna-bench site build`` makes it."""
    return build_test_site(
        tmp_path_factory.mktemp("published-site"), copy_submissions_from=REPO_ROOT / "submissions"
    )


@pytest.fixture(scope="module")
def published_url(published: BuiltSite) -> Iterator[str]:
    yield from _serve(published)


@pytest.fixture(scope="module")
def browser() -> Iterator[sync_api.Browser]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Visit:
    """A page plus everything it did: console errors, uncaught exceptions, requests, dialogs."""

    def __init__(self, browser: sync_api.Browser, viewport: dict[str, int] | None = None) -> None:
        self.page = browser.new_page(viewport=viewport or DESKTOP)
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))

    def open(self, url: str) -> sync_api.Page:
        self.page.goto(url, wait_until="networkidle")
        return self.page

    def off_machine(self) -> list[str]:
        in_page = {"data", "blob", "about"}  # schemes that never touch the network
        return [
            u
            for u in self.requests
            if urlparse(u).scheme not in in_page and urlparse(u).hostname != "127.0.0.1"
        ]


def _headers(table: sync_api.Locator) -> list[str]:
    return [h.strip() for h in table.locator("thead th").all_inner_texts()]


def _main_rows(table: sync_api.Locator) -> sync_api.Locator:
    return table.locator("tbody tr:not(.jd-details)")


def _column(table: sync_api.Locator, header: str) -> list[str]:
    index = _headers(table).index(header)
    cells = [row.locator("td").nth(index).inner_text() for row in _main_rows(table).all()]
    return [cell.strip().splitlines()[0] for cell in cells]  # the first line: the method, not its parameters


def _sort_values(table: sync_api.Locator, header: str) -> list[str]:
    index = _headers(table).index(header)
    return [row.locator("td").nth(index).get_attribute("data-value") or "" for row in _main_rows(table).all()]


def _ascending(values: list[str]) -> bool:
    """Numbers ascending, with the empty ones (no value) last."""
    numbers = [float(v) for v in values if v]
    return numbers == sorted(numbers) and values[len(numbers) :] == [""] * (len(values) - len(numbers))


def _details_pairs(table: sync_api.Locator) -> list[tuple[str, str]]:
    """Each details row's text with the text of the row just above it: what must travel together."""
    return table.evaluate(
        """t => [...t.tBodies[0].rows].filter(r => r.classList.contains('jd-details'))
                .map(r => [r.previousElementSibling.textContent, r.textContent])"""
    )


class _Titles(HTMLParser):
    """The ``title`` of every header cell of every board table, from the page as served."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[str | None]] = {}
        self._table: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "table" and "jd-board" in (attributes.get("class") or "").split():
            self._table = attributes.get("id") or ""
            self.tables[self._table] = []
        elif tag == "th" and self._table is not None:
            self.tables[self._table].append(attributes.get("title"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None


def _tier_order(board: Leaderboard, name: str, model: str) -> list[str]:
    """The tiers a (board, model) has entries on, in its suite's order (easiest first)."""
    mine = {e.tier for e in board.entries if (e.board, e.model) == (name, model)}
    return [t for t in board.suites[board.boards[name]] if t in mine]


def test_home_page_sorts_filters_and_stays_local(browser: sync_api.Browser, base_url: str) -> None:
    visit = Visit(browser)
    page = visit.open(base_url + "index.html")
    table = page.locator("table.jd-board").first
    assert _main_rows(table).count() == 2  # two methods on the easiest tier's one variant
    methods = _column(table, "Method")
    assert sorted(methods) == sorted(["magnitude", HOSTILE_NAME])  # the hostile name shows as text
    assert page.locator("img[src$='overview.svg']").first.evaluate("img => img.naturalWidth") > 0
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    pairs = sorted(_details_pairs(table))
    assert len(pairs) == 2
    table.locator("thead th", has_text="Method").click()
    assert _column(table, "Method") == sorted(methods)
    table.locator("thead th", has_text="Method").click()
    assert _column(table, "Method") == sorted(methods, reverse=True)
    assert sorted(_details_pairs(table)) == pairs  # every details row still under its own row

    table.locator("thead th", has_text="60 %").click()
    values = _sort_values(table, "60 %")
    assert _ascending(values) and len(set(values)) > 1

    filter_box = page.locator("input.jdb-filter").first
    filter_box.fill("magnitude")
    assert table.locator("tbody tr:not(.jd-details):visible").count() == 1
    assert table.locator("tbody tr.jd-details:visible").count() == 1  # its details row stays with it
    assert page.locator(".jdb-filter-count").first.inner_text() == "1 of 2 rows"
    filter_box.fill("")

    assert visit.errors == []
    assert visit.dialogs == []  # the hostile submission's script never ran
    assert visit.off_machine() == []
    assert len(visit.requests) > 3  # the page, its scripts, styles and the plot were all fetched locally
    page.close()


def test_method_page_shows_its_plot(browser: sync_api.Browser, base_url: str) -> None:
    visit = Visit(browser)
    page = visit.open(base_url + "methods/magnitude.html")
    plot = page.locator("figure.jdb-figure img").first
    assert "plots/" in (plot.get_attribute("src") or "")
    assert plot.evaluate("img => img.complete && img.naturalWidth > 0")
    assert page.locator("table[data-jdb-sortable]").count() >= 1  # the per-comparison details
    hostile = Visit(browser)
    hostile.open(base_url + "methods/index.html").locator("a", has_text=HOSTILE_NAME).click()
    hostile.page.wait_for_load_state("networkidle")
    assert hostile.page.locator(".jdb-text").first.inner_text().startswith("<img src=x onerror=")
    assert visit.errors == [] and hostile.errors == [] and hostile.dialogs == []
    assert visit.off_machine() == [] and hostile.off_machine() == []


def test_banner_gives_one_verdict_per_experiment_on_the_first_screen(
    browser: sync_api.Browser, published: BuiltSite, published_url: str
) -> None:
    visit = Visit(browser)
    page = visit.open(published_url + "index.html")
    banner = page.locator("section.jd-verdicts")
    assert banner.count() == 1
    verdicts = banner.locator("div.jd-verdict")
    experiments = {(s.board, s.model) for s in published.board.submissions}
    assert verdicts.count() == len(experiments) >= 2
    protocols = sorted(v.get_attribute("data-protocol") or "" for v in verdicts.all())
    by_experiment = {(s.board, s.model): s.protocol or "" for s in published.board.submissions}
    assert protocols == sorted(by_experiment.values())
    for verdict in verdicts.all():
        assert re.search(r"Hypothesis \w+", verdict.inner_text())  # each says where the hypothesis stands
    top = banner.bounding_box()
    assert top is not None and top["y"] < DESKTOP["height"] / 2  # the answer is on the first screen
    assert visit.errors == [] and visit.off_machine() == []


def test_boards_have_one_table_per_tier_in_tier_order(
    browser: sync_api.Browser, published: BuiltSite, published_url: str
) -> None:
    page = Visit(browser).open(published_url + "index.html")
    # Each verdict links to its board's section; each section is followed by its tier tables.
    links = {}
    for verdict in page.locator("div.jd-verdict").all():
        key = (verdict.get_attribute("data-board"), verdict.get_attribute("data-model"))
        links[key] = verdict.locator("a[href^='#board-']").first.get_attribute("href")
    tiers_after: dict[str, list[str]] = page.evaluate(
        """() => {
          const found = {};
          let section = null;
          for (const el of document.querySelectorAll('.jd-board-section, table.jd-board')) {
            if (el.matches('.jd-board-section')) { section = '#' + el.id; found[section] = []; }
            else if (section) found[section].push(el.dataset.tier);
          }
          return found;
        }"""
    )
    board = published.board
    for (name, model), href in links.items():
        assert name is not None and model is not None and href in tiers_after
        assert tiers_after[href] == _tier_order(board, name, model), name
    assert sorted(tiers_after) == sorted(links.values())
    for s in board.submissions:  # and in the order each submission gives its own tiers
        shown = tiers_after[links[(s.board, s.model)]]
        assert [t for t in s.tiers if t in shown] == [t for t in shown if t in s.tiers], s.file


def test_header_explanations_survive_the_table_script(browser: sync_api.Browser, published_url: str) -> None:
    page = Visit(browser).open(published_url + "index.html")
    served = _Titles()
    served.feed(page.request.get(published_url + "index.html").text())
    assert len(served.tables) >= 4
    after = page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('table.jd-board')].map(
              t => [t.id, [...t.tHead.querySelectorAll('th')].map(h => h.getAttribute('title'))]))"""
    )
    assert after == served.tables  # the table script kept every explanation as it was
    explanations = {title for titles in served.tables.values() for title in titles if title}
    assert len(explanations) >= 4 and "Sort by this column" not in explanations
    legend = page.locator(".jd-legend").first
    assert legend.is_visible()
    printed = " ".join(legend.inner_text().split())
    for title in explanations:  # readable without hover: every tooltip is also printed text
        assert " ".join(title.split()) in printed, title
    sortable = page.locator("table.jd-board th[data-jdb-sort]").first
    assert sortable.get_attribute("tabindex") == "0"


def test_keyboard_sorts_a_board_table(browser: sync_api.Browser, published_url: str) -> None:
    page = Visit(browser).open(published_url + "index.html")
    tables = [t for t in page.locator("table.jd-board").all() if _main_rows(t).count() >= 3]
    assert tables, "no board table with three rows to sort"
    table = tables[0]
    pairs = sorted(_details_pairs(table))
    sparsities = [h for h in _headers(table) if h.endswith("%")]
    assert sparsities, "a board table has sparsity columns"
    header = sparsities[-1]  # the largest unstructured sparsity (N:M columns may follow it)
    cell = table.locator("thead th", has_text=header)
    cell.focus()
    page.keyboard.press("Enter")
    assert cell.get_attribute("aria-sort") == "ascending"
    ascending = _sort_values(table, header)
    assert _ascending(ascending) and len(set(ascending)) > 1
    page.keyboard.press(" ")
    assert cell.get_attribute("aria-sort") == "descending"
    descending = [v for v in _sort_values(table, header) if v]
    assert descending == sorted(descending, key=float, reverse=True)
    assert sorted(_details_pairs(table)) == pairs


def test_download_links_load(browser: sync_api.Browser, published: BuiltSite, published_url: str) -> None:
    page = Visit(browser).open(published_url + "index.html")
    hrefs = sorted({a.get_attribute("href") or "" for a in page.locator("a.jd-download").all()})
    csvs = [h for h in hrefs if h.endswith(".csv")]
    assert "data/leaderboard.json" in hrefs
    assert len(csvs) == len({(e.board, e.model) for e in published.board.entries})
    document = json.loads(page.request.get(published_url + "data/leaderboard.json").text())
    assert len(document["submissions"]) == len(published.board.submissions)
    lines = 0
    for href in csvs:
        response = page.request.get(published_url + href)
        assert response.ok, href
        rows = list(csv.DictReader(io.StringIO(response.text())))
        assert rows and {"board", "variant", "sparsity", "pct_of_dense", "decision"} <= set(rows[0])
        lines += len(rows)
    assert lines == len(document["comparisons"])  # the CSVs together hold every comparison
    for href in hrefs:
        if href.endswith(".json") and href.startswith("submissions/"):
            assert "report" in json.loads(page.request.get(published_url + href).text()), href


def test_copy_button_selects_the_command(browser: sync_api.Browser, published_url: str) -> None:
    visit = Visit(browser)
    page = visit.open(published_url + "methods/magnitude.html")
    command = page.locator("pre.jd-command").first
    button = page.locator("pre.jd-command + button.jd-copy").first
    assert button.is_visible()
    button.click()
    expected = command.inner_text().strip()
    assert page.evaluate("() => window.getSelection().toString()").strip() == expected
    assert button.inner_text() in {"Copied", "Selected: press Ctrl+C"}
    assert visit.errors == []


def _smallest_plot_text(page: sync_api.Page, image: sync_api.Locator, base: str) -> float:
    """The smallest font in the SVG an <img> shows, in CSS pixels at the size it is drawn."""
    source = image.evaluate("img => img.currentSrc")
    svg = page.request.get(source).text()
    view_width = float(re.search(r'viewBox="0 0 ([\d.]+) ', svg).group(1))  # type: ignore[union-attr]
    sizes = [float(s) for s in re.findall(r"font-size: ([\d.]+)px", svg)]
    drawn = image.evaluate("img => img.getBoundingClientRect().width")
    assert source.startswith(base) and sizes and drawn > 0
    return min(sizes) * drawn / view_width


def test_phone_layout_keeps_the_main_table_on_screen(browser: sync_api.Browser, published_url: str) -> None:
    visit = Visit(browser, PHONE)
    page = visit.open(published_url + "index.html")
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1]  # the page itself never scrolls sideways
    overflowing = page.evaluate(
        """() => [...document.querySelectorAll('table.jd-board')]
                 .filter(t => t.scrollWidth > t.clientWidth
                           || t.parentElement.scrollWidth > t.parentElement.clientWidth)
                 .map(t => t.id)"""
    )
    assert overflowing == []
    table = page.locator("table.jd-board").first
    first = _main_rows(table).first
    first.scroll_into_view_if_needed()
    decisions = first.locator("td.jd-cell")
    assert decisions.count() >= 1
    for cell in decisions.all():
        box = cell.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        assert cell.is_visible() and float(cell.evaluate("c => getComputedStyle(c).fontSize")[:-2]) >= 12
    plot = page.locator("figure.jdb-figure img").first
    plot.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=plot.element_handle())
    assert plot.evaluate("img => img.currentSrc").endswith("--narrow.svg")  # one panel per row
    assert _smallest_plot_text(page, plot, published_url) >= MIN_TICK_PX
    assert visit.errors == []


def test_warnings_are_printed_on_a_phone(browser: sync_api.Browser, published_url: str) -> None:
    page = Visit(browser, PHONE).open(published_url + "methods/wanda.html")
    warnings = page.locator(".jd-warning")
    assert warnings.count() >= 1
    first = warnings.first
    first.scroll_into_view_if_needed()
    assert first.is_visible() and first.inner_text().startswith("⚠")
    box = first.bounding_box()
    assert box is not None and box["width"] > 0 and box["height"] > 0


def test_wide_plots_stay_readable_on_a_desktop(browser: sync_api.Browser, published_url: str) -> None:
    page = Visit(browser).open(published_url + "index.html")
    plot = page.locator("figure.jdb-figure img").first
    plot.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=plot.element_handle())
    assert not plot.evaluate("img => img.currentSrc").endswith("--narrow.svg")
    assert _smallest_plot_text(page, plot, published_url) >= MIN_TICK_PX
