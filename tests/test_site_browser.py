"""The built site in a real browser: headless Chromium (Debian's package) driven by Playwright.

Serves the site on 127.0.0.1 and checks what a visitor sees: the home page loads without console
errors or requests leaving the machine, the leaderboard has its rows, sorting and filtering work,
a method page shows its plot, and the hostile test submission never runs a script. A screenshot of
the leaderboard is saved to ``artifacts/leaderboard.png`` for CI to keep.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

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

if not CHROMIUM.exists():
    pytest.skip(
        f"{CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="the Python package playwright is not installed")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    return build_test_site(tmp_path_factory.mktemp("browser-site"))


@pytest.fixture(scope="module")
def base_url(site: BuiltSite) -> Iterator[str]:
    server = make_server(site.layout.html, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    yield f"http://{host}:{port}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[sync_api.Browser]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Visit:
    """A page plus everything it did: console errors, uncaught exceptions, requests, dialogs."""

    def __init__(self, browser: sync_api.Browser) -> None:
        self.page = browser.new_page(viewport={"width": 1400, "height": 1000})
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


def _column(table: sync_api.Locator, header: str) -> list[str]:
    headers = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    index = headers.index(header)
    cells = [row.locator("td").nth(index).inner_text() for row in table.locator("tbody tr").all()]
    return [cell.strip().splitlines()[0] for cell in cells]  # the first line: the method, not its transfer


def _sort_values(table: sync_api.Locator, header: str) -> list[str]:
    headers = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    index = headers.index(header)
    return [
        row.locator("td").nth(index).get_attribute("data-value") or ""
        for row in table.locator("tbody tr").all()
    ]


def test_home_page_sorts_filters_and_stays_local(browser: sync_api.Browser, base_url: str) -> None:
    visit = Visit(browser)
    page = visit.open(base_url + "index.html")
    table = page.locator("table[data-jdb-sortable]").first
    assert table.locator("tbody tr").count() == 6  # two methods x three tiers
    methods = _column(table, "Method")
    assert sorted(set(methods)) == sorted({"magnitude", HOSTILE_NAME})  # the hostile name shows as text
    assert _column(table, "Rank") == ["1", "2"] * 3
    assert page.locator("img[src$='overview.svg']").first.evaluate("img => img.naturalWidth") > 0
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    table.locator("thead th", has_text="Method").click()
    assert _column(table, "Method") == sorted(methods)
    table.locator("thead th", has_text="Method").click()
    assert _column(table, "Method") == sorted(methods, reverse=True)

    table.locator("thead th", has_text="Safe sparsity").click()
    values = [float(v) for v in _sort_values(table, "Safe sparsity")]
    assert values == sorted(values) and len(set(values)) > 1

    filter_box = page.locator("input.jdb-filter").first
    filter_box.fill("magnitude")
    visible = table.locator("tbody tr:visible")
    assert visible.count() == 3
    assert page.locator(".jdb-filter-count").first.inner_text() == "3 of 6 rows"
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
    assert page.locator("table[data-jdb-sortable]").count() >= 2  # ranking and per-comparison details
    hostile = Visit(browser)
    hostile.open(base_url + "methods/index.html").locator("a", has_text=HOSTILE_NAME).click()
    hostile.page.wait_for_load_state("networkidle")
    assert hostile.page.locator(".jdb-text").first.inner_text().startswith("<img src=x onerror=")
    assert visit.errors == [] and hostile.errors == [] and hostile.dialogs == []
    assert visit.off_machine() == [] and hostile.off_machine() == []
