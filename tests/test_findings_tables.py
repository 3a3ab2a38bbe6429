"""The findings page's tables: regenerated from the committed data-adequacy report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
REPORT = REPO_ROOT / "experiments" / "results" / "data-adequacy" / "report.json"


def _tables(report: Path) -> subprocess.CompletedProcess[str]:
    script = REPO_ROOT / "scripts" / "findings_tables.py"
    return subprocess.run(
        [sys.executable, str(script), str(report)], capture_output=True, text=True, check=True
    )


def test_tables_quote_the_committed_report() -> None:
    done = _tables(REPORT)
    lines = {
        line.split(" | ")[1]: line
        for line in done.stdout.splitlines()
        if line.startswith("| magnitude") and "@frac=" in line
    }
    # SST-2 with 10 % of its pool keeps 66.2 % of dense at 60 % sparsity, a significant drop; the
    # interval is 8 points wide, so its ends are printed to whole points (their Monte Carlo error).
    assert "66.2 (-26.1 [-30, -22], drop)" in lines["sst2@frac=0.1"]
    # STS-B at 25 % is a floor case: every level is marked, and the variant is not informative.
    assert lines["stsb@frac=0.25"].count("floor") == 3 and "**no**" in lines["stsb@frac=0.25"]
    # the deciding test counts variants within tasks, not seeds
    assert "trend p = 0.675 (jonckheere-within-tasks)" in done.stdout
    assert "6 medium vs 3 hard" in done.stdout


def test_an_area_without_an_interval_is_said_so(tmp_path: Path) -> None:
    """An area the report gives no interval (levels run on different seeds) is marked, not a crash."""
    report = json.loads(REPORT.read_text(encoding="utf-8"))
    report["headlines"][0]["area_between_curves"].update(ci_low=None, ci_high=None)
    edited = tmp_path / "report.json"
    edited.write_text(json.dumps(report), encoding="utf-8")
    assert _tables(edited).stdout.count("[no interval in the report]") == 1


def test_n_m_patterns_get_columns_of_their_own_in_order_of_sparsity() -> None:
    report = REPO_ROOT / "experiments" / "results" / "human-gap" / "reports" / "human-gap-decisive.json"
    lines = _tables(report).stdout.splitlines()
    header = next(line for line in lines if line.startswith("| method · transfer | variant"))
    levels = [cell.split(": % of dense")[0] for cell in header.split(" | ")[5:]]
    assert levels == ["10 %", "20 %", "40 %", "4:8 (50 %)", "60 %", "2:8 (75 %)", "80 %"]
    cola = next(line for line in lines if line.startswith("| magnitude · sparse | cola@frac=1 "))
    cells = cola.strip(" |").split(" | ")[5:]
    # 4:8 keeps 59.9 % of CoLA's dense MCC, beside 93.5 % at 40 % and 53.2 % at 60 % unstructured.
    assert cells[2:5] == [
        "93.5 (-1.6 [-5, +2], ns)",
        "59.9 (-10.1 [-14, -6], drop)",
        "53.2 (-11.8 [-17, -6], drop)",
    ]
