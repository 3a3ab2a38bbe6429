"""``run --save-model``: the saved folder loads with transformers alone and is the model the run scored.

The reload runs in a separate interpreter that cannot import junkdna_bench (``python -I -S``
with only the directories of torch, transformers, safetensors and numpy on its path). It
unpacks the bit-packed masks with numpy, checks that the weights are zero exactly where the
masks prune, and scores a few evaluation examples with code of its own; the scores must equal
the predictions in the run's record: the fine-tuned encoder's class probabilities, the tiny
decoder's option log-likelihoods (tokenized as lm-evaluation-harness does, written out here).
"""

from __future__ import annotations

import copy
import json
import os
import shlex
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import safetensors
import torch
import transformers
from typer.testing import CliRunner

from decoder_models import smollm2_tokenizer, tiny_llama
from junkdna_bench import __version__
from junkdna_bench.data.fingerprint import path_digest
from junkdna_bench.data.loading import load_variant_data
from junkdna_bench.experiments import find_plan, load_experiment, plan_requests
from junkdna_bench.harness import evaluate_run
from junkdna_bench.harness.model_export import (
    CARD_FILE,
    MASKS_FILE,
    ModelSaving,
    PackedMasks,
    command_line,
)
from junkdna_bench.harness.plan import expand_plan, prune_settings
from junkdna_bench.harness.profiles import EVALUATE, EVALUATE_CPU, Hyperparams, resolve_hyperparams
from junkdna_bench.harness.runner import RunSettings, execute_run
from junkdna_bench.harness.session import PlanRequest, prepare_plan, run_prepared
from junkdna_bench.records import RunRecord, load_records
from junkdna_bench.suites import load_suite
from tiny_models import save_tiny_model, single_thread, write_toy_suite

pytestmark = pytest.mark.usefixtures(single_thread.__name__)
CPU = torch.device("cpu")
EXAMPLES = 4  # evaluation examples the clean interpreter scores
CLI_ARGS = ["--method", "magnitude", "--sparsity", "0.5", "--seeds", "1", "--profile", "paper"]
CLI_ARGS += ["--lr", "3e-3", "--epochs", "2", "--batch-size", "8", "--device", "cpu", "--no-tracking"]
CLI_ARGS += ["--save-model"]

# Runs in the clean interpreter: argv[1] is a JSON request, stdout gets a JSON answer.
RELOAD = r"""
import importlib.util, json, sys
request = json.loads(sys.argv[1])
sys.path[:0] = request["paths"]
assert importlib.util.find_spec("junkdna_bench") is None, "junkdna_bench must not be importable here"
import numpy as np, torch, transformers
from safetensors import safe_open

folder = request["folder"]
meta, masks = {}, {}
if request["masks"]:
    with safe_open(f"{folder}/masks.safetensors", framework="np") as handle:
        meta = handle.metadata()
        shapes = json.loads(meta["shapes"])
        for name, shape in shapes.items():
            bits = np.unpackbits(handle.get_tensor(name), count=int(np.prod(shape)))
            masks[name] = bits.reshape(shape).astype(bool)
auto = getattr(transformers, request["auto"])
model = auto.from_pretrained(folder).eval()
tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
weights = dict(model.named_parameters())
mismatched = {n: int(((weights[n].detach().numpy() != 0) != m).sum()) for n, m in masks.items()}
kept = sum(int(m.sum()) for m in masks.values()) / sum(m.size for m in masks.values()) if masks else None

def classify(texts):
    encoded = tokenizer(*texts, truncation=True, max_length=request["max_length"], return_tensors="pt")
    with torch.no_grad():
        return model(**encoded).logits.float().softmax(-1)[0].tolist()

def start_tokens():
    marked, plain = tokenizer("a")["input_ids"], tokenizer("a", add_special_tokens=False)["input_ids"]
    for start in range(len(marked) - len(plain) + 1):
        if marked[start : start + len(plain)] == plain:
            return list(marked[:start])
    return []

def option_logprobs(context, continuations):
    start = start_tokens()
    encode = lambda text: start + (tokenizer(text, add_special_tokens=False)["input_ids"] if text else [])
    prefix = encode(context.rstrip())  # trailing whitespace belongs to the continuation
    context_ids = prefix if len(prefix) > len(start) else [tokenizer.eos_token_id]
    scores = []
    for continuation in continuations:
        tail = encode(context + continuation)[len(prefix) :]
        ids = torch.tensor([context_ids + tail])
        with torch.no_grad():
            logprobs = model(ids).logits.float().log_softmax(-1)[0]
        first = len(context_ids) - 1
        scores.append(sum(float(logprobs[first + i, token]) for i, token in enumerate(tail)))
    return scores

if request["auto"] == "AutoModelForSequenceClassification":
    scores = [classify(texts) for texts in request["inputs"]]
else:
    scores = [option_logprobs(context, options) for context, options in request["inputs"]]
labels = model.config.id2label
print(json.dumps({"mismatched": mismatched, "kept": kept, "scores": scores, "labels": labels, "meta": meta}))
"""


def reload_elsewhere(folder: Path, auto: str, inputs: list, max_length: int = 128) -> dict:
    """What the clean interpreter finds in ``folder``: mask/zero mismatches per weight and scores."""
    masks = (folder / MASKS_FILE).exists()
    import junkdna_bench

    paths = sorted({str(Path(m.__file__).parents[1]) for m in (torch, transformers, safetensors, np)})
    assert not any(Path(junkdna_bench.__file__).is_relative_to(p) for p in paths)
    request = {
        "paths": paths,
        "folder": str(folder),
        "auto": auto,
        "inputs": inputs,
        "max_length": max_length,
        "masks": masks,
    }
    env = {"PATH": os.environ.get("PATH", ""), "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", RELOAD, json.dumps(request)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=folder,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def reload_toy_classifier(toy: tuple[Path, Path], record: RunRecord, folder: Path) -> dict:
    """``reload_elsewhere`` on a few of the toy task's evaluation examples; its scores are the run's."""
    variant = load_suite(toy[0]).variant(record.spec.variant)
    hp = Hyperparams.of(record.spec.hyperparams)
    examples = load_variant_data(variant, record.spec.seed, hp.data_options(None)).eval[:EXAMPLES]
    assert [ex.id for ex in examples] == record.predictions.example_ids[:EXAMPLES]
    texts = [list(ex.texts) for ex in examples]
    found = reload_elsewhere(folder, "AutoModelForSequenceClassification", texts, hp.max_length)
    assert len(found["scores"]) == EXAMPLES
    for mine, recorded in zip(found["scores"], record.predictions.probabilities, strict=False):
        assert mine == pytest.approx(recorded, abs=1e-5)
    return found


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("toy")
    return write_toy_suite(root / "tasks", n_train=64, n_eval=16), save_tiny_model(root / "model")


def toy_request(toy: tuple[Path, Path], results: Path, **changes) -> PlanRequest:
    suite, model = toy
    request = PlanRequest(
        methods=["magnitude"],
        suite=str(suite),
        model=str(model),
        sparsities=[0.5],
        seeds=[1],
        profile="paper",
        results=results,
        device="cpu",
        tracking=False,
        overrides={"lr": 3e-3, "epochs": 2, "batch_size": 8},
        code_version=__version__,  # as the command line sets it: the same run ids
        save_model=True,
        command="junkdna-bench run --method magnitude --sparsity 0.5 --save-model",
    )
    return replace(request, **changes)


@pytest.fixture(scope="module")
def encoder_run(toy, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[RunRecord]]:
    """The toy plan through ``junkdna-bench run --save-model``, as typed on a command line."""
    from junkdna_bench.commands.run import app

    results = tmp_path_factory.mktemp("encoder") / "results"
    suite, model = toy
    args = [*CLI_ARGS, "--suite", str(suite), "--model", str(model), "--results", str(results)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "argv", ["/usr/local/bin/junkdna-bench", "run", *args])
        done = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert done.exit_code == 0, done.output[-3000:]
    return results, load_records(results)


def test_a_pruned_encoder_reloads_without_junkdna_bench_with_its_zeros_and_scores(toy, encoder_run) -> None:
    results, records = encoder_run
    dense, pruned = sorted(records, key=lambda r: r.spec.is_dense, reverse=True)
    assert dense.saved_model is None and not (results / "models" / dense.run_id).exists()
    saved = pruned.saved_model
    folder = results / saved.path
    assert saved.path == f"models/{pruned.run_id}"
    assert saved.sha256 == path_digest(folder)
    assert saved.bytes == sum(p.stat().st_size for p in folder.iterdir())
    assert {"config.json", "model.safetensors", MASKS_FILE, CARD_FILE} <= {p.name for p in folder.iterdir()}
    assert not list(folder.parent.glob(".*"))  # no temporary folder left
    assert "save_model" in pruned.timings_s

    found = reload_toy_classifier(toy, pruned, folder)
    assert set(found["mismatched"]) == set(pruned.layer_sparsity)  # one mask per pruned weight
    assert all(count == 0 for count in found["mismatched"].values()), found["mismatched"]
    assert found["kept"] == pytest.approx(0.5, abs=0.01)
    assert found["meta"]["method"] == "magnitude" and found["meta"]["mask_format"] == "packbits-1"
    assert found["labels"] == {"0": "negative", "1": "positive"}  # the card's label names (JSON keys)

    card = (folder / CARD_FILE).read_text()
    for fact in (
        "magnitude",
        "50%",
        "sparse: fine-tuned with the mask fixed;",
        pruned.spec.variant,
        "seed 1",
    ):
        assert fact in card
    assert f"| accuracy | {pruned.metrics['accuracy']:.4f} |" in card
    assert f"junkdna-bench run {shlex.join(CLI_ARGS)} --suite {toy[0]}" in card  # the command as typed
    assert f"achieved, as the run recorded it: {100 * pruned.achieved_sparsity:.2f} %" in card
    assert "AutoModelForSequenceClassification.from_pretrained" in card


def test_save_model_changes_no_run_id(toy, tmp_path: Path) -> None:
    saving = prepare_plan(toy_request(toy, tmp_path / "a"))
    plain = prepare_plan(toy_request(toy, tmp_path / "a", save_model=False))
    assert [s.run_id() for s in saving.plan.specs] == [s.run_id() for s in plain.plan.specs]


def test_resume_says_which_finished_runs_have_no_saved_model_and_does_not_redo_them(
    toy, encoder_run, tmp_path: Path
) -> None:
    source, records = encoder_run
    pruned = next(r for r in records if not r.spec.is_dense)
    results = tmp_path / "results"
    (results / "runs").mkdir(parents=True)
    for record in records:  # the records alone: their model folders are not there
        name = f"{record.run_id}.json"
        (results / "runs" / name).write_bytes((source / "runs" / name).read_bytes())
    prepared = prepare_plan(toy_request(toy, results))
    notes = [n for n in prepared.preview.notes if n.startswith("--save-model")]
    assert len(notes) == 1 and "1 finished run(s) have no saved model" in notes[0]
    assert pruned.run_id in notes[0] and "move its record out of" in notes[0]
    assert prepared.preview.pending == 0
    outcome = run_prepared(prepared)
    assert outcome.ran == 0 and not (results / "models").exists()
    without = prepare_plan(toy_request(toy, results, save_model=False))
    assert not any(n.startswith("--save-model") for n in without.preview.notes)


def test_a_save_cut_short_leaves_no_folder_and_a_stale_one_is_replaced(
    toy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = tmp_path / "results"
    plan = prepare_plan(toy_request(toy, results)).plan
    spec = next(s for s in plan.specs if not s.is_dense)
    variant = load_suite(toy[0]).variant(spec.variant)
    settings = RunSettings(device=CPU, save_models=ModelSaving(results, "cmd"))
    models = results / "models"
    (models / f".{spec.run_id()}.partial").mkdir(parents=True)  # a kill during an earlier save
    (models / spec.run_id()).mkdir()  # a save whose run was killed before its record was written
    (models / spec.run_id() / "stale.bin").write_bytes(b"old")

    def disk_full(self: PackedMasks, path: Path) -> None:
        path.write_bytes(b"half")
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(PackedMasks, "save", disk_full)
        failed = execute_run(spec, variant, settings)
    assert failed.status == "failed" and "No space left on device" in failed.error
    assert failed.saved_model is None
    assert sorted(p.name for p in models.iterdir()) == [spec.run_id()]  # the partial one is gone

    record = execute_run(spec, variant, settings)
    assert record.status == "completed", record.error
    assert sorted(p.name for p in models.iterdir()) == [spec.run_id()]
    assert not (models / spec.run_id() / "stale.bin").exists()
    assert record.saved_model.sha256 == path_digest(models / spec.run_id())


def test_a_quantised_encoder_saves_the_same_way_without_masks(toy, tmp_path: Path) -> None:
    results = tmp_path / "results"
    request = toy_request(toy, results, methods=["rtn"], sparsities=[], quants=["int8"])
    spec = next(s for s in prepare_plan(request).plan.specs if not s.is_dense)
    variant = load_suite(toy[0]).variant(spec.variant)
    record = execute_run(spec, variant, RunSettings(device=CPU, save_models=ModelSaving(results, "cmd")))
    assert record.status == "completed", record.error
    folder = results / record.saved_model.path
    assert not (folder / MASKS_FILE).exists() and (folder / "model.safetensors").exists()
    found = reload_toy_classifier(toy, record, folder)
    assert found["mismatched"] == {} and found["kept"] is None
    card = (folder / CARD_FILE).read_text()
    assert "| level | int8 quantised |" in card
    assert f"bits per weight, overheads included: {record.compression.bits_per_weight:g}" in card


def test_a_pruned_decoder_reloads_without_junkdna_bench_with_its_zeros_and_scores(
    shared_data: Path, tmp_path: Path
) -> None:
    from junkdna_bench.data.multiple_choice import load_choice_data
    from junkdna_bench.scoring.prompts import build_prompt

    tokenizer = smollm2_tokenizer()
    decoder = tiny_llama(len(tokenizer), hidden_size=32)
    evaluate_run.clear_caches()
    results = tmp_path / "results"
    settings = RunSettings(
        device=CPU,
        load_causal_model=lambda model, device: (copy.deepcopy(decoder), tokenizer),
        data_dir=shared_data,
        save_models=ModelSaving(results, "junkdna-bench run --suite llm --save-model"),
    )
    suite = load_suite("llm")
    variant = suite.variant("mmlu@options=4,shots=0")
    given = {"max_eval_examples": 8, "calibration_examples": 4, "calibration_length": 32}
    hyperparams = resolve_hyperparams(EVALUATE_CPU, None, given, EVALUATE)
    hyperparams["calibration_source"] = suite.calibration
    plan = expand_plan(
        [variant],
        suite="llm",
        model="tiny-llama",
        settings=prune_settings(["wanda"], [0.5], []),
        transfers=["none"],
        seeds=[3],
        hyperparams=hyperparams,
        code_version="test",
        protocol=EVALUATE,
    )
    records = [execute_run(spec, variant, settings) for spec in plan.specs]
    evaluate_run.clear_caches()
    assert [r.status for r in records] == ["completed", "completed"], [r.error for r in records]
    dense, pruned = records
    assert dense.saved_model is None and pruned.saved_model is not None

    data = load_choice_data(
        variant.card, Hyperparams.of(pruned.spec.hyperparams).data_options(None, shared_data)
    )
    by_id = {q.id: q for q in data.eval}
    prompts = [build_prompt(by_id[i], [], "continuation") for i in pruned.predictions.example_ids[:EXAMPLES]]
    found = reload_elsewhere(
        results / pruned.saved_model.path,
        "AutoModelForCausalLM",
        [[p.context, list(p.continuations)] for p in prompts],
    )
    assert set(found["mismatched"]) == set(pruned.layer_sparsity)
    assert all(count == 0 for count in found["mismatched"].values()), found["mismatched"]
    assert found["kept"] == pytest.approx(0.5, abs=0.01)
    assert found["meta"]["method"] == "wanda"
    assert len(found["scores"]) == EXAMPLES
    for mine, recorded in zip(found["scores"], pruned.predictions.option_logprobs, strict=False):
        assert mine == pytest.approx(recorded, abs=1e-4)
    card = (results / pruned.saved_model.path / CARD_FILE).read_text()
    assert "none: pruned one-shot and scored as it is" in card and "AutoModelForCausalLM" in card


def test_the_card_quotes_the_command_as_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["/opt/venv/bin/junkdna-bench", "run", "--tasks", "sst2 x"])
    assert command_line() == "junkdna-bench run --tasks 'sst2 x'"
    module = ["-m", "junkdna_bench.commands.run", "--method", "wanda"]
    monkeypatch.setattr(sys, "argv", ["/src/junkdna_bench/commands/run.py", "--method", "wanda"])
    monkeypatch.setattr(sys, "orig_argv", ["/usr/bin/python3.11", *module])
    assert command_line() == "python3.11 -m junkdna_bench.commands.run --method wanda"


def test_an_experiment_passes_save_model_to_every_block(tmp_path: Path) -> None:
    experiment = load_experiment(find_plan("true-gem"))
    typed = "junkdna-bench experiment run true-gem --save-model"
    requests = plan_requests(experiment, results=tmp_path, save_model=True, command=typed)
    assert requests and all(r.save_model and r.command == typed for _, r in requests)
    assert not any(r.save_model for _, r in plan_requests(experiment, results=tmp_path))
