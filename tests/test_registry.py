"""The generic registry: lazy entries, did-you-mean, collisions, and entry-point plugins.

The plugin test builds a real installed distribution (a ``*.dist-info`` folder with
``entry_points.txt``) in a temporary folder on ``sys.path``, so discovery goes through
``importlib.metadata`` exactly as for a pip-installed plugin.
"""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from junkdna_bench.models import ModelSpec, models, resolve_model
from junkdna_bench.registry import Registry, RegistryError

PLUGIN_MODULE = "junkdna_demo_plugin"


def test_lazy_entries_import_on_first_use() -> None:
    registry: Registry[object] = Registry("thing")
    registry.register("dumps", "json:dumps", description="serialize")
    entry = registry.entry("dumps")
    assert not entry.is_loaded
    assert registry.get("dumps") is json.dumps
    assert registry.entry("dumps").is_loaded


def test_a_broken_lazy_target_names_what_failed() -> None:
    registry: Registry[object] = Registry("thing")
    registry.register("missing", "json:no_such_attribute")
    with pytest.raises(ImportError, match="no attribute 'no_such_attribute'"):
        registry.get("missing")


def test_unknown_names_suggest_close_matches_and_list_known_ones() -> None:
    registry: Registry[int] = Registry("pruning method")
    for name in ("magnitude", "random", "wanda"):
        registry.register(name, 1)
    with pytest.raises(RegistryError) as caught:
        registry.get("magnitdue")
    message = str(caught.value)
    assert "unknown pruning method 'magnitdue'" in message
    assert "Did you mean 'magnitude'?" in message
    assert "Known: magnitude, random, wanda." in message
    assert "magnitude" in registry and "magnitdue" not in registry


def test_collisions_are_errors_but_re_registering_the_same_target_is_not() -> None:
    registry: Registry[object] = Registry("model")
    registry.register("a", "json:dumps")
    registry.register("a", "json:dumps")  # idempotent, e.g. a module imported twice
    with pytest.raises(RegistryError, match="already registered"):
        registry.register("a", "json:loads", origin="a plugin")


def _install_plugin(root: Path, group: str, name: str, target: str) -> None:
    """A minimal installed distribution: a module plus a dist-info with METADATA and entry points."""
    (root / f"{PLUGIN_MODULE}.py").write_text(
        textwrap.dedent(
            """
            from junkdna_bench.models import ModelSpec

            DEMO = ModelSpec(
                name="demo-model",
                source="/nonexistent/demo",
                source_kind="local",
                description="a model contributed by a plugin",
            )
            """
        )
    )
    dist_info = root / "junkdna_demo_plugin-0.3.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: junkdna-demo-plugin\nVersion: 0.3\n")
    (dist_info / "entry_points.txt").write_text(f"[{group}]\n{name} = {target}\n")


@pytest.fixture
def plugin_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    _install_plugin(tmp_path, "junkdna_bench.models", "demo-model", f"{PLUGIN_MODULE}:DEMO")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop(PLUGIN_MODULE, None)


def test_entry_point_plugins_are_listed_lazily_and_loadable(plugin_on_path: Path) -> None:
    registry: Registry[ModelSpec] = Registry("model", entry_point_group="junkdna_bench.models")
    assert "demo-model" in registry.names()
    entry = registry.entry("demo-model")
    assert not entry.is_loaded, "listing must not import the plugin"
    assert PLUGIN_MODULE not in sys.modules
    assert "junkdna-demo-plugin" in entry.origin
    assert entry.description == "plugin (junkdna-demo-plugin 0.3)"
    spec = registry.get("demo-model")
    assert isinstance(spec, ModelSpec) and spec.description == "a model contributed by a plugin"


def test_the_model_registry_resolves_a_plugin_model(
    plugin_on_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Work on a copy of the global registry so the demo plugin does not outlive this test.
    monkeypatch.setattr(models, "_entries", dict(models._entries))
    models.reload_plugins()
    assert "demo-model" in models.names()
    assert resolve_model("demo-model").source == "/nonexistent/demo"
    assert "minilm-l6" in models.names()
