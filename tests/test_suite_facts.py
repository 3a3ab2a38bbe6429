"""Reports describe their suites; the leaderboard and the site read only those descriptions."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from junkdna_bench.leaderboard import summarize, summarize_folder
from junkdna_bench.stats.build import build_report
from junkdna_bench.stats.report_schema import SuiteFacts, VariantFacts
from junkdna_bench.submissions.consistency import check_consistency
from junkdna_bench.suite_facts import describe_suite, describe_suites
from junkdna_bench.suites import load_suite
from submission_fixtures import FAST_SETTINGS, SUITE, make_submission, synthetic_records

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_a_suite_is_described_with_its_tiers_tasks_variants_and_cited_baselines() -> None:
    facts = describe_suite(load_suite("glue"))
    assert facts.tiers == ["easy", "medium", "hard"]
    assert {v.id for v in facts.variants} == {v.id for v in load_suite("glue").variants()}
    cola = next(t for t in facts.tasks if t.id == "cola")
    assert cola.human_baseline is not None and cola.human_baseline.value == 66.4  # Nangia & Bowman 2019
    assert "Nangia" in cola.human_baseline.source
    assert cola.difficulty == pytest.approx(load_suite("glue").variant("cola@frac=1").difficulty)
    assert describe_suites(["glue", "no-such-suite"]) == [facts]


def _renamed_tiers(facts: SuiteFacts, names: dict[str, str]) -> SuiteFacts:
    return facts.model_copy(
        update={
            "tiers": [names[t] for t in facts.tiers],
            "variants": [v.model_copy(update={"tier": names[v.tier]}) for v in facts.variants],
        }
    )


def test_the_report_orders_tiers_as_its_suite_records_them_not_by_name_or_convention() -> None:
    names = {"easy": "zz-gentle", "medium": "mm-middling", "hard": "aa-brutal"}
    records = [
        r.model_copy(update={"spec": r.spec.model_copy(update={"tier": names[r.spec.tier]})})
        for r in synthetic_records(("magnitude",))
    ]
    facts = _renamed_tiers(describe_suite(load_suite(SUITE)), names)
    report = build_report(records, FAST_SETTINGS, suites=[facts])
    assert report.tiers == ["zz-gentle", "mm-middling", "aa-brutal"]
    assert report.suites == [facts]
    undescribed = build_report(records, FAST_SETTINGS)
    assert undescribed.tiers == ["aa-brutal", "mm-middling", "zz-gentle"]  # no facts: by name
    assert any("not described" in w for w in undescribed.warnings)


def test_the_board_lists_tiers_easiest_first_whichever_submission_sorts_first() -> None:
    """A submission covering only the harder tiers used to fix the board's order (medium, hard, easy)."""
    records = synthetic_records(("magnitude", "random"))
    harder = [r for r in records if r.spec.tier != "easy"]
    board = summarize(
        {
            "a-first.json": make_submission(harder, "random"),
            "b-second.json": make_submission(records, "magnitude"),
        }
    )
    assert board.suites[SUITE] == ["easy", "medium", "hard"]
    assert [e.tier for e in board.entries if e.method == "magnitude"] == ["easy", "medium", "hard"]
    assert board.suite_facts[SUITE].tiers == ["easy", "medium", "hard"]


def test_a_report_whose_tiers_contradict_its_suite_is_rejected() -> None:
    submission = make_submission(synthetic_records(("magnitude",)), "magnitude")
    facts = submission.report.suites[0]
    swapped = facts.model_copy(update={"tiers": ["hard", "medium", "easy"]})
    moved = facts.model_copy(
        update={"variants": [VariantFacts(id="bbc-news@frac=1", task="bbc-news", tier="hard")]}
    )
    for bad, where in ((swapped, "report.tiers"), (moved, "report.rows[")):
        tampered = submission.model_copy(
            update={"report": submission.report.model_copy(update={"suites": [bad]})}
        )
        assert any(w.startswith(where) for w, _ in check_consistency(tampered)), where


def test_the_published_glue_boards_list_tiers_easiest_first() -> None:
    board = summarize_folder(REPO_ROOT / "submissions")
    assert board.suites["glue"] == ["easy", "medium", "hard"]
    assert set(board.suite_facts) == {s.suite for s in board.submissions}
    for name in {b for b, suite in board.boards.items() if suite == "glue"}:
        tiers = [e.tier for e in board.entries if e.board == name]
        order = [t for t in ["easy", "medium", "hard"] if t in tiers]
        assert sorted(tiers, key=order.index) == tiers, name


def test_the_leaderboard_and_site_load_no_task_cards() -> None:
    """What comes after the report depends on submissions only, never on the installation's cards."""
    code = (
        "import sys, junkdna_bench.leaderboard, junkdna_bench.site.build, junkdna_bench.site.suite_facts; "
        "print(sorted(m for m in ('junkdna_bench.cards', 'junkdna_bench.suites') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_report_and_submit_write_the_suites_of_their_records(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from junkdna_bench.cli import app
    from junkdna_bench.stats.report_schema import read_report
    from junkdna_bench.submissions.schema import Submission
    from submission_fixtures import write_results

    results = write_results(tmp_path / "results", synthetic_records(("magnitude",)))
    fast = ["--n-boot", "100", "--n-permutations", "100"]
    runner = CliRunner()
    done = runner.invoke(app, ["report", "--results", str(results), "--quiet", *fast])
    assert done.exit_code == 0, done.output
    assert [s.name for s in read_report(results / "report.json").suites] == [SUITE]
    out = tmp_path / "submissions"
    args = ["submit", "--results", str(results), "--model", "minilm-l6", "--method", "magnitude"]
    done = runner.invoke(app, [*args, "--title", "t", "--out", str(out), *fast])
    assert done.exit_code == 0, done.output
    (written,) = out.glob("*.json")
    submission = Submission.model_validate_json(written.read_text())
    assert submission.report.suites[0].tiers == ["easy", "medium", "hard"]
