"""A third-party pruning method shipped as a real distribution with an entry point.

The test writes an installed-package layout (a module plus ``*.dist-info`` with METADATA and
entry_points.txt) into a directory on sys.path, which is exactly what importlib.metadata finds
for a pip-installed plugin.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from junkdna_bench.commands.methods import listing_rows
from junkdna_bench.methods import compute_masks, get_method, methods
from junkdna_bench.methods.selection import layer_counts
from tiny_models import tiny_classifier

PLUGIN_MODULE = '''
"""Acme's pruning methods for junkdna-bench."""

import torch

from junkdna_bench.methods import MethodParam, PruneRequest, PruningMethod
from junkdna_bench.methods.selection import layer_counts


def prune_leading(request: PruneRequest) -> dict[str, torch.Tensor]:
    counts = layer_counts(request.sparsity, {n: w.shape for n, w in request.weights.items()})
    masks = {}
    for name, weight in request.weights.items():
        keep = torch.ones(weight.numel(), dtype=torch.bool)
        keep[: counts[name]] = False
        masks[name] = keep.view(weight.shape)
    return masks


METHOD = PruningMethod(
    name="acme-leading",
    description="Prune the leading weights of each layer in memory order.",
    prune=prune_leading,
    params=(MethodParam("note", str, "none", "an ignored free-text note"),),
)


def prune_everything(request):
    """Prune every selected weight (a bare callable is a method too)."""
    return {name: torch.zeros_like(w, dtype=torch.bool) for name, w in request.weights.items()}
'''

ENTRY_POINTS = """
[junkdna_bench.methods]
acme-leading = acme_prune:METHOD
acme-everything = acme_prune:prune_everything
acme-broken = acme_prune:DOES_NOT_EXIST
"""


@pytest.fixture
def installed_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site-packages"
    (site / "acme_prune").mkdir(parents=True)
    (site / "acme_prune" / "__init__.py").write_text(textwrap.dedent(PLUGIN_MODULE))
    dist_info = site / "acme_prune-0.3.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-prune\nVersion: 0.3.0\n")
    (dist_info / "entry_points.txt").write_text(ENTRY_POINTS)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delitem(sys.modules, "acme_prune", raising=False)
    # Leave the process-wide registry as it was once the test is over.
    monkeypatch.setattr(methods, "_entries", dict(methods._entries))
    methods.reload_plugins()


def test_plugin_is_discovered_and_listed(installed_plugin: None) -> None:
    assert {"acme-leading", "acme-everything", "acme-broken"} <= set(methods.names())
    assert "acme-prune" in methods.entry("acme-leading").origin
    rows = {row[0]: row for row in listing_rows()}
    assert rows["acme-leading"][1] == "Prune the leading weights of each layer in memory order."
    assert "note=none" in rows["acme-leading"][4]
    assert rows["acme-everything"][1] == "Prune every selected weight (a bare callable is a method too)."
    assert "cannot be loaded" in rows["acme-broken"][1]
    assert "magnitude (scope=global)" in rows  # a broken plugin hides nothing else


def test_plugin_method_runs_through_compute_masks(installed_plugin: None) -> None:
    model = tiny_classifier()
    masks = compute_masks(model, "acme-leading", sparsity=0.3, params={"note": "hello"})
    shapes = {name: mask.shape for name, mask in masks.masks.items()}
    for name, count in layer_counts(0.3, shapes).items():
        flat = masks.masks[name].reshape(-1)
        assert not flat[:count].any() and flat[count:].all()
    assert masks.metadata["method"] == "acme-leading"
    assert masks.metadata["param.note"] == "hello"
    with pytest.raises(ValueError, match="has no parameter 'scope'"):
        compute_masks(model, "acme-leading", sparsity=0.3, params={"scope": "layer"})

    everything = compute_masks(model, "acme-everything", sparsity=1.0)
    assert everything.report().overall == 1.0
    assert not get_method("acme-everything").needs_calibration


def test_broken_plugin_fails_when_used(installed_plugin: None) -> None:
    with pytest.raises(ImportError, match="DOES_NOT_EXIST"):
        compute_masks(tiny_classifier(), "acme-broken", sparsity=0.5)


def test_plugin_masks_are_checked_like_builtins(installed_plugin: None) -> None:
    with pytest.raises(ValueError, match="means exactly"):
        compute_masks(tiny_classifier(), "acme-everything", sparsity=0.5)
