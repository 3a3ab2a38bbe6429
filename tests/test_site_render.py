"""Summarize and render: deterministic output, ranking, escaping of hostile input, offline strict build."""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markupsafe import escape

from junkdna_bench.leaderboard import Entry, assign_ranks, leaderboard_json, summarize_folder
from junkdna_bench.site.build import SiteLayout, build_site
from junkdna_bench.site.render import MARKER, prepare_output
from junkdna_bench.stats.report_schema import Estimate
from site_fixtures import HOSTILE_DESCRIPTION, HOSTILE_NAME, PROTOCOL, REPO_ROOT, BuiltSite, build_test_site


@pytest.fixture(scope="module")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    return build_test_site(tmp_path_factory.mktemp("site-project"))


def _html_files(site: BuiltSite) -> list[Path]:
    return sorted(site.layout.html.rglob("*.html"))


# --- summarize -----------------------------------------------------------------------------------------


def test_summarize_is_byte_identical_for_the_same_folder(built_site: BuiltSite, tmp_path: Path) -> None:
    first = leaderboard_json(summarize_folder(built_site.submissions))
    copy = tmp_path / "copy"
    for path in sorted(built_site.submissions.iterdir(), reverse=True):  # other creation order
        copy.mkdir(exist_ok=True)
        shutil.copyfile(path, copy / path.name)
    assert leaderboard_json(summarize_folder(copy)) == first
    assert leaderboard_json(summarize_folder(built_site.submissions)) == first


def test_rendering_twice_gives_identical_pages_and_plots(built_site: BuiltSite, tmp_path: Path) -> None:
    again = build_test_site(tmp_path / "again", copy_submissions_from=built_site.submissions)
    built, rebuilt = _files(built_site.layout.pages), _files(again.layout.pages)
    assert built.keys() == rebuilt.keys()
    differing = [str(name) for name in built if built[name] != rebuilt[name]]
    assert differing == []
    assert any(name.suffix == ".svg" for name in built)


def _files(folder: Path) -> dict[Path, bytes]:
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_magnitude_outranks_random_in_every_tier(built_site: BuiltSite) -> None:
    # The synthetic records make random pruning lose three times as much as magnitude pruning.
    ranks = {(e.tier, e.method): e.rank for e in built_site.board.entries}
    for tier in ("easy", "medium", "hard"):
        assert ranks[(tier, "magnitude")] == 1
        assert ranks[(tier, HOSTILE_NAME)] == 2
    safe = {(e.tier, e.method): e.safe_sparsity for e in built_site.board.entries}
    assert safe[("easy", "magnitude")] > safe[("easy", HOSTILE_NAME)]


def test_a_protocol_gets_a_board_of_its_own(built_site: BuiltSite) -> None:
    index = (built_site.layout.pages / "index.md").read_text()
    assert f"protocol <b>{PROTOCOL}</b>" in index
    boards = {e.board for e in built_site.board.entries if e.method == "magnitude"}
    assert boards == {"starter", f"starter / {PROTOCOL}"}
    plots = (built_site.layout.pages / "plots").iterdir()
    assert any(p.name.startswith(f"starter-{PROTOCOL}--") for p in plots)


def _entry(name: str, safe: float | None, area: float | None, board: str = "s") -> Entry:
    return Entry(
        board=board,
        suite="s",
        model="m",
        tier="t",
        tier_index=0,
        rank=None,
        method=name,
        method_params={},
        transfer="sparse",
        entry=name,
        submission="f.json",
        safe_sparsity=safe,
        max_sparsity=0.6,
        area=None if area is None else Estimate(value=area),
        n_significant_drops=0,
        n_comparisons=3,
        monotone=True,
        variants=1,
        informative_variants=1,
        warnings=[],
    )


def test_ranking_by_safe_sparsity_then_area_with_ties_and_unranked() -> None:
    entries = [
        _entry("a", 0.2, -1.0),
        _entry("b", 0.4, -3.0),
        _entry("c", 0.2, -0.5),
        _entry("d", 0.2, -0.5),
        _entry("e", None, None),
        _entry("f", 0.0, 0.0),
    ]
    ranked = [(e.method, e.rank) for e in assign_ranks(entries)]
    assert ranked == [("b", 1), ("c", 2), ("d", 2), ("a", 4), ("f", 5), ("e", None)]


def test_entries_of_two_protocols_are_ranked_apart() -> None:
    entries = [
        _entry("fractions-a", 0.4, -1.0, board="s / fractions"),
        _entry("plain-b", 0.2, -1.0),
        _entry("fractions-c", 0.2, -1.0, board="s / fractions"),
    ]
    ranked = {e.method: e.rank for e in assign_ranks(entries)}
    assert ranked == {"fractions-a": 1, "fractions-c": 2, "plain-b": 1}


# --- hostile input -------------------------------------------------------------------------------------


class _Elements(HTMLParser):
    """Every start tag with its attributes, as a browser's parser would see them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_title = tag == "title"

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data

    def handle_endtag(self, tag: str) -> None:
        self._in_title = False


def _parse(path: Path) -> _Elements:
    parser = _Elements()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_hostile_names_and_descriptions_render_as_text(built_site: BuiltSite) -> None:
    pages = _html_files(built_site)
    shown_name = shown_description = 0
    for page in pages:
        text = page.read_text(encoding="utf-8")
        elements = _parse(page)
        assert not [a for tag, a in elements.tags if tag == "img" and a.get("src") == "x"], page
        values = [v or "" for _, attrs in elements.tags for v in attrs.values()]
        assert not [v for v in values if v.startswith("javascript:")], page
        assert not [a for tag, a in elements.tags if "onerror" in a], page
        assert "<script>alert" not in text and "<strong>bold</strong>" not in text
        assert not set("<>\"'") & set(elements.title), elements.title
        shown_name += text.count(str(escape(HOSTILE_NAME)))
        shown_description += text.count(str(escape(HOSTILE_DESCRIPTION)))
    # The name is shown as text on the home, model, tier, method and submissions pages.
    assert shown_name >= 5 and shown_description >= 1


def test_every_script_and_style_is_local(built_site: BuiltSite) -> None:
    for page in _html_files(built_site):
        for tag, attrs in _parse(page).tags:
            url = {"script": attrs.get("src"), "img": attrs.get("src"), "link": attrs.get("href")}.get(tag)
            assert not (url and re.match(r"^(https?:)?//", url)), f"{page.name}: {tag} loads {url}"


# --- the build itself ----------------------------------------------------------------------------------


def test_strict_build_produces_every_page(built_site: BuiltSite) -> None:
    html = built_site.layout.html
    for name in (
        "index.html",
        "methodology.html",
        "submit.html",
        "submissions.html",
        "methods/magnitude.html",
        "models/minilm-l6.html",
        "tiers/hard.html",
        "assets/tables.js",
        "data/leaderboard.json",
    ):
        assert (html / name).is_file(), name
    index = (html / "index.html").read_text(encoding="utf-8")
    assert index.count("<tr>") >= 7  # header + six entries (two methods x three tiers)
    assert 'id="variants-starter"' in (html / "methodology.html").read_text(encoding="utf-8")
    assert 'src="plots/starter--minilm-l6--overview.svg"' in index
    methodology = (html / "methodology.html").read_text(encoding="utf-8")
    assert "Nangia" in methodology and "(human − best model) / human" in methodology


def test_an_empty_folder_builds_an_empty_leaderboard(tmp_path: Path) -> None:
    shutil.copyfile(REPO_ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    (tmp_path / "submissions").mkdir()
    layout = SiteLayout.from_root(tmp_path)
    board = build_site(layout, tmp_path / "submissions")
    assert board.entries == []
    assert "No submissions yet" in (layout.html / "index.html").read_text(encoding="utf-8")


def test_the_findings_page_is_the_projects_write_up_or_says_there_is_none(tmp_path: Path) -> None:
    shutil.copyfile(REPO_ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    (tmp_path / "submissions").mkdir()
    layout = SiteLayout.from_root(tmp_path)
    build_site(layout, tmp_path / "submissions")
    assert "No findings have been written" in (layout.html / "findings.html").read_text(encoding="utf-8")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "findings.md").write_text("# Findings\n\nCoLA lost 12.5 points at 60 %.\n")
    build_site(layout, tmp_path / "submissions")
    findings = (layout.html / "findings.html").read_text(encoding="utf-8")
    assert "CoLA lost 12.5 points" in findings and "No findings have been written" not in findings
    assert 'href="findings.html"' in (layout.html / "index.html").read_text(encoding="utf-8")


def test_render_refuses_to_wipe_a_folder_it_did_not_make(tmp_path: Path) -> None:
    keep = tmp_path / "pages"
    keep.mkdir()
    (keep / "notes.md").write_text("mine")
    with pytest.raises(FileExistsError, match=MARKER):
        prepare_output(keep)
    assert (keep / "notes.md").read_text() == "mine"


def test_the_published_site_lists_tiers_easiest_first_and_describes_suites_from_submissions(
    tmp_path: Path,
) -> None:
    site = build_test_site(tmp_path, copy_submissions_from=REPO_ROOT / "submissions")
    index = (site.layout.html / "index.html").read_text(encoding="utf-8")
    sections = index.split('<div class="jd-board-section" id="board-glue')[1:]
    assert sections
    for section in sections:  # one table per tier, in the suite's order
        tiers = re.findall(r'<table class="jd-board" data-tier="(\w+)"', section.split("jd-board-section")[0])
        assert tiers and tiers == sorted(tiers, key=["easy", "medium", "hard"].index), tiers
    methodology = (site.layout.html / "methodology.html").read_text(encoding="utf-8")
    assert 'id="variants-glue"' in methodology and 'id="tasks-starter"' in methodology
    assert "cola@frac=1" in methodology and "66.4 mcc [1]" in methodology
