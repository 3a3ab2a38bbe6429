"""Data problems are shown and kept: the plan prints the loader's notes, the record stores them with
the digest of every file read, an empty file stops the plan, and a changed file never resumes a run."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
import torch
from rich.console import Console

from junkdna_bench.cards import load_card, load_card_file
from junkdna_bench.console.plan import print_preview
from junkdna_bench.data import DataError, DataOptions, load_pool
from junkdna_bench.data import fingerprint as data_fingerprint
from junkdna_bench.data.fingerprint import DataChanged
from junkdna_bench.data.generative_qa import qa_provenance
from junkdna_bench.data.multiple_choice import load_choice_data
from junkdna_bench.harness.executor import LocalExecutor, run_plan
from junkdna_bench.harness.plan import expand_plan, prune_settings
from junkdna_bench.harness.profiles import PROTOCOL_DEFAULTS
from junkdna_bench.harness.runner import RunSettings
from junkdna_bench.harness.selfcheck import TOY_CARD
from junkdna_bench.harness.session import PlanRequest, prepare_plan
from junkdna_bench.records import load_records, read_record, scan_records, write_record
from junkdna_bench.suites import load_suite
from tiny_models import save_tiny_model, single_thread, write_toy_suite

pytestmark = pytest.mark.usefixtures(single_thread.__name__)
CPU = torch.device("cpu")
HYPERPARAMS = {**PROTOCOL_DEFAULTS, "epochs": 1, "batch_size": 8}
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def toy(tmp_path: Path) -> tuple[Path, Path, Path]:
    """The toy suite with one malformed training row (three fields), and a tiny model."""
    suite = write_toy_suite(tmp_path / "tasks", n_train=64, n_eval=24)
    train = tmp_path / "tasks" / "toy_train.tsv"
    train.write_text(train.read_text() + "the plot\tpositive\textra field\n")
    return suite, tmp_path / "tasks", save_tiny_model(tmp_path / "model")


def _plan(suite_path: Path, model: Path):
    suite = load_suite(suite_path)
    plan = expand_plan(
        suite.variants(),
        suite=suite.name,
        model=str(model),
        settings=prune_settings(["magnitude"], [0.5], []),
        transfers=["sparse"],
        seeds=[1],
        hyperparams=HYPERPARAMS,
        code_version="test",
    )
    return plan, LocalExecutor({v.id: v for v in suite.variants()}, RunSettings(device=CPU))


def test_the_plan_preview_prints_what_the_loader_did(toy, tmp_path: Path) -> None:
    suite, tasks, model = toy
    request = PlanRequest(
        methods=["magnitude"],
        suite=str(suite),
        model=str(model),
        sparsities=[0.5],
        seeds=[1],
        device="cpu",
        results=tmp_path / "results",
        tracking=False,
    )
    prepared = prepare_plan(request)
    out = io.StringIO()
    print_preview(Console(file=out, width=400), prepared.preview)
    printed = out.getvalue()
    assert f"toy: data from local files {tasks / 'toy_train.tsv'}" in printed
    assert (
        f"{tasks / 'toy_train.tsv'}: skipped 1 malformed row(s): line 66 has 3 fields, expected 2" in printed
    )


def test_the_record_keeps_the_notes_and_the_digest_of_every_file_read(toy) -> None:
    suite, tasks, model = toy
    plan, executor = _plan(suite, model)
    results = tasks.parent / "results"
    outcome = run_plan(plan, executor, results)
    assert outcome.ran == 2 and outcome.failed == 0
    for record in load_records(results):
        assert record.data is not None
        assert record.data.sources == ["files"]
        assert record.data.files == {
            str((tasks / name).resolve()): hashlib.sha256((tasks / name).read_bytes()).hexdigest()
            for name in ("toy_train.tsv", "toy_dev.tsv")
        }
        assert any("skipped 1 malformed row(s)" in note for note in record.data.notes)
        assert any(note.startswith("train: 64 of 64 examples") for note in record.data.notes)


def test_a_changed_data_file_is_not_resumed_and_an_unchanged_one_is(toy) -> None:
    suite, tasks, model = toy
    plan, executor = _plan(suite, model)
    results = tasks.parent / "results"
    run_plan(plan, executor, results)
    dev = tasks / "toy_dev.tsv"
    dev.touch()  # a new modification time alone, same bytes: still the same data
    assert run_plan(plan, executor, results).skipped == 2

    dev.write_text(dev.read_text().replace("positive", "negative", 1))
    with pytest.raises(DataChanged, match=rf"{dev.resolve()} .*move the old record out of the runs folder"):
        run_plan(plan, executor, results)
    assert len(load_records(results)) == 2  # nothing rerun or overwritten


def test_a_record_without_digests_or_with_files_not_here_resumes_as_before(toy) -> None:
    suite, tasks, model = toy
    plan, executor = _plan(suite, model)
    results = tasks.parent / "results"
    run_plan(plan, executor, results)
    older, elsewhere = load_records(results)
    write_record(results, older.model_copy(update={"data": None}))
    assert elsewhere.data is not None
    moved = {"/another/machine/toy_dev.tsv": "0" * 64}
    write_record(
        results, elsewhere.model_copy(update={"data": elsewhere.data.model_copy(update={"files": moved})})
    )
    (tasks / "toy_dev.tsv").write_text("sentence\tlabel\nthe movie\tpositive\n" * 3)
    outcome = run_plan(plan, executor, results)
    assert outcome.skipped == 2 and outcome.ran == 0


def test_the_cli_stops_on_changed_data_with_one_line(toy, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from junkdna_bench.cli import app

    suite, tasks, model = toy
    args = ["run", "--suite", str(suite), "--model", str(model), "--method", "magnitude", "--sparsity", "0.5"]
    args += [
        "--seeds",
        "1",
        "--epochs",
        "1",
        "--device",
        "cpu",
        "--results",
        str(tmp_path / "r"),
        "--no-tracking",
    ]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    train = tasks / "toy_train.tsv"
    train.write_text(train.read_text() + "the movie was good\tpositive\n")
    outcome = CliRunner().invoke(app, args, env={"COLUMNS": "400"})
    assert outcome.exit_code == 2, outcome.output
    (error,) = [line for line in outcome.output.splitlines() if line.startswith("error:")]
    assert str(train.resolve()) in error and "restore the data" in error


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("", "the file is empty"),
        ("\n\n", "the file is empty"),
        ("sentence,label\n", "the file holds only its header row"),
        ("sentence,label\na,b,c\n", "all 1 data row(s) are malformed"),
    ],
)
def test_an_empty_or_header_only_file_fails_naming_the_file_and_the_fix(
    tmp_path: Path, content: str, problem: str
) -> None:
    (tmp_path / "train.csv").write_text(content)
    card = tmp_path / "toy.yaml"
    card.write_text(
        TOY_CARD.replace("files: {train: toy_train.tsv, eval: toy_dev.tsv}", "files: {train: train.csv}")
    )
    with pytest.raises(DataError) as caught:
        load_pool(load_card_file(card), None)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{tmp_path / 'train.csv'}: {problem}")
    assert message.endswith("restore its data rows (download or export it again), or remove the file")


def test_an_empty_jsonl_split_fails_too(tmp_path: Path) -> None:
    from junkdna_bench.data.readers import read_jsonl

    with pytest.raises(DataError, match=r"x\.jsonl: the file is empty \(no JSON lines\); restore"):
        read_jsonl("\n \n", origin="x.jsonl", split="train")


def test_file_digests_are_cached_by_size_and_modification_time(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "data.tsv"
    path.write_bytes(b"a\tb\n" * 1000)
    calls = []
    real = data_fingerprint.hashlib.file_digest

    def counting(handle, name):
        calls.append(name)
        return real(handle, name)

    monkeypatch.setattr(data_fingerprint.hashlib, "file_digest", counting)
    first = data_fingerprint.file_digest(path)
    assert data_fingerprint.file_digest(path) == first and len(calls) == 1
    path.write_bytes(b"a\tc\n" * 1000)  # same size, new content and modification time
    assert data_fingerprint.file_digest(path) != first and len(calls) == 2


def test_published_records_keep_their_run_ids() -> None:
    """Ids stay the hash of the spec alone: every published record still resolves to its file name."""
    folders = sorted((REPO / "experiments" / "results").glob("*/"))
    assert folders
    legacy = 0
    for folder in folders:
        records, problems = scan_records(folder)
        assert not problems and records
        for path in (folder / "runs").glob("*.json"):
            record = read_record(path)
            assert record.run_id == record.spec.run_id() == path.stem
            legacy += record.data is None
    assert legacy, "records written before data provenance must still be among the published ones"


def test_multiple_choice_data_keeps_its_notes_and_digests_for_the_record(shared_data: Path) -> None:
    data = load_choice_data(load_card("commonsenseqa"), DataOptions(data_dir=shared_data))
    validation = (shared_data / "commonsenseqa" / "validation.jsonl").resolve()
    assert data.provenance.sources == ["data_dir"]
    assert data.provenance.files == {str(validation): hashlib.sha256(validation.read_bytes()).hexdigest()}
    assert data.provenance.notes == list(data.notes)
    assert any("the source has no shot split; 50 of its 1,221 questions" in note for note in data.notes)


def test_generative_qa_data_keeps_its_notes_and_digests_for_the_record(shared_data: Path) -> None:
    provenance = qa_provenance(load_card("squad"), DataOptions(data_dir=shared_data))
    parts = sorted((shared_data / "squad_v1.1").resolve().glob("dev-v1.1.part*.json"))
    assert len(parts) == 2  # the dev file is stored in two parts, read as one split
    assert provenance.files == {str(part): hashlib.sha256(part.read_bytes()).hexdigest() for part in parts}
    assert provenance.sources == ["data_dir"] and provenance.notes[0].startswith("squad: data from")
