"""Loss-barrier paths: closed-form path losses, exact ends, stored dense weights, resume, run ids."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from junkdna_bench.finetune.batching import Encoded
from junkdna_bench.finetune.interpolation import evaluate_loss, evaluate_path, load_interpolated
from junkdna_bench.harness.barrier_weights import BarrierWeightsError, load_dense_weights
from junkdna_bench.harness.executor import LocalExecutor, run_plan
from junkdna_bench.harness.plan import expand_plan, prune_settings
from junkdna_bench.harness.profiles import EVALUATE, PROTOCOL_DEFAULTS
from junkdna_bench.harness.runner import RunSettings, execute_run
from junkdna_bench.loss_barrier import InterpolationPath, PathPoint, barrier_height, path_alphas
from junkdna_bench.records import RunRecord, RunSpec, load_records, read_record
from junkdna_bench.results_dir import ResultsDir
from junkdna_bench.suites import load_suite
from tiny_models import save_tiny_model, single_thread, write_toy_suite

pytestmark = pytest.mark.usefixtures(single_thread.__name__)
CPU = torch.device("cpu")
HYPERPARAMS = {**PROTOCOL_DEFAULTS, "lr": 3e-3, "epochs": 2, "batch_size": 8}
ALPHAS = path_alphas(11)


class ScalarRegressor(torch.nn.Module):
    """``prediction = u * v * x`` with ``x`` the example's token count; the loss is the MSE."""

    def __init__(self, u: float, v: float) -> None:
        super().__init__()
        self.u = torch.nn.Parameter(torch.tensor(u))
        self.v = torch.nn.Parameter(torch.tensor(v))

    def forward(self, attention_mask: torch.Tensor, labels: torch.Tensor, **_: object) -> SimpleNamespace:
        prediction = self.u * self.v * attention_mask.sum(dim=1).float()
        return SimpleNamespace(
            loss=torch.nn.functional.mse_loss(prediction, labels), logits=prediction.unsqueeze(-1)
        )


def _lengths_data(lengths: list[int], scale: float = 1.0) -> Encoded:
    """One example per length; its label is ``scale`` times its token count."""
    features = [{"input_ids": [1] * n, "attention_mask": [1] * n} for n in lengths]
    return Encoded(features, [scale * n for n in lengths], pad_token_id=0)


def _path_losses(model: torch.nn.Module, start: dict, end: dict, data: Encoded) -> list[float]:
    def evaluate(m: torch.nn.Module) -> tuple[float, list[float]]:
        return evaluate_loss(m, data, regression=True, device=CPU, batch_size=3)

    return [s.loss for s in evaluate_path(model, start, end, ALPHAS, evaluate)]


def test_a_linear_model_with_squared_loss_has_the_closed_form_parabola_and_no_barrier() -> None:
    # prediction w * x with labels 2x: L(alpha) = E[x^2] ((1 - alpha) a + alpha b - 2)^2, convex in alpha.
    lengths = [2, 3, 5, 7, 11]
    data = _lengths_data(lengths, scale=2.0)
    model = ScalarRegressor(1.0, 1.0)
    start = {"u": torch.tensor(0.5), "v": torch.tensor(1.0)}
    end = {"u": torch.tensor(3.0), "v": torch.tensor(1.0)}
    second_moment = sum(n * n for n in lengths) / len(lengths)
    expected = [second_moment * ((1 - a) * 0.5 + a * 3.0 - 2.0) ** 2 for a in ALPHAS]
    losses = _path_losses(model, start, end, data)
    assert losses == pytest.approx(expected, rel=1e-6)
    assert barrier_height(ALPHAS, losses) == pytest.approx(0.0, abs=1e-4)


def test_a_product_model_between_two_minima_has_the_closed_form_barrier() -> None:
    # u = v = 1 - 2 alpha from (1, 1) to (-1, -1), labels x: L(alpha) = 16 E[x^2] alpha^2 (1 - alpha)^2,
    # zero at both ends and E[x^2] at alpha = 1/2.
    lengths = [1, 2, 4, 6]
    data = _lengths_data(lengths)
    model = ScalarRegressor(0.0, 0.0)
    start = {"u": torch.tensor(1.0), "v": torch.tensor(1.0)}
    end = {"u": torch.tensor(-1.0), "v": torch.tensor(-1.0)}
    second_moment = sum(n * n for n in lengths) / len(lengths)
    losses = _path_losses(model, start, end, data)
    assert losses == pytest.approx([16 * second_moment * a**2 * (1 - a) ** 2 for a in ALPHAS], abs=1e-4)
    assert barrier_height(ALPHAS, losses) == pytest.approx(second_moment, rel=1e-6)
    assert model.u.item() == -1.0 and model.v.item() == -1.0  # the model is left at the end


def test_barrier_height_is_the_excess_over_the_chord_not_over_the_ends() -> None:
    alphas = [0.0, 0.25, 0.5, 0.75, 1.0]
    losses = [1.0, 1.5, 2.0, 3.0, 3.0]  # chord 1.0 -> 3.0: excess 0.5 at 0.75, though no point tops the ends
    assert barrier_height(alphas, losses) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="rise from 0 to 1"):
        barrier_height([0.0, 0.6, 0.5, 1.0], [0, 0, 0, 0])


def test_a_recorded_path_must_carry_the_barrier_of_its_points() -> None:
    points = [PathPoint(alpha=a, loss=loss, metric=None) for a, loss in ((0, 1.0), (0.5, 2.0), (1, 1.0))]
    assert InterpolationPath.of("dense", points).barrier == pytest.approx(1.0)
    with pytest.raises(ValueError, match="is not its points'"):
        InterpolationPath(start="dense", points=points, barrier=0.25)


def test_interpolation_is_exact_at_the_ends_and_pruned_weights_shrink_linearly_to_zero() -> None:
    model = torch.nn.Linear(4, 3)
    dense = {k: v.clone() for k, v in model.state_dict().items()}
    sparse = {k: v.clone() for k, v in dense.items()}
    sparse["weight"][:, :2] = 0.0  # pruned at the sparse end
    sparse["weight"][:, 2:] += 0.125
    load_interpolated(model, dense, sparse, 1.0)
    assert torch.equal(model.weight, sparse["weight"]) and (model.weight[:, :2] == 0).all()
    load_interpolated(model, dense, sparse, 0.0)
    assert torch.equal(model.weight, dense["weight"])
    load_interpolated(model, dense, sparse, 0.3)
    torch.testing.assert_close(model.weight[:, :2], 0.7 * dense["weight"][:, :2])


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("toy")
    return write_toy_suite(root / "tasks", n_train=64, n_eval=32), save_tiny_model(root / "model")


def _plan(toy, points: int | None = 5):
    suite_path, model = toy
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
        loss_barrier=points,
    )
    return plan, {v.id: v for v in suite.variants()}


def _run(toy, results: Path) -> tuple[RunRecord, RunRecord]:
    plan, variants = _plan(toy)
    run_plan(plan, LocalExecutor(variants, RunSettings(device=CPU, results_dir=results)), results)
    records = {r.spec.is_dense: r for r in load_records(results, include_failed=True)}
    return records[True], records[False]


@pytest.fixture(scope="module")
def barrier_runs(toy, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, RunRecord, RunRecord]:
    results = tmp_path_factory.mktemp("results")
    return (results, *_run(toy, results))


def test_dense_and_sparse_runs_carry_consistent_paths(barrier_runs) -> None:
    _, dense, sparse = barrier_runs
    assert dense.status == sparse.status == "completed", (dense.error, sparse.error)
    assert [p.start for p in dense.loss_barrier.paths] == ["pretrained"]
    assert [p.start for p in sparse.loss_barrier.paths] == ["pretrained", "dense"]
    to_sparse = sparse.loss_barrier.path("dense")
    assert [p.alpha for p in to_sparse.points] == [0.0, 0.25, 0.5, 0.75, 1.0]
    # alpha 0 of the dense path is the dense fine-tuned model, scored as the dense run scored it
    assert to_sparse.points[0].loss == dense.loss_barrier.path("pretrained").points[-1].loss
    assert to_sparse.points[0].metric == pytest.approx(dense.metrics[dense.primary_metric])
    assert to_sparse.points[-1].metric == pytest.approx(sparse.metrics[sparse.primary_metric])
    # both runs start from the same pre-trained weights and seeded head
    assert sparse.loss_barrier.path("pretrained").points[0] == dense.loss_barrier.path("pretrained").points[0]
    assert to_sparse.start_sha256 == dense.loss_barrier.stored_weights.sha256
    assert sparse.loss_barrier.stored_weights is None
    assert "loss_barrier" in sparse.timings_s


def test_the_dense_run_stores_its_weights_once_with_their_digest(barrier_runs) -> None:
    results, dense, _ = barrier_runs
    stored = dense.loss_barrier.stored_weights
    path = results / stored.path
    assert path == ResultsDir(results).weights_path(dense.run_id)
    data = path.read_bytes()
    assert len(data) == stored.bytes and hashlib.sha256(data).hexdigest() == stored.sha256
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # nothing per sparse run, no temp


def _copy(results: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "results"
    shutil.copytree(results, copy)
    return copy


def test_resume_reruns_a_lost_sparse_run_from_the_stored_weights(toy, barrier_runs, tmp_path: Path) -> None:
    results, _, sparse = barrier_runs
    copy = _copy(results, tmp_path)
    ResultsDir(copy).record_path(sparse.run_id).unlink()
    plan, variants = _plan(toy)
    outcome = run_plan(plan, LocalExecutor(variants, RunSettings(device=CPU, results_dir=copy)), copy)
    assert (outcome.skipped, outcome.ran, outcome.failed) == (1, 1, 0)
    again = read_record(ResultsDir(copy).record_path(sparse.run_id))
    # the same paths (up to the rounding of another thread count than the first run's)
    for path, before in zip(again.loss_barrier.paths, sparse.loss_barrier.paths, strict=True):
        assert path.start_sha256 == before.start_sha256
        assert [p.loss for p in path.points] == pytest.approx([p.loss for p in before.points], rel=1e-4)


def _rerun(toy, spec: RunSpec, results: Path) -> RunRecord:
    _, variants = _plan(toy)
    return execute_run(spec, variants[spec.variant], RunSettings(device=CPU, results_dir=results))


def test_a_sparse_run_refuses_dense_weights_that_do_not_match_its_record(toy, barrier_runs, tmp_path) -> None:
    results, dense, sparse = barrier_runs
    copy = _copy(results, tmp_path)
    weights = copy / dense.loss_barrier.stored_weights.path
    weights.write_bytes(weights.read_bytes()[:-7])  # cut short
    failed = _rerun(toy, sparse.spec, copy)
    assert failed.status == "failed" and "BarrierWeightsError" in failed.error
    assert str(weights) in failed.error and "is not the" in failed.error


def test_weights_without_a_completed_dense_record_are_not_trusted(toy, barrier_runs, tmp_path) -> None:
    """What a kill between writing the weights and writing the record leaves."""
    results, dense, sparse = barrier_runs
    copy = _copy(results, tmp_path)
    ResultsDir(copy).record_path(dense.run_id).unlink()
    failed = _rerun(toy, sparse.spec, copy)
    assert failed.status == "failed" and "has no record yet" in failed.error
    with pytest.raises(BarrierWeightsError, match="has no record yet"):
        load_dense_weights(copy, sparse.spec, CPU)


def test_unset_loss_barrier_keeps_run_ids_and_set_changes_them(toy) -> None:
    plain, _ = _plan(toy, points=None)
    barrier, _ = _plan(toy, points=5)
    assert all(s.loss_barrier is None for s in plain.specs)
    assert "loss_barrier" not in plain.specs[0].model_dump_json(exclude_none=True)
    assert {s.run_id() for s in plain.specs}.isdisjoint({s.run_id() for s in barrier.specs})
    assert [s.model_copy(update={"loss_barrier": None}).run_id() for s in barrier.specs] == [
        s.run_id() for s in plain.specs
    ]
    assert barrier.specs[1].dense_baseline().run_id() == barrier.specs[0].run_id()


def test_published_records_keep_their_ids() -> None:
    folder = Path(__file__).parents[1] / "experiments" / "results" / "starter-demo" / "runs"
    paths = sorted(folder.glob("*.json"))[:5]
    assert paths, "the starter demo's records are committed"
    for path in paths:
        read_record(path, path.stem)  # the file name is the run id its spec hashes to


def test_the_evaluate_protocol_refuses_a_loss_barrier(toy) -> None:
    suite_path, model = toy
    suite = load_suite(suite_path)
    with pytest.raises(ValueError, match="needs fine-tuned runs"):
        expand_plan(
            suite.variants(),
            suite=suite.name,
            model=str(model),
            settings=prune_settings(["magnitude"], [0.5], []),
            transfers=["none"],
            seeds=[1],
            hyperparams={},
            code_version="test",
            protocol=EVALUATE,
            loss_barrier=5,
        )
    with pytest.raises(ValueError, match="trains none"):
        RunSpec(
            model="m", method="dense", sparsity=0.0, transfer="none", suite="s", task="t", variant="v",
            tier="easy", seed=1, loss_barrier=5,
        )  # fmt: skip


def test_an_experiment_plan_asks_every_request_for_its_paths(tmp_path: Path) -> None:
    from junkdna_bench.experiments import Experiment, ExperimentError, load_experiment, plan_requests

    plan = Path(__file__).parents[1] / "experiments" / "true-gem.yaml"
    experiment = load_experiment(plan)
    assert experiment.loss_barrier is None
    assert all(r.loss_barrier is None for _, r in plan_requests(experiment, results=tmp_path))
    with_paths = Experiment.model_validate({**experiment.model_dump(), "loss_barrier": 11})
    assert {r.loss_barrier for _, r in plan_requests(with_paths, results=tmp_path)} == {11}
    bad = tmp_path / f"{experiment.name}.yaml"
    bad.write_text(plan.read_text(encoding="utf-8") + "loss_barrier: 2\n", encoding="utf-8")
    with pytest.raises(ExperimentError, match="loss_barrier"):
        load_experiment(bad)
