"""Rebuild every committed submission from its committed run records with the current statistics.

    python scripts/reissue_submissions.py            # rewrites submissions/*.json in place

Each submission keeps its title, notes, submitter, method description, protocol, and the metric
choices and variant contrasts of its report (``--metric``, ``--variant-contrast``); the report is
built anew by ``junkdna-bench submit`` with otherwise default statistics settings and replaces
the old file (whose name, carrying the records' digest, it keeps unless the records changed). A
protocol is a plan in ``experiments/``: its records are in the plan's records folder, and where
several plans share that folder the submission takes the plan's own variants (``--tasks``). Run it
when the statistics change, then ``junkdna-bench validate submissions/`` and
``junkdna-bench site build``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from junkdna_bench.experiments import load_experiment

ROOT = Path(__file__).resolve().parents[1]
SUBMISSIONS = ROOT / "submissions"
STARTER_RESULTS = "experiments/results/starter-demo"  # the suite's plain starter run has no protocol


def _records(protocol: str | None) -> list[str]:
    """``--results`` (and ``--tasks`` for a plan sharing its records folder) of a protocol's records."""
    if protocol is None:
        return ["--results", STARTER_RESULTS]
    plan = load_experiment(ROOT / "experiments" / f"{protocol}.yaml")
    options = ["--results", f"experiments/results/{plan.records or plan.name}"]
    if plan.records:
        variants = list(dict.fromkeys(v for block in plan.blocks for v in block.tasks))
        options += ["--tasks", ",".join(variants)]
    return options


def _command(entry: dict) -> list[str]:
    method = entry["method"]
    command = ["junkdna-bench", "submit", *_records(entry.get("protocol"))]
    settings = entry["report"]["settings"]
    for task, metric in sorted(settings.get("metrics", {}).items()):
        command += ["--metric", f"{task}={metric}"]
    for a, b in settings.get("variant_contrasts", []):
        command += ["--variant-contrast", f"{a} vs {b}"]
    command += ["--model", entry["model"], "--method", method["name"], "--title", entry["title"]]
    command += ["--method-params", json.dumps(method.get("params") or {}, sort_keys=True)]
    command += ["--notes", entry.get("notes", ""), "--description", method.get("description", "")]
    for flag, value in (("--url", method.get("url")), ("--submitter", entry.get("submitter"))):
        if value:
            command += [flag, value]
    if entry.get("protocol"):
        command += ["--protocol", entry["protocol"]]
    return [*command, "--out", str(SUBMISSIONS)]


def main() -> int:
    with tempfile.TemporaryDirectory() as aside:
        for path in sorted(SUBMISSIONS.glob("*.json")):
            entry = json.loads(path.read_text())
            # submit refuses to write over a file of the same records: the old one waits aside
            # and comes back if the new one cannot be built.
            kept = Path(shutil.move(path, Path(aside) / path.name))
            before = set(SUBMISSIONS.glob("*.json"))
            try:
                subprocess.run(_command(entry), cwd=ROOT, check=True)
            except BaseException:  # a failed or interrupted submit: the old file comes back
                shutil.move(kept, path)
                raise
            written = set(SUBMISSIONS.glob("*.json")) - before
            print(f"{path.name} -> {', '.join(p.name for p in written)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
