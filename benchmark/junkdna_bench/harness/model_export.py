"""Save a run's model as a Hugging Face folder that loads anywhere, its masks bit-packed beside it.

``run --save-model`` has every pruned (or otherwise compressed) run leave its final model in
``<results>/models/<run_id>/``:

- ``config.json``, ``model.safetensors``: the model as ``save_pretrained`` writes it, with the
  weights the run scored (a fine-tuned encoder's task head included);
- the tokenizer files of the tokenizer the run used;
- ``masks.safetensors``: the method's keep-masks at one bit per weight (below);
- ``README.md``: the model card (``harness.model_card``).

``transformers``' ``from_pretrained`` loads the folder with nothing of junkdna-bench installed.
A mask is ``numpy.packbits`` of the flattened bool mask (``True`` = kept, big bit order) in a
uint8 tensor named after its weight, with every shape in the file's metadata (``shapes``, JSON):
an eighth of a bool mask's bytes, read back with ``numpy.unpackbits(bits, count=prod(shape))``.
A method that changes weight values without a mask (a quantiser) saves the same way, without it.

The folder is written under a temporary name (``.<run_id>.partial``) and renamed when whole, so
a run killed while saving leaves nothing that looks like a saved model; the record, written
after the rename, names the folder and its digest.
"""

from __future__ import annotations

import json
import shlex
import shutil
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from junkdna_bench.data.fingerprint import path_digest
from junkdna_bench.harness.model_card import CardFacts, model_card
from junkdna_bench.records import SavedModel
from junkdna_bench.results_dir import ResultsDir

if TYPE_CHECKING:
    from transformers import PretrainedConfig, PreTrainedModel, PreTrainedTokenizerBase

    from junkdna_bench.masks import MaskSet
    from junkdna_bench.records import RunRecord, RunSpec

MASKS_FILE = "masks.safetensors"
CARD_FILE = "README.md"
MASK_FORMAT = "packbits-1"
PARTIAL_SUFFIX = ".partial"


@dataclass(frozen=True)
class PackedMasks:
    """Keep-masks at one bit per weight, by parameter name; a 7B model's fit in under a gigabyte,
    so a model kept for several runs can keep its masks beside it."""

    bits: dict[str, np.ndarray]  # uint8: numpy.packbits of the flattened mask, big bit order
    shapes: dict[str, tuple[int, ...]]
    pruned: int  # masked-out weights, over all masks
    total: int
    metadata: dict[str, str]  # the method's own (method, sparsity, seed, parameters)

    @classmethod
    def of(cls, masks: MaskSet) -> PackedMasks:
        bits, shapes, kept, total = {}, {}, 0, 0
        for name, mask in masks.masks.items():
            flat = mask.detach().cpu().numpy().ravel()
            bits[name] = np.packbits(flat)
            shapes[name] = tuple(mask.shape)
            kept += int(np.count_nonzero(flat))
            total += flat.size
        return cls(bits, shapes, total - kept, total, dict(masks.metadata))

    def save(self, path: Path) -> None:
        from safetensors.numpy import save_file

        shapes = json.dumps({name: list(shape) for name, shape in self.shapes.items()})
        layout = {"mask_format": MASK_FORMAT, "bitorder": "big", "kept": "1", "shapes": shapes}
        save_file(self.bits, str(path), metadata={**self.metadata, **layout})


@dataclass
class RunModel:
    """What saving needs of a run's final model: the model, its tokenizer, the masks that made it,
    and for a classifier the names of its labels (written to ``config.id2label``)."""

    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    masks: PackedMasks | None
    labels: list[str] | None = None


@dataclass(frozen=True)
class ModelSaving:
    """Runs save their models under ``results``; each model card quotes ``command``."""

    results: Path
    command: str


def command_line() -> str:
    """The command that started this process, as a person would type it again."""
    if sys.argv[0].endswith(".py"):  # ``python -m package.module ...``: the interpreter's own argv
        return shlex.join([Path(sys.orig_argv[0]).name, *sys.orig_argv[1:]])
    return shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]])


def save_run_model(
    saving: ModelSaving, spec: RunSpec, fields: Mapping[str, Any], run_model: RunModel
) -> SavedModel:
    """Write the run's model folder atomically; what its record says about it."""
    results = ResultsDir(saving.results)
    final = results.model_path(spec.run_id())
    partial = final.with_name(f".{final.name}{PARTIAL_SUFFIX}")
    shutil.rmtree(partial, ignore_errors=True)  # what a save cut short by a kill left
    partial.mkdir(parents=True)
    try:
        _write_folder(partial, spec, fields, run_model, saving.command)
        digest = path_digest(partial)
        size = sum(path.stat().st_size for path in partial.rglob("*") if path.is_file())
        if final.exists():  # saved by an earlier attempt that ended before its record was written
            shutil.rmtree(final)
        partial.rename(final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return SavedModel(path=final.relative_to(results.root).as_posix(), sha256=digest, bytes=size)


def _write_folder(
    folder: Path, spec: RunSpec, fields: Mapping[str, Any], run_model: RunModel, command: str
) -> None:
    from junkdna_bench import __version__

    model, masks = run_model.model, run_model.masks
    with _label_names(model.config, run_model.labels):
        model.save_pretrained(folder, safe_serialization=True)
    run_model.tokenizer.save_pretrained(folder)
    if masks is not None:
        masks.save(folder / MASKS_FILE)
    facts = CardFacts(
        architecture=type(model).__name__,
        mask_pruned=masks.pruned / masks.total if masks and masks.total else None,
        weight_zeros=_zero_share(model, masks.shapes) if masks else None,
        masks_file=MASKS_FILE if masks else None,
        version=__version__,
        command=command,
    )
    (folder / CARD_FILE).write_text(model_card(spec, fields, facts), encoding="utf-8")


@contextmanager
def _label_names(config: PretrainedConfig, labels: Sequence[str] | None) -> Iterator[None]:
    """The card's label names in the saved config only; the live model keeps its own."""
    if not labels:
        yield
        return
    before = config.id2label, config.label2id
    config.id2label = dict(enumerate(labels))
    config.label2id = {label: index for index, label in enumerate(labels)}
    try:
        yield
    finally:
        config.id2label, config.label2id = before


def _zero_share(model: PreTrainedModel, shapes: Mapping[str, tuple[int, ...]]) -> float:
    """The share of the masked parameters' weights that are exactly zero in the saved model."""
    zeros = total = 0
    for name in shapes:
        weight = model.get_parameter(name).detach()
        zeros += int(weight.numel() - weight.count_nonzero())
        total += weight.numel()
    return zeros / total if total else 0.0


def unsaved_models(results: Path, records: Sequence[RunRecord]) -> list[str]:
    """Lines for the plan's preview: finished compressed runs whose saved model is not there.

    A model is saved by the run that makes it; a finished run is not done again just to save it.
    """
    root = ResultsDir(results)
    missing = [
        r.run_id
        for r in records
        if not r.spec.is_dense and (r.saved_model is None or not (root.root / r.saved_model.path).is_dir())
    ]
    if not missing:
        return []
    shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
    return [
        f"--save-model: {len(missing)} finished run(s) have no saved model in {root.models} ({shown}); "
        "a model is saved only by the run that makes it, and finished runs are skipped: to save one, "
        f"move its record out of {root.runs} and run the plan again"
    ]
