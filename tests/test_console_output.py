"""Outside a terminal (CI logs, ``| tee``, ``| grep``) the listings keep every name whole, on one line.

The end-of-run table is checked in ``test_summary_rows.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys

from typer.testing import CliRunner

from junkdna_bench.cards import load_all_cards
from junkdna_bench.cli import app
from junkdna_bench.commands.methods import listing_rows
from junkdna_bench.models import models
from junkdna_bench.suites import suites

ELLIPSIS = "…"


def _listing(*command: str) -> list[str]:
    done = CliRunner().invoke(app, list(command))
    assert done.exit_code == 0, done.output
    assert ELLIPSIS not in done.output
    return done.output.splitlines()


def _on_one_line(lines: list[str], *cells: str) -> bool:
    return any(all(cell in line for cell in cells) for line in lines)


def test_methods_list_keeps_full_names_and_descriptions() -> None:
    lines = _listing("methods", "list")
    for label, description, *_ in listing_rows():
        assert _on_one_line(lines, label, description), label


def test_models_list_keeps_full_names_and_descriptions() -> None:
    lines = _listing("models", "list")
    for entry in models:
        assert _on_one_line(lines, entry.name, entry.description), entry.name


def test_tasks_list_keeps_full_ids_and_names() -> None:
    lines = _listing("tasks", "list")
    for card in load_all_cards():
        assert _on_one_line(lines, card.id, card.name), card.id


def test_suites_list_keeps_full_names() -> None:
    lines = _listing("suites", "list")
    for entry in suites:
        assert _on_one_line(lines, f"{entry.name} "), entry.name


def test_methods_list_through_a_pipe_is_greppable() -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"COLUMNS", "FORCE_COLOR", "TTY_COMPATIBLE"}}
    done = subprocess.run(
        [sys.executable, "-m", "junkdna_bench.cli", "methods", "list"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=120,
    )
    matches = [line for line in done.stdout.splitlines() if "large-magnitude" in line]
    assert matches and "Control: prune the LARGEST" in matches[0]
