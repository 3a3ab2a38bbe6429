"""The dense fine-tuned weights the loss barrier needs, stored once per dense run and read by its twins.

The dense and the sparse runs of one (variant, seed) are separate runs of a plan, so the dense
path's start has to outlive the dense run: it writes its fine-tuned weights to
``<results>/weights/<dense run id>.safetensors`` and names their SHA-256 in its record; each
sparse run of that seed reads the file and refuses it unless it hashes to what the *completed*
dense record says. So a kill mid-write (the bytes go to a ``.tmp`` name, then are renamed) or a
kill between the write and the record leaves nothing a later run trusts: without a completed
record the weights are not used, and the dense run done again writes them again.

Size: one file per dense run, as many bytes as the model's state in its dtype (MiniLM-L6 in
float32: 91 MB; RoBERTa-base: 0.5 GB); sparse runs store nothing. A results folder without
``--loss-barrier`` runs has no weights folder at all.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path

import torch

from junkdna_bench.loss_barrier import StoredWeights
from junkdna_bench.records import RecordError, RunSpec, read_record
from junkdna_bench.results_dir import ResultsDir


class BarrierWeightsError(RuntimeError):
    """The dense weights a sparse run's barrier path starts from are missing or not the ones recorded."""


def store_weights(results_dir: Path, dense_run_id: str, state: Mapping[str, torch.Tensor]) -> StoredWeights:
    """Write ``state`` atomically (temp name, fsync, rename) and describe the file for the record."""
    from safetensors.torch import save

    path = ResultsDir(results_dir).weights_path(dense_run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = save({name: tensor.detach().contiguous().cpu() for name, tensor in state.items()})
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)
    relative = path.relative_to(ResultsDir(results_dir).root).as_posix()
    return StoredWeights(path=relative, sha256=hashlib.sha256(data).hexdigest(), bytes=len(data))


def load_dense_weights(
    results_dir: Path, spec: RunSpec, device: torch.device
) -> tuple[dict[str, torch.Tensor], str]:
    """The fine-tuned weights of ``spec``'s dense baseline and their digest, checked against its record."""
    from safetensors.torch import load

    dense = spec.dense_baseline()
    record_file = ResultsDir(results_dir).record_path(dense.run_id())
    redo = f"delete {record_file} and resume: the dense run is done again and stores its weights again"
    try:
        record = read_record(record_file, dense.run_id())
    except FileNotFoundError:
        raise BarrierWeightsError(
            f"{record_file}: the dense baseline of this seed has no record yet, so its weights are not "
            "trusted; resume the plan (dense baselines run before their sparse runs)"
        ) from None
    except RecordError as exc:
        raise BarrierWeightsError(f"dense baseline record unusable: {exc}") from None
    stored = record.loss_barrier.stored_weights if record.loss_barrier else None
    if record.status != "completed" or stored is None:
        raise BarrierWeightsError(
            f"{record_file}: a {record.status} dense run without stored weights; {redo}"
        )
    path = ResultsDir(results_dir).root / stored.path
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise BarrierWeightsError(f"{path}: missing, though {record_file} names it; {redo}") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != stored.sha256:
        raise BarrierWeightsError(
            f"{path}: sha256 {digest[:12]}... is not the {stored.sha256[:12]}... its dense record names "
            f"(changed or cut short after the run); {redo}"
        )
    return {name: tensor.to(device) for name, tensor in load(data).items()}, digest
