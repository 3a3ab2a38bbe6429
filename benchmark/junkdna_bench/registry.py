"""One small generic registry for models, pruning methods and task suites.

Entries may be registered eagerly (the object itself) or lazily (a ``"module:attr"`` string
imported on first use), so that listing methods does not import torch-heavy modules.
Third-party packages add entries through an entry-point group (``junkdna_bench.methods``,
``junkdna_bench.models``); discovery happens once, on the first lookup or listing.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from typing import Generic, TypeVar

T = TypeVar("T")


class RegistryError(KeyError):
    """Raised for unknown names and name collisions; the message says how to fix it."""

    def __str__(self) -> str:  # KeyError would wrap the message in quotes
        return str(self.args[0]) if self.args else ""


@dataclass
class Entry(Generic[T]):
    """A registered name: the object, or where to import it from, plus a one-line summary."""

    name: str
    target: T | str
    description: str = ""
    origin: str = "builtin"

    @property
    def is_loaded(self) -> bool:
        return not isinstance(self.target, str)


def import_target(path: str) -> object:
    """Import ``"package.module:attribute"``; a clear error says which part failed."""
    module_name, sep, attr = path.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"lazy target {path!r} must look like 'package.module:attribute'")
    module = importlib.import_module(module_name)
    try:
        return getattr(module, attr)
    except AttributeError as exc:
        raise ImportError(f"module {module_name!r} has no attribute {attr!r} (from {path!r})") from exc


class Registry(Generic[T]):
    """Named objects of one kind, with lazy imports and entry-point plugins."""

    def __init__(self, kind: str, entry_point_group: str | None = None) -> None:
        self.kind = kind
        self.entry_point_group = entry_point_group
        self._entries: dict[str, Entry[T]] = {}
        self._plugins_loaded = entry_point_group is None

    def register(self, name: str, target: T | str, description: str = "", origin: str = "builtin") -> None:
        """Add ``name``; registering a different target under an existing name is an error."""
        existing = self._entries.get(name)
        if existing is not None and existing.target is not target and existing.target != target:
            raise RegistryError(
                f"{self.kind} {name!r} is already registered (from {existing.origin}); "
                f"choose another name for the one from {origin}"
            )
        self._entries[name] = Entry(name=name, target=target, description=description, origin=origin)

    def _discover_plugins(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        for ep in metadata.entry_points(group=self.entry_point_group or ""):
            origin = f"entry point {ep.value!r}" + (f" of {ep.dist.name}" if ep.dist else "")
            self.register(ep.name, ep.value, description=_plugin_description(ep), origin=origin)

    def reload_plugins(self) -> None:
        """Look for entry points again (after installing a plugin in the same process)."""
        self._plugins_loaded = self.entry_point_group is None
        self._discover_plugins()

    def get(self, name: str) -> T:
        """The object registered as ``name``, importing it on first use."""
        self._discover_plugins()
        entry = self._entries.get(name)
        if entry is None:
            raise RegistryError(self._unknown_message(name))
        if isinstance(entry.target, str):
            entry.target = import_target(entry.target)  # type: ignore[assignment]
        return entry.target  # type: ignore[return-value]

    def entry(self, name: str) -> Entry[T]:
        self._discover_plugins()
        if name not in self._entries:
            raise RegistryError(self._unknown_message(name))
        return self._entries[name]

    def _unknown_message(self, name: str) -> str:
        close = difflib.get_close_matches(name, list(self._entries), n=3, cutoff=0.5)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        known = ", ".join(sorted(self._entries)) or "none"
        return f"unknown {self.kind} {name!r}.{hint} Known: {known}."

    def names(self) -> list[str]:
        self._discover_plugins()
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        self._discover_plugins()
        return name in self._entries

    def __iter__(self) -> Iterator[Entry[T]]:
        self._discover_plugins()
        return iter(sorted(self._entries.values(), key=lambda e: e.name))


def _plugin_description(ep: metadata.EntryPoint) -> str:
    """Plugins describe themselves in their docstring; listing should not import them yet."""
    return f"plugin ({ep.dist.name} {ep.dist.version})" if ep.dist else "plugin"
