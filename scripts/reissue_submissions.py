"""Rebuild every committed submission from its committed run records with the current statistics.

    python scripts/reissue_submissions.py            # rewrites submissions/*.json in place

Each submission keeps its title, notes, submitter, method description and protocol; the report is
built anew by ``junkdna-bench submit`` with the default statistics settings, and the old file is
removed when the new one has another name (the name carries the records' digest). Run it when the
statistics change, then ``junkdna-bench validate submissions/`` and ``junkdna-bench site build``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUBMISSIONS = ROOT / "submissions"
# Where each protocol's records are committed; the suite's plain starter run has no protocol.
RESULTS = {None: "experiments/results/starter-demo"} | {
    name: f"experiments/results/{name}" for name in ("data-adequacy", "human-gap", "true-gem")
}


def _command(entry: dict) -> list[str]:
    method = entry["method"]
    command = ["junkdna-bench", "submit", "--results", RESULTS[entry.get("protocol")]]
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
    for path in sorted(SUBMISSIONS.glob("*.json")):
        entry = json.loads(path.read_text())
        before = set(SUBMISSIONS.glob("*.json"))
        subprocess.run(_command(entry), cwd=ROOT, check=True)
        written = set(SUBMISSIONS.glob("*.json")) - before
        if written:
            path.unlink()
        print(f"{path.name} -> {', '.join(p.name for p in written) or path.name + ' (same name)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
