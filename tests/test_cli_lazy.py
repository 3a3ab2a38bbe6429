"""The command line starts without the heavy libraries, and every sub-command's ``--help`` works.

Each check runs in a fresh interpreter, so modules the test session already imported cannot hide
an import.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("torch", "scipy", "sklearn", "transformers", "mlflow", "numpy", "matplotlib", "junkdna_bench.perf")

# Imports the CLI, asks every command and group for --help, then lists what got imported.
HELP_EVERYTHING = """
import json, sys
from typer.core import TyperGroup
from typer.main import get_command
from typer.testing import CliRunner
from junkdna_bench.cli import app

def paths(group, prefix):
    yield prefix
    for name, command in group.commands.items():
        if isinstance(command, TyperGroup):
            yield from paths(command, [*prefix, name])
        else:
            yield [*prefix, name]

loaded_by_import = [m for m in HEAVY if m in sys.modules]
runner = CliRunner()
helps = {}
for path in paths(get_command(app), []):
    done = runner.invoke(app, [*path, "--help"])
    helps[" ".join(path)] = (done.exit_code, "Usage" in done.output)
loaded_by_help = [m for m in HEAVY if m in sys.modules]
print(json.dumps({"import": loaded_by_import, "help": loaded_by_help, "helps": helps}))
"""


def _python(code: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", f"HEAVY = {HEAVY!r}\n{code}"], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_importing_the_cli_and_every_help_loads_no_heavy_library() -> None:
    result = _python(HELP_EVERYTHING)
    assert result["import"] == []
    assert result["help"] == []
    helps = result["helps"]
    expected = {"run", "report", "submit", "validate", "tasks list", "suites show", "experiment run"}
    expected |= {"site build", "site serve", "perf prune", "perf train", "perf executors", "methods list"}
    assert expected <= set(helps)
    assert {path: outcome for path, outcome in helps.items() if outcome != [0, True]} == {}


def test_the_run_path_does_not_import_the_perf_tools() -> None:
    code = (
        "import sys, json\n"
        "import junkdna_bench.commands.run, junkdna_bench.console.plan\n"
        "print(json.dumps({'perf': [m for m in sys.modules if m.startswith('junkdna_bench.perf')],"
        " 'session': 'junkdna_bench.harness.session' in sys.modules}))"
    )
    result = _python(code)
    assert result == {"perf": [], "session": True}
