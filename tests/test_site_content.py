"""What the site's pages say: verdict banner, boards per tier, downloads, changelog, citation, LLM boards.

The banner and board tests read the committed submissions and check the pages against the reports
inside them (so they hold for any re-issue); the LLM board test builds a synthetic prune-then-evaluate
submission (transfer "none", option count and shots as the difficulty knobs) and builds it under a
sub-path ``site_url``.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markupsafe import escape

from junkdna_bench.records import ConfigKey, RunRecord, RunSpec
from junkdna_bench.report_extracts import rank_groups, reproduce_command
from junkdna_bench.site.build import SiteLayout, build_site, check_site_url
from junkdna_bench.site.formatting import breakable_id, p_value, prose
from junkdna_bench.submissions.schema import Submission
from site_fixtures import REPO_ROOT, BuiltSite, build_test_site
from submission_fixtures import MODEL, _record, _wrong_set, make_submission, write_submissions

TIER_ORDER = ["easy", "medium", "hard"]


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    return build_test_site(
        tmp_path_factory.mktemp("published"), copy_submissions_from=REPO_ROOT / "submissions"
    )


def _submissions(site: BuiltSite) -> dict[str, Submission]:
    return {
        p.name: Submission.model_validate_json(p.read_text(encoding="utf-8"))
        for p in sorted(site.submissions.glob("*.json"))
    }


class _Tags(HTMLParser):
    """Start tags with attributes, and the text inside each element of a chosen class."""

    def __init__(self, text_of: str = "") -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text_of, self.texts, self._depth = text_of, [], 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        self.tags.append((tag, attributes))
        if self._depth:
            self._depth += 1
        elif self.text_of and self.text_of in attributes.get("class", "").split():
            self._depth = 1
            self.texts.append("")

    def handle_endtag(self, tag: str) -> None:
        if self._depth:
            self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._depth:
            self.texts[-1] += data


def _parse(path: Path, text_of: str = "") -> _Tags:
    parser = _Tags(text_of)
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def _html(site: BuiltSite, name: str) -> str:
    return (site.layout.html / name).read_text(encoding="utf-8")


# --- the banner ----------------------------------------------------------------------------------------


def test_the_banner_has_one_verdict_per_experiment_with_the_reports_test_and_p(published: BuiltSite) -> None:
    subs = _submissions(published)
    banner = _parse(published.layout.html / "index.html", text_of="jd-verdict")
    divs = [a for tag, a in banner.tags if tag == "div" and "jd-verdict" in a.get("class", "").split()]
    assert sorted(d["data-protocol"] for d in divs) == sorted({s.protocol or "" for s in subs.values()})
    assert len(banner.texts) == len(divs)
    text_by_protocol = {
        d["data-protocol"]: " ".join(t.split()) for d, t in zip(divs, banner.texts, strict=True)
    }
    for sub in subs.values():
        verdict = sub.report.verdict
        if verdict is None or verdict.method != sub.method.name:
            continue
        text = text_by_protocol[sub.protocol or ""]
        assert f"Hypothesis {verdict.verdict}" in text
        if verdict.task_trend is not None:
            assert f"p = {p_value(verdict.task_trend.p_value)}" in text
            assert "Jonckheere" in text and "jonckheere-" not in text
        else:
            assert "no trend test could be run" in text


def test_the_banner_names_the_best_entry_with_its_rank_group_and_what_it_is_computed_on(
    published: BuiltSite,
) -> None:
    subs = _submissions(published)
    banner = _parse(published.layout.html / "index.html", text_of="jd-verdict")
    divs = [a for tag, a in banner.tags if tag == "div" and "jd-verdict" in a.get("class", "").split()]
    text = {d["data-protocol"]: " ".join(t.split()) for d, t in zip(divs, banner.texts, strict=True)}
    by_protocol: dict[str, list[Submission]] = {}
    for sub in subs.values():
        by_protocol.setdefault(sub.protocol or "", []).append(sub)
    for protocol, members in by_protocol.items():
        if len(members) > 1:  # one method per submission: ranked across them on their shared dense runs
            assert re.search(rf"rank \d(–\d)? of {len(members)} methods", text[protocol]), text[protocol]
            assert "units of the board's informative variants" in text[protocol]
            assert "on the same dense runs in every submission, Holm over pairs" in text[protocol]
            assert "not compared" not in text[protocol]
        rankings = [r for s in members for r in s.report.rankings]
        if rankings and len(members) == 1:
            assert re.search(r"rank \d(–\d)? of \d+ transfer modes", text[protocol]), text[protocol]
            total = len(rankings)
            assert f"of {total} transfer modes" in text[protocol]
    # The most informative experiment comes first: more informative tiers before fewer.
    tiers = {
        protocol: len({row.tier for s in members for row in s.report.rows if row.informative})
        for protocol, members in by_protocol.items()
    }
    shown = [tiers[d["data-protocol"]] for d in divs]
    assert shown == sorted(shown, reverse=True) and shown[0] == max(tiers.values()) == 3
    assert divs[-1]["data-protocol"] == ""


def test_rank_groups_are_the_reports_rank_intervals_counted_per_ranking(published: BuiltSite) -> None:
    true_gem = next(s for s in _submissions(published).values() if s.protocol == "true-gem")
    groups = rank_groups(true_gem.report)
    assert true_gem.report.rankings and len(groups) == len(true_gem.report.rankings)
    for ranked in true_gem.report.rankings:
        config = ranked.config
        key = ConfigKey.of(ranked.model, config.method, config.method_params, config.transfer)
        (group,) = groups[key]
        assert (group.kind, group.rank, group.rank_low, group.rank_high) == (
            ranked.kind,
            ranked.rank,
            ranked.rank_low,
            ranked.rank_high,
        )
        assert group.n_ranked == len(true_gem.report.rankings)
    entries = [e for e in published.board.entries if e.board == "glue / true-gem"]
    assert entries and all(len(e.rank_groups) == 1 for e in entries)
    others = [e for e in published.board.entries if e.board == "glue / human-gap-decisive"]
    assert others and all([g.scope for g in e.rank_groups] == ["board"] for e in others)
    assert all(g.scope == "report" for e in entries for g in e.rank_groups)


# --- boards ----------------------------------------------------------------------------------------------


def _board_tiers(path: Path) -> dict[str, list[str]]:
    """Each board section's table tiers, in page order."""
    tiers: dict[str, list[str]] = {}
    current = ""
    for tag, attrs in _parse(path).tags:
        if tag == "div" and "jd-board-section" in attrs.get("class", "").split():
            current = attrs["id"]
            tiers[current] = []
        if tag == "table" and "jd-board" in attrs.get("class", "").split():
            tiers[current].append(attrs["data-tier"])
    return tiers


def test_each_board_has_one_table_per_tier_easiest_first(published: BuiltSite) -> None:
    subs = _submissions(published)
    boards = _board_tiers(published.layout.html / "index.html")
    assert len(boards) == len({(s.suite, s.protocol) for s in subs.values()})
    for sub in subs.values():
        board = "board-" + "-".join(filter(None, [sub.suite, sub.protocol])) + "--" + sub.model
        shown = boards[board]
        assert shown == sorted(shown, key=TIER_ORDER.index) and len(set(shown)) == len(shown)
        assert set(sub.tiers) <= set(shown)


def test_cells_are_percent_of_dense_coloured_by_the_decision_under_one_legend(published: BuiltSite) -> None:
    index = _html(published, "index.html")
    assert index.count('class="jd-legend"') == 1
    assert "Area [CI]" not in index and " *</td>" not in index  # the bootstrap-only marker is gone
    board = json.loads(_html(published, "data/leaderboard.json"))
    classes = {
        "drop": "jd-drop",
        "gain": "jd-gain",
        "no-significant-change": "jd-nochange",
        "uninformative": "jd-uninformative",
    }
    cells = re.findall(r'<td class="num jd-cell (jd-\w+)"[^>]*data-value="([^"]*)"', index)
    shown = {(cls, round(float(v), 6)) for cls, v in cells}
    for c in board["comparisons"]:  # every level has its column: sparsities and N:M patterns
        if c["pct_of_dense"]:
            assert (classes[c["decision"]], round(c["pct_of_dense"]["value"], 6)) in shown
    patterns = {c["pattern"] for c in board["comparisons"]} - {None}
    assert patterns  # the LLM entries ran 2:4 and 4:8
    headers = set(re.findall(r'<th class="num" title="[^"]*">([^<]*)</th>', index))
    assert patterns <= headers
    for pattern in patterns:
        assert re.search(rf'class="num jd-cell jd-\w+" data-label="{pattern}"', index)
    for header in re.findall(r"<th[^>]*>", index):  # explanations: in the title and in the legend
        title = re.search(r'title="([^"]*)"', header)
        if title and "jd-board" not in header:
            assert title.group(1).replace("&#39;", "'").split(";")[0] in index.replace("&#39;", "'")


def test_method_pages_speak_plainly(published: BuiltSite) -> None:
    for page in sorted((published.layout.html / "methods").glob("*.html")):
        if page.name == "index.html":
            continue
        text = page.read_text(encoding="utf-8")
        headings = re.findall(r"<h2[^>]*>(.*?)</h2>", text, re.S)
        assert headings and not [h for h in headings if re.search(r"[0-9a-f]{8}", h)], headings
        assert "jonckheere-" not in text
        prose_text = " ".join(_parse(page, text_of="jdb-text").texts)
        assert not re.search(r"(?<![\w.])-\d", prose_text), prose_text
        assert re.search(r"position \d+ of \d+|the only entry|unranked", text)
        assert text.count('<pre class="jd-command">') == len(headings)
    magnitude = _html(published, "methods/magnitude.html")
    descriptions = {
        s.method.description for s in _submissions(published).values() if s.method.name == "magnitude"
    }
    for description in descriptions:
        assert magnitude.count(f'<p class="jdb-text">{escape(description)}</p>') == 1


def test_drill_down_shows_seeds_run_ids_and_the_command_from_the_notes(published: BuiltSite) -> None:
    subs = _submissions(published)
    name, sub = next(
        (n, s) for n, s in subs.items() if s.protocol == "human-gap-decisive" and s.method.name == "magnitude"
    )
    page = _html(published, "methods/magnitude.html")
    command, from_notes = reproduce_command(sub)
    assert from_notes and command == "junkdna-bench experiment run human-gap-decisive"
    assert f'<pre class="jd-command"><code>{command}</code></pre>' in page
    row = sub.report.rows[0]
    for seed in row.seeds:
        assert seed.dense_run_id in page and seed.sparse_run_id in page
    assert f'href="../submissions/{name}"' in page
    assert (published.layout.html / "submissions" / name).read_bytes() == (
        published.submissions / name
    ).read_bytes()


def test_tier_pages_list_the_variants_run_once_and_the_index_goes_easiest_first(published: BuiltSite) -> None:
    subs = _submissions(published)
    hard = _html(published, "tiers/hard.html")
    listed = re.findall(
        r"<li><code>([^<]+)</code> \(suite", hard.split('<div class="jdb-variants">')[1].split("</div>")[0]
    )
    run = {r.variant for s in subs.values() for r in s.report.rows if r.tier == "hard"}
    assert sorted(listed) == sorted(run)
    index = _html(published, "tiers/index.html")
    order = re.findall(r'<h2 id="tier-([a-z]+)"', index)
    assert order == sorted(order, key=TIER_ORDER.index) and len(order) == 3


# --- downloads, changelog, citation, navigation -------------------------------------------------------


def _download_links(page: Path) -> set[str]:
    return {a["href"] for _, a in _parse(page).tags if "jd-download" in a.get("class", "").split()}


def test_every_download_resolves_and_each_csv_agrees_with_the_json(published: BuiltSite) -> None:
    html = published.layout.html
    links = _download_links(html / "downloads.html") | _download_links(html / "index.html")
    assert "data/leaderboard.json" in links and any(link.endswith(".csv") for link in links)
    for link in links:
        assert (html / link).is_file(), link
    board = json.loads((html / "data" / "leaderboard.json").read_text(encoding="utf-8"))
    comparisons = {
        (c["board"], c["model"], c["entry"], c["variant"], c["sparsity"], c["pattern"] or ""): c
        for c in board["comparisons"]
    }
    n_lines = 0
    for link in sorted(link for link in links if link.endswith(".csv")):
        with (html / link).open(encoding="utf-8", newline="") as handle:
            for line in csv.DictReader(handle):
                c = comparisons[(line["board"], line["model"], line["entry"], line["variant"],
                                 float(line["sparsity"]), line["pattern"])]  # fmt: skip
                assert float(line["gap_points"]) == c["gap"]["value"]
                assert float(line["dense_mean"]) == c["dense_mean"]
                assert line["decision"] == c["decision"] and line["tier"] == c["tier"]
                if c["pct_of_dense"]:
                    assert float(line["pct_of_dense"]) == c["pct_of_dense"]["value"]
                n_lines += 1
    assert n_lines == len(comparisons)


def test_the_changelog_lists_every_submission_newest_first(published: BuiltSite) -> None:
    subs = _submissions(published)
    page = _html(published, "changelog.html")
    rows = re.findall(r"<tr>\s*<td>(\d{4}-\d\d-\d\d)</td>.*?<code>(.*?)</code>", page, re.S)
    assert len(rows) == len(subs)
    assert [date for date, _ in rows] == sorted((s.created_at[:10] for s in subs.values()), reverse=True)
    assert {version for _, version in rows} == {s.code_version for s in subs.values()}


def test_the_citation_page_has_bibtex_for_the_benchmark_and_the_paper(published: BuiltSite) -> None:
    page = _html(published, "cite.html")
    entries = re.findall(r'<pre class="jd-bibtex"><code>(.*?)</code></pre>', page, re.S)
    assert len(entries) == 2
    for entry in entries:
        assert entry.count("{") == entry.count("}")
    assert entries[0].startswith("@software{junkdna_bench,")
    paper = entries[1]
    assert paper.startswith("@inproceedings{") and "2310.02277" in paper and "2024" in paper
    for author in ("Yin, Lu", "Jaiswal, Ajay", "Liu, Shiwei", "Kundu, Souvik", "Wang, Zhangyang"):
        assert author in paper


def test_statistics_and_the_new_pages_are_in_the_navigation(published: BuiltSite) -> None:
    index = _html(published, "index.html")
    for page in ("statistics.html", "downloads.html", "changelog.html", "cite.html"):
        assert f'href="{page}"' in index, page
    assert "junkdna-bench site serve" in index and "Last updated" in index


# --- an LLM board, built under a sub-path --------------------------------------------------------------

LLM_VARIANTS = {  # variant -> (tier, dense accuracy, points lost per unit of sparsity squared)
    "mmlu@options=2,shots=5": ("easy", 0.85, 4.0),
    "mmlu@options=3,shots=0": ("medium", 0.72, 12.0),
    "mmlu@options=4,shots=0": ("hard", 0.64, 30.0),
}


def _llm_records() -> list[RunRecord]:
    import random

    rng = random.Random(7)
    records = []
    for variant, (tier, base, slope) in LLM_VARIANTS.items():
        for seed in (0, 1, 2):
            dense = RunSpec(
                model=MODEL,
                method="dense",
                sparsity=0.0,
                transfer="none",
                suite="llm",
                task="mmlu",
                variant=variant,
                tier=tier,
                seed=seed,
            )
            accuracy = base + rng.uniform(-0.01, 0.01)
            wrong = _wrong_set(accuracy, rng)
            records.append(_record(dense, wrong))
            for sparsity in (0.3, 0.6):
                spec = dense.model_copy(update={"method": "magnitude", "sparsity": sparsity})
                sparse = accuracy - slope * sparsity**2 / 100 + rng.uniform(-0.003, 0.003)
                records.append(_record(spec, _wrong_set(sparse, rng, start=wrong)))
    return records


def test_an_llm_board_has_no_transfer_column_and_shows_its_knobs(tmp_path: Path) -> None:
    shutil.copyfile(REPO_ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    submission = make_submission(_llm_records(), "magnitude")
    write_submissions(tmp_path / "submissions", [submission])
    layout = SiteLayout.from_root(tmp_path)
    build_site(layout, tmp_path / "submissions", site_url="https://example.org/bench")
    index = (layout.html / "index.html").read_text(encoding="utf-8")
    headers = re.findall(
        r"<th[^>]*>([^<]*)</th>", index.split('<table class="jd-board"', 1)[1].split("</thead>")[0]
    )
    assert "Transfer" not in headers and "options" in headers and "shots" in headers
    assert "none transfer" not in index and " · none" not in index
    assert _board_tiers(layout.html / "index.html") == {f"board-llm--{MODEL}": TIER_ORDER}
    assert re.search(r'<td class="num" data-label="options">4</td>', index)
    method_page = (layout.html / "methods" / "magnitude.html").read_text(encoding="utf-8")
    headings = re.findall(r"<h2[^>]*>(.*?)</h2>", method_page, re.S)
    assert headings and not [h for h in headings if "none" in h], headings
    assert "evaluated as pruned, without training" in method_page
    # Under a sub-path, 404.html reaches its styles from any depth: absolute links below site_url.
    missing = (layout.html / "404.html").read_text(encoding="utf-8")
    assert 'href="/bench/assets/leaderboard.css"' in missing


def test_a_site_url_must_be_an_absolute_http_address() -> None:
    assert check_site_url("https://example.org/bench") == "https://example.org/bench/"
    with pytest.raises(ValueError, match="absolute http"):
        check_site_url("example.org/bench")


def test_report_text_gets_true_minus_signs_and_no_test_identifiers() -> None:
    text = prose("easy: -31.7 points (jonckheere-permutation test), p = 0.1; tweets-sentiment@frac=0.1")
    assert text == "easy: −31.7 points (Jonckheere permutation test), p = 0.1; tweets-sentiment@frac=0.1"


def test_a_variant_id_wraps_at_its_separators_not_inside_a_word() -> None:
    assert str(breakable_id("commonsenseqa@options=2,shots=0")) == "commonsenseqa@<wbr>options=2,<wbr>shots=0"
    assert str(breakable_id("mix@frac=1#<b>")) == "mix@<wbr>frac=1#<wbr>&lt;b&gt;"  # the id stays escaped
