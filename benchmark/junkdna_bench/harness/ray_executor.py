"""Run a plan's specs as Ray tasks, on a local cluster or a shared one, as many at once as fit.

Each spec becomes one task that reserves what its run needs (``harness.resources``: CPUs, a GPU
share for CUDA runs, host memory estimated from the model size). Runs are independent (a dense
baseline is just another spec), so the cluster schedules them in any order, and the driver takes
each record the moment it is ready (``ray.wait``): no slot idles behind a slow run.

What needs a single owner stays on the driver: ``run_plan`` writes the results directory and
logs to MLflow. Workers never log to MLflow, not even to a server: the record a worker returns
is the whole tracking event, logging it takes a tenth of a second (SQLite) against minutes for
the run, so one writer is never the bottleneck, and the plan's parent run and its duplicate check stay in
one process. With ``MLFLOW_TRACKING_URI`` set to a server, the driver logs there.

Failures, by kind:

- a run's own failure (bad data, divergence, a method bug) comes back from ``execute_run`` as a
  failed record, as in-process; it would fail again, so it is not retried;
- a worker that dies mid-run (killed, out of memory, its node lost) is retried by Ray on another
  worker up to ``max_retries`` times; then the run gets a failed record that says so (the next
  ``run`` of the plan tries it again, as it does every failed run);
- the driver dying: each worker has already written its record to the shared location. A
  restarted driver skips those runs: ``run_plan`` does when the location is its results
  directory, and this executor takes them from any other location before scheduling the rest.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import ModuleType
from typing import TYPE_CHECKING, Any

import torch

from junkdna_bench.harness.progress import describe_spec
from junkdna_bench.harness.resources import RunResources, run_resources
from junkdna_bench.harness.runner import RunSettings, execute_run
from junkdna_bench.harness.shared_records import SharedRecords
from junkdna_bench.records import RunRecord, RunSpec

if TYPE_CHECKING:
    from junkdna_bench.suites import TaskVariant

INSTALL_HINT = 'pip install "junkdna-bench[ray]"'
# Only specs, task variants and records travel through Ray's object store: a small one leaves
# the memory to the runs (Ray's default takes 30 % of the machine's).
LOCAL_OBJECT_STORE_BYTES = 256 * 1024**2
ERROR_CHARS = 2000


def import_ray() -> ModuleType:
    try:
        import ray
    except ImportError as exc:
        raise RuntimeError(f"the Ray executor needs Ray, which is not installed: {INSTALL_HINT}") from exc
    return ray


@dataclass(frozen=True)
class RayOptions:
    """Where the cluster is and what each run reserves on it."""

    address: str | None = None  # None: start a local cluster; "auto", "host:port" or "ray://host:port": join
    num_cpus: int | None = None  # CPUs a local cluster offers (default: all of this machine's)
    cpus_per_run: float = 1.0
    gpus_per_run: float = 1.0  # CUDA runs only; below 1 packs several runs on a GPU
    memory_per_run: int | None = None  # bytes of host memory; default: estimated from the model size
    max_retries: int = 2  # new attempts after the worker running a run died
    shared_results: str | None = None  # path or fsspec URI where workers also write their records
    runtime_env: dict[str, Any] | None = field(default=None, hash=False)  # e.g. {"pip": [...]}

    def __post_init__(self) -> None:
        if self.address is not None and self.num_cpus is not None:
            raise ValueError(
                "--ray-num-cpus sizes a local cluster; a cluster joined with --address has the CPUs "
                "its nodes were started with"
            )
        if self.max_retries < 0:
            raise ValueError(f"max_retries={self.max_retries} must be 0 or more")


class RayExecutor:
    """Executor over a Ray cluster. ``run`` connects (starting a local cluster if no address is given)
    and disconnects after; a caller that connected first (``connect``) keeps the cluster across runs."""

    def __init__(
        self,
        variants: Mapping[str, TaskVariant],
        settings: RunSettings,
        options: RayOptions | None = None,
    ) -> None:
        self.ray = import_ray()
        self.variants = dict(variants)
        self.options = options or RayOptions()
        # Progress callbacks draw the driver's display and cannot run in a worker. A worker sees
        # the GPUs Ray gave it as cuda:0, cuda:1, ..., whatever index the driver's device had.
        device = torch.device("cuda") if settings.device.type == "cuda" else settings.device
        self.settings = replace(settings, device=device, on_start=None, on_step=None, on_scored=None)
        location = self.options.shared_results
        self.shared = SharedRecords(location) if location else None
        self._resources: dict[str, RunResources] = {}

    def resources(self, spec: RunSpec) -> RunResources:
        if spec.model not in self._resources:
            self._resources[spec.model] = run_resources(
                spec.model,
                self.settings.device.type,
                cpus_per_run=self.options.cpus_per_run,
                gpus_per_run=self.options.gpus_per_run,
                memory_bytes=self.options.memory_per_run,
            )
        return self._resources[spec.model]

    def run(self, specs: Sequence[RunSpec]) -> Iterator[RunRecord]:
        specs = list(specs)
        if self.shared is not None and specs:
            finished = self.shared.completed(spec.run_id() for spec in specs)
            yield from finished.values()
            specs = [spec for spec in specs if spec.run_id() not in finished]
        if specs:
            yield from self._schedule(specs)

    def _schedule(self, specs: list[RunSpec]) -> Iterator[RunRecord]:
        ray = self.ray
        connected_here = self.connect()
        waiting: dict[Any, RunSpec] = {}
        try:
            self._check_fits(specs, strict=connected_here and self.options.address is None)
            if self.shared is not None:
                self.shared.check_writable()
            task = ray.remote(run_on_worker)
            settings_ref = ray.put(self.settings)
            variant_refs = {name: ray.put(self.variants[name]) for name in {s.variant for s in specs}}
            for spec in specs:
                resources = self.resources(spec)
                ref = task.options(
                    **resources.ray_options(),
                    max_retries=self.options.max_retries,
                    retry_exceptions=False,
                    name=describe_spec(spec),
                ).remote(spec, variant_refs[spec.variant], settings_ref, self.shared, resources.torch_threads)
                waiting[ref] = spec
            refs = list(waiting)
            while refs:
                done, refs = ray.wait(refs, num_returns=1)
                for ref in done:
                    yield self._collect(ref, waiting.pop(ref))
        finally:
            for ref in waiting:  # the driver stops (interrupt, fail-fast): so do the runs it asked for
                ray.cancel(ref, force=True)
            if connected_here:
                ray.shutdown()

    def connect(self) -> bool:
        """Join or start the cluster unless this process is connected already; True if it connected."""
        ray = self.ray
        if ray.is_initialized():
            return False
        extra = {"runtime_env": self.options.runtime_env} if self.options.runtime_env else {}
        if self.options.address is None:
            ray.init(
                num_cpus=self.options.num_cpus,
                include_dashboard=False,
                object_store_memory=LOCAL_OBJECT_STORE_BYTES,
                # A run's failure is in its record; worker chatter would break the progress display.
                log_to_driver=False,
                **extra,
            )
        else:
            try:
                ray.init(address=self.options.address, log_to_driver=False, **extra)
            except ConnectionError as exc:
                raise RuntimeError(
                    f"no Ray cluster at --address {self.options.address!r} ({exc}); start one "
                    "(ray start --head) or leave --address out to start a local cluster"
                ) from exc
        return True

    def _check_fits(self, specs: list[RunSpec], *, strict: bool) -> None:
        """A run no node can hold would wait forever: an error on a local cluster, a warning otherwise
        (an autoscaler may still add a node that fits)."""
        nodes = [node["Resources"] for node in self.ray.nodes() if node.get("Alive")]
        for resources in {self.resources(spec) for spec in specs}:
            need = {"CPU": resources.num_cpus, "GPU": resources.num_gpus, "memory": resources.memory_bytes}
            if any(all(node.get(k, 0) >= v for k, v in need.items() if v) for node in nodes):
                continue
            largest = ", ".join(
                f"{k} {max((n.get(k, 0) for n in nodes), default=0):g}" for k in ("CPU", "GPU")
            )
            message = f"no Ray node can hold a run that needs {resources.describe()} (largest: {largest})"
            if strict:
                raise ValueError(
                    f"{message}: lower --ray-cpus-per-run or --ray-gpus-per-run, or join a larger cluster"
                )
            warnings.warn(f"{message}; such runs wait until a node that fits joins", stacklevel=2)

    def _collect(self, ref: Any, spec: RunSpec) -> RunRecord:
        exceptions = self.ray.exceptions
        try:
            return self.ray.get(ref)
        except (exceptions.WorkerCrashedError, exceptions.NodeDiedError, exceptions.OutOfMemoryError) as exc:
            reason = (
                f"{type(exc).__name__}: the worker running this run died on each of its "
                f"{self.options.max_retries + 1} attempt(s) (killed, out of memory, or its node was lost); "
                f"Ray said: {exc}"
            )
        except exceptions.RayError as exc:  # the task could not run or return (environment, transport)
            reason = f"{type(exc).__name__}: {exc}"
        return RunRecord(
            run_id=spec.run_id(),
            status="failed",
            spec=spec,
            error=reason[:ERROR_CHARS],
            created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            environment={"executor": "ray", "ray": self.ray.__version__},
        )


def run_on_worker(
    spec: RunSpec,
    variant: TaskVariant,
    settings: RunSettings,
    shared: SharedRecords | None,
    torch_threads: int,
) -> RunRecord:
    """One run inside a Ray worker; the record is on shared storage before the driver hears of it."""
    torch.set_num_threads(torch_threads)  # worker processes are reused by runs of other sizes
    record = execute_run(spec, variant, settings)
    if shared is not None:
        shared.write(record)
    return record
