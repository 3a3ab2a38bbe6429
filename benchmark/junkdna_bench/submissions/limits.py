"""Reading untrusted submission JSON within bounds: size, nesting depth, duplicate keys, non-finite numbers.

Submissions arrive from strangers. Python's ``json`` module recurses per nesting level and happily
keeps the last of two duplicate keys or parses ``NaN``; each of those is either a crash (deep
nesting), a silent ambiguity (duplicate keys) or a number no statistic should contain. So the raw
text is checked before parsing, and the parser is told to refuse what standard JSON does not allow.
Standard JSON still spells infinity: ``1e999`` (or an integer of 400 digits) is a valid number
that no float can hold, so every number is checked again once parsed.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from junkdna_bench.submissions.problems import Finding, field_path

# Never fails to match once it sees a quote (an unterminated string runs to the end), so the scan
# stays linear on hostile input such as thousands of escaped quotes with no closing one.
_STRING = re.compile(r'"(?:[^"\\]|\\[\s\S])*+\\?(?:"|\Z)')
_BRACKET = re.compile(r"[\[\]{}]")


@dataclass(frozen=True)
class Limits:
    """Bounds on a submission file. A real submission is a few hundred KiB at most."""

    max_bytes: int = 4 * 1024 * 1024
    max_depth: int = 24


DEFAULT_LIMITS = Limits()


class JsonLimitError(ValueError):
    """The file breaks a bound or is not strict JSON; the message says which and how to fix it.

    ``location`` is the field at fault where there is one (``-``: the file as a whole).
    """

    def __init__(self, message: str, location: str = "-") -> None:
        super().__init__(message)
        self.location = location


def nesting_depth(text: str, stop_after: int | None = None) -> int:
    """Deepest bracket nesting in JSON text, ignoring brackets inside strings; no recursion.

    Stops early once ``stop_after`` is exceeded so a hostile file costs no more than it must.
    """
    depth = deepest = 0
    for match in _BRACKET.finditer(_STRING.sub('""', text)):
        depth += 1 if match.group() in "[{" else -1
        if depth > deepest:
            deepest = depth
            if stop_after is not None and deepest > stop_after:
                break
    return deepest


def _refuse_constant(name: str) -> Any:
    raise JsonLimitError(f"non-standard JSON constant {name}; write finite numbers (or null)")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise JsonLimitError(f"duplicate key {key!r} in one object; keep exactly one")
        obj[key] = value
    return obj


def _numbers(data: Any, loc: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    """Every number in parsed JSON with its location (the depth is bounded before parsing)."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _numbers(value, (*loc, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _numbers(value, (*loc, index))
    elif isinstance(data, (int, float)) and not isinstance(data, bool):
        yield loc, data


_LARGEST_FLOAT = int(sys.float_info.max)


def _is_finite(number: int | float) -> bool:
    """Whether a float can hold it: ``1e999`` parses as infinity, a 400-digit integer overflows one."""
    return math.isfinite(number) if isinstance(number, float) else abs(number) <= _LARGEST_FLOAT


def non_finite_numbers(data: Any) -> list[Finding]:
    """``(location, message)`` for every number in parsed JSON that no float can hold, in order."""
    findings = []
    for loc, number in _numbers(data):
        if not _is_finite(number):
            shown = (
                repr(number) if isinstance(number, float) else f"an integer of {len(str(abs(number)))} digits"
            )
            message = f"is not a finite number (it reads as {shown}); write a finite number, or null"
            findings.append((field_path(loc), message))
    return findings


def require_finite(data: Any) -> None:
    """Raise ``JsonLimitError`` at the first number no float can hold, counting the others."""
    bad = non_finite_numbers(data)
    if not bad:
        return
    (location, message), others = bad[0], len(bad) - 1
    if others:
        message += f" ({others} more number(s) like it elsewhere in the file)"
    raise JsonLimitError(message, location=location)


def parse_bounded_json(text: str, limits: Limits = DEFAULT_LIMITS) -> Any:
    """Parse strict JSON after checking size and depth; raise ``JsonLimitError`` otherwise."""
    size = len(text.encode("utf-8"))
    if size > limits.max_bytes:
        raise JsonLimitError(
            f"file is {size:,} bytes, over the limit of {limits.max_bytes:,}; "
            "submit the statistics report, not per-example predictions"
        )
    depth = nesting_depth(text, stop_after=limits.max_depth)
    if depth > limits.max_depth:
        raise JsonLimitError(f"JSON nesting is deeper than {limits.max_depth} levels; flatten it")
    try:
        data = json.loads(text, parse_constant=_refuse_constant, object_pairs_hook=_no_duplicate_keys)
    except JsonLimitError:
        raise
    except json.JSONDecodeError as exc:
        raise JsonLimitError(f"not valid JSON: {exc}") from exc
    except ValueError as exc:  # an integer past Python's digit limit for reading one
        raise JsonLimitError(
            f"holds an integer of more than {sys.get_int_max_str_digits()} digits; "
            "write a finite number (no statistic needs one that long)"
        ) from exc
    require_finite(data)
    return data


def read_bounded_json(path: Path, limits: Limits = DEFAULT_LIMITS) -> Any:
    """Read and parse a file, checking its size on disk before reading it into memory."""
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise JsonLimitError(
            f"file is {size:,} bytes, over the limit of {limits.max_bytes:,}; "
            "submit the statistics report, not per-example predictions"
        )
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JsonLimitError(f"not UTF-8 text: {exc}") from exc
    return parse_bounded_json(text, limits)
