"""The wheel runs the main job on its own: built-in cards, suites and plans travel as package data.

The wheel is installed into a fresh virtual environment that reuses this interpreter's installed
stack through a plain path line, not ``--system-site-packages``: that way the stack's ``.pth``
files, the editable install of this checkout among them, are never run, so nothing can import the
checkout's copy instead of the wheel's. The commands then run from a folder outside the checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from setuptools import find_packages

REPO_ROOT = Path(__file__).resolve().parents[1]
# The built-in data packages and the top-level folders pyproject.toml maps them onto.
BUILTIN_PACKAGES = {
    "junkdna_bench.builtin.tasks": "tasks",
    "junkdna_bench.builtin.experiments": "experiments",
}
BUILTIN_FILES = ("*.yaml", "suites/*.yaml", "lm_eval/*.yaml", "lm_eval/*/*", "SETTINGS.md")
# Never part of a build: version control, build output, caches, and records written by local runs.
NOT_SOURCE = shutil.ignore_patterns(
    ".git", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".venv", "mlflow.db", "mlartifacts"
)
LOCAL_RUN_FOLDERS = {"results", "mlruns", "artifacts"}


def test_the_package_list_names_every_package_and_the_builtin_folders() -> None:
    """pyproject lists packages by hand (a find directive cannot map tasks/ in); none may be left out."""
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    setuptools_config = pyproject["tool"]["setuptools"]
    listed = set(setuptools_config["packages"])
    expected = set(find_packages(REPO_ROOT / "benchmark")) | set(BUILTIN_PACKAGES)
    assert listed == expected, f"add {sorted(expected - listed)} / remove {sorted(listed - expected)}"
    for package, folder in BUILTIN_PACKAGES.items():
        assert setuptools_config["package-dir"][package] == folder
        assert (REPO_ROOT / folder / "__init__.py").is_file()


def _copy_source(destination: Path) -> Path:
    """The checkout as a fresh clone would have it (a build in place would leave build/ behind)."""

    def ignore(folder: str, names: list[str]) -> set[str]:
        local_runs = LOCAL_RUN_FOLDERS & set(names) if Path(folder) == REPO_ROOT else set()
        return set(NOT_SOURCE(folder, names)) | local_runs

    shutil.copytree(REPO_ROOT, destination, ignore=ignore)
    return destination


def _stack_paths() -> list[str]:
    """The installed packages this interpreter imports from (the checkout itself excluded)."""
    stack = [entry for entry in sys.path if Path(entry).name in {"site-packages", "dist-packages"}]
    return [entry for entry in stack if not Path(entry).is_relative_to(REPO_ROOT)]


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    workdir: Path

    @property
    def python(self) -> str:
        return str(self.venv / "bin" / "python")

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run in the venv, from outside the checkout, with no setting that points into it."""
        ignored = {"PYTHONPATH", "JUNKDNA_TASKS_DIR", "JUNKDNA_GLUE_DIR", "VIRTUAL_ENV"}
        env = {key: value for key, value in os.environ.items() if key not in ignored}
        # COLUMNS: wide enough that rich does not wrap the variant ids the tests look for.
        env.update(
            PATH=f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", HF_HUB_OFFLINE="1", COLUMNS="200"
        )
        return subprocess.run(
            args, cwd=self.workdir, env=env, capture_output=True, text=True, timeout=240, check=False
        )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("wheel")
    source = _copy_source(root / "source")
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
    build = subprocess.run(
        [*pip_wheel, "-w", str(root / "dist"), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = (root / "dist").glob("junkdna_bench-*.whl")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    (site_packages,) = venv.glob("lib/python*/site-packages")
    (site_packages / "_installed_stack.pth").write_text("\n".join(_stack_paths()) + "\n", encoding="utf-8")
    (root / "work").mkdir()
    result = Installed(wheel, venv, root / "work")
    # pip comes from the stack; --ignore-installed: the checkout's editable install is no reason to skip.
    pip_install = [result.python, "-m", "pip", "install", "-q", "--no-deps", "--ignore-installed"]
    install = result.run(*pip_install, str(wheel))
    assert install.returncode == 0, install.stderr
    return result


PROBE = """
import json, sys
import junkdna_bench
from junkdna_bench.cards import tasks_dir
from junkdna_bench.defaults import EXPERIMENTS_DIR
from junkdna_bench.experiments import default_results, find_plan, load_experiment
plan = find_plan("human-gap")
print(json.dumps({
    "package": junkdna_bench.__file__,
    "tasks": str(tasks_dir()),
    "experiments": str(EXPERIMENTS_DIR),
    "results": str(default_results(plan, load_experiment(plan))),
    "sys_path": sys.path,
    "editable": [name for name in sys.modules if name.startswith("__editable__")],
}))
"""


@pytest.mark.slow
def test_the_wheel_holds_cards_suites_plans_and_site_files_but_no_records(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    for package, folder in BUILTIN_PACKAGES.items():
        shipped = {
            f"{package.replace('.', '/')}/{path.relative_to(REPO_ROOT / folder).as_posix()}"
            for pattern in BUILTIN_FILES
            for path in (REPO_ROOT / folder).glob(pattern)
        }
        assert shipped and shipped <= names, shipped - names
    site = REPO_ROOT / "benchmark" / "junkdna_bench" / "site"
    site_files = {
        f"junkdna_bench/site/{path.relative_to(site).as_posix()}"
        for part in ("templates", "static")
        for path in (site / part).iterdir()
    }
    assert site_files and site_files <= names, site_files - names
    assert (REPO_ROOT / "experiments" / "results").is_dir()
    assert not [name for name in names if "/results/" in name]


@pytest.mark.slow
def test_the_installed_copy_is_the_one_imported(installed: Installed) -> None:
    probe = installed.run(installed.python, "-c", PROBE)
    assert probe.returncode == 0, probe.stderr
    facts = json.loads(probe.stdout)
    for key in ("package", "tasks", "experiments"):
        assert Path(facts[key]).is_relative_to(installed.venv), (key, facts[key])
    assert not [entry for entry in facts["sys_path"] if entry and Path(entry).is_relative_to(REPO_ROOT)]
    assert facts["editable"] == []
    # A built-in plan's records go under the working directory, never into site-packages.
    assert facts["results"] == str(Path("experiments") / "results" / "human-gap")


@pytest.mark.slow
def test_the_installed_command_shows_the_starter_suite_and_plans_the_main_job(installed: Installed) -> None:
    shown = installed.run("junkdna-bench", "suites", "show", "starter")
    assert shown.returncode == 0, shown.stderr
    assert "tier hard" in shown.stdout and "tweets-sentiment@frac=0.1" in shown.stdout
    planned = installed.run(
        "junkdna-bench", "run", "--method", "magnitude", "--tier", "hard", "--dry-run", "--no-tracking"
    )
    assert planned.returncode == 0, planned.stderr
    assert "suite starter" in planned.stdout and "magnitude" in planned.stdout and "plan:" in planned.stdout
    listed = installed.run("junkdna-bench", "experiment", "list")
    assert listed.returncode == 0, listed.stderr
    assert all(name in listed.stdout for name in ("data-adequacy", "human-gap", "true-gem"))
