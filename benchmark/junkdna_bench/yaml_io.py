"""One YAML parser for every file the product reads: task cards, suites, plan files, the site config.

Each of them gets the same guarantees:

* ``yaml.safe_load`` semantics: plain data only, tags that would build Python objects are refused;
* a key given twice in one mapping is refused (PyYAML silently keeps the last one, so a card's
  ``labels`` written twice would flip the label order without a word);
* nesting is bounded (PyYAML's composer recurses once per level, so a few thousand nested
  brackets end in a ``RecursionError`` instead of a message);
* every problem is one :class:`YamlError` naming the file, the line and what to do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

# Deeper than any card, suite or plan needs (they nest a handful of levels), far below the
# interpreter's recursion limit.
MAX_DEPTH = 64
_MERGE_TAG = "tag:yaml.org,2002:merge"


class YamlError(ValueError):
    """A YAML text that cannot be used; ``where`` is its line (and column), ``problem`` the fix."""

    def __init__(self, origin: Path | str, where: str, problem: str) -> None:
        self.origin, self.where, self.problem = str(origin), where, problem
        super().__init__(f"{origin}: {self.reason}")

    @property
    def reason(self) -> str:
        """The message without the file name, for errors that name the file themselves."""
        return f"invalid YAML at {self.where}: {self.problem}"


class _Refused(yaml.MarkedYAMLError):
    """A rule of this loader broken at a place in the text (reported like PyYAML's own errors)."""


class _StrictLoader(yaml.SafeLoader):
    """``SafeLoader`` that refuses duplicate keys and nesting deeper than :data:`MAX_DEPTH`."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self._depth >= MAX_DEPTH:
            raise _Refused(
                problem=f"nested deeper than {MAX_DEPTH} levels; flatten the structure",
                problem_mark=self.peek_event().start_mark,
            )
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        first_line: dict[Any, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == _MERGE_TAG:
                continue  # merged defaults may be overridden; complex keys are refused by PyYAML
            key = self.construct_object(key_node)
            line = key_node.start_mark.line + 1
            if key in first_line:
                raise _Refused(
                    problem=f"key {key!r} is given twice in one mapping (first at line {first_line[key]}); "
                    "keep one",
                    problem_mark=key_node.start_mark,
                )
            first_line[key] = line
        return super().construct_mapping(node, deep=deep)


def parse_yaml(text: str, origin: Path | str) -> Any:
    """The data of one YAML document, or a :class:`YamlError` naming ``origin`` and the line."""
    try:
        return yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass: plain data only
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "the top"
        problem = getattr(exc, "problem", None) or str(exc)
        raise YamlError(origin, where, problem) from None
