"""The model card (``README.md``) of a saved run model: what the model is and how it was made.

A saved folder travels without its record, so the card repeats what a reader of the model needs:
the method and its parameters, the level and the sparsity reached (overall and per kind of
layer), the transfer mode and what it did to the pruned weights, the task variant and seed, the
scores, the junkdna-bench version and the command, and how to load the model and its masks with
``transformers`` and ``numpy`` alone. The front matter is the metadata the Hugging Face hub reads.
"""

from __future__ import annotations

import json
import re
import statistics
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from junkdna_bench.records import RunSpec

TRANSFER_MEANING = {
    "sparse": "fine-tuned with the mask fixed; pruned weights are zero and stayed zero in every step",
    "regrow": "fine-tuned from the pruned model; pruned weights started at zero and then trained freely",
    "frozen": "fine-tuned with the masked weights frozen at their pre-trained values (not zeroed)",
    "none": "pruned one-shot and scored as it is, with no training",
}


@dataclass(frozen=True)
class CardFacts:
    """What the card says beyond the run's spec and record fields, counted on the saved folder."""

    architecture: str  # the model class, e.g. BertForSequenceClassification
    mask_pruned: float | None  # share of the masked weights the method's masks prune
    weight_zeros: float | None  # share of those weights that are zero in the saved model
    masks_file: str | None
    version: str  # of junkdna-bench
    command: str


def model_card(spec: RunSpec, fields: Mapping[str, Any], facts: CardFacts) -> str:
    """The card's Markdown text for the run of ``spec`` whose record fields are ``fields``."""
    classifier = spec.trains
    pipeline = "text-classification" if classifier else "text-generation"
    front = {"library_name": "transformers", "pipeline_tag": pipeline, "tags": ["junkdna-bench", spec.method]}
    front_matter = "\n".join(f"{key}: {json.dumps(value)}" for key, value in front.items())
    level = spec.level
    parts = [
        f"---\n{front_matter}\n---\n",
        f"# {spec.model}, {spec.method} at {level}, {spec.variant} (seed {spec.seed})\n",
        f"A {facts.architecture} made by junkdna-bench {facts.version} (run `{spec.run_id()}`).\n",
        _table(
            ("", ""),
            [
                ("model", spec.model),
                ("method", spec.method),
                ("method parameters", json.dumps(spec.method_params, sort_keys=True)),
                ("level", _level_kind(spec)),
                ("transfer mode", f"{spec.transfer}: {TRANSFER_MEANING.get(spec.transfer, spec.transfer)}"),
                ("task variant", f"{spec.variant} (task {spec.task}, tier {spec.tier}, suite {spec.suite})"),
                ("seed", str(spec.seed)),
                ("hyper-parameters", ", ".join(f"{k}={v}" for k, v in sorted(spec.hyperparams.items()))),
            ],
        ),
        _sparsity_section(fields, facts),
        _scores_section(fields),
        _loading_section(classifier, facts.masks_file),
        f"## How it was made\n\n```\n{facts.command}\n```\n",
    ]
    return "\n".join(parts)


def _level_kind(spec: RunSpec) -> str:
    if getattr(spec, "quant", None):
        return f"{spec.level} quantised"
    return f"{spec.level} {'semi-structured (N:M)' if spec.pattern else 'unstructured'}"


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _percent(value: float) -> str:
    return f"{100 * value:.2f} %"


def _sparsity_section(fields: Mapping[str, Any], facts: CardFacts) -> str:
    lines = ["## Sparsity\n"]
    compression = fields.get("compression")
    if compression is not None:
        lines.append(f"- effective bits per weight, overheads included: {compression.bits_per_weight:g}")
    achieved = fields.get("achieved_sparsity")
    if achieved is not None:
        lines.append(f"- achieved, as the run recorded it: {_percent(achieved)} of the prunable weights")
    if facts.mask_pruned is not None:
        lines.append(f"- pruned by the method's masks ({facts.masks_file}): {_percent(facts.mask_pruned)}")
    if facts.weight_zeros is not None:
        lines.append(f"- exactly zero in these weights of the saved model: {_percent(facts.weight_zeros)}")
    per_layer: Mapping[str, float] = fields.get("layer_sparsity") or {}
    if not per_layer:
        return "\n".join(lines) + "\n"
    groups: dict[str, list[float]] = defaultdict(list)
    for name, share in per_layer.items():
        groups[re.sub(r"\.\d+\.", ".*.", name)].append(share)
    rows = [
        (name, str(len(shares)), *(_percent(f(shares)) for f in (min, statistics.fmean, max)))
        for name, shares in groups.items()
    ]
    lines.append("\nPer layer, layers that differ only in their block number counted together:\n")
    lines.append(_table(("weights", "layers", "min", "mean", "max"), rows))
    return "\n".join(lines)


def _scores_section(fields: Mapping[str, Any]) -> str:
    metrics: Mapping[str, float] = fields.get("metrics") or {}
    trivial: Mapping[str, float] = fields.get("trivial_metrics") or {}
    predictions = fields.get("predictions")
    examples = f" on {len(predictions.example_ids)} evaluation examples" if predictions is not None else ""
    rows = [
        (name, f"{value:.4f}", f"{trivial[name]:.4f}" if name in trivial else "")
        for name, value in metrics.items()
    ]
    primary = fields.get("primary_metric", "")
    return f"## Scores\n\nAs fractions{examples}; primary metric: {primary}.\n\n" + _table(
        ("metric", "this model", "trivial baseline"), rows
    )


def _loading_section(classifier: bool, masks_file: str | None) -> str:
    auto = "AutoModelForSequenceClassification" if classifier else "AutoModelForCausalLM"
    code = [
        f"from transformers import AutoTokenizer, {auto}",
        "",
        f'model = {auto}.from_pretrained("path/to/this/folder")',
        'tokenizer = AutoTokenizer.from_pretrained("path/to/this/folder")',
    ]
    if masks_file:
        code += [
            "",
            "# the keep-masks (True = kept), one bit per weight",
            "import json",
            "import numpy as np",
            "from safetensors import safe_open",
            "",
            f'with safe_open("path/to/this/folder/{masks_file}", framework="np") as f:',
            '    shapes = json.loads(f.metadata()["shapes"])',
            "    masks = {",
            "        name: np.unpackbits(f.get_tensor(name), count=int(np.prod(shape)))",
            "        .reshape(shape)",
            "        .astype(bool)",
            "        for name, shape in shapes.items()",
            "    }",
        ]
    body = "\n".join(code)
    return f"## Loading\n\nNo junkdna-bench needed:\n\n```python\n{body}\n```\n"
