"""Reading raw rows from bytes: delimited text (GLUE TSV, CSV), JSON lines and nested JSON.

Rows come back as ``(row_id, {column: value})`` with the row id naming the split and the
0-based data row, so every example can be traced back to its line. Malformed rows (a wrong
number of fields) are skipped and reported rather than silently shifted into other columns.
A file without a single data row is an error, never an empty split: a truncated download or
export would otherwise score a task on whatever the other split happens to hold.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from junkdna_bench.data.examples import DataError

RawRow = tuple[str, dict[str, Any]]
REPLACEMENT = "\ufffd"
# How quote characters in delimited text are read: "minimal" is CSV quoting (a field in double
# quotes may hold the delimiter, line breaks and doubled quotes); "none" reads them as text, for
# tab-separated files whose fields hold stray quotes (several GLUE files do).
Quoting = Literal["minimal", "none"]
CSV_QUOTING = {"minimal": csv.QUOTE_MINIMAL, "none": csv.QUOTE_NONE}


NO_ROWS_FIX = "restore its data rows (download or export it again), or remove the file"


@dataclass
class RawSplit:
    """The rows of one split as read from one file, with what the reader had to work around.

    ``files`` maps every file read (resolved path) to the SHA-256 of its content, the run's
    record of which data it saw (``junkdna_bench.data.fingerprint``).
    """

    rows: list[RawRow]
    origin: str
    notes: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)


def require_rows(rows: list[RawRow], origin: str, problem: str) -> None:
    """An empty or header-only file is a broken copy, not an empty split: one line with the fix."""
    if not rows:
        raise DataError(f"{origin}: {problem}; {NO_ROWS_FIX}")


def decode(data: bytes, fallback: Literal["replace", "cp1252"], origin: str, notes: list[str]) -> str:
    """UTF-8 (a leading BOM is dropped); invalid bytes become U+FFFD or are read as Windows-1252."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    if fallback == "cp1252":
        notes.append(f"{origin}: not valid UTF-8; decoded as Windows-1252")
        return data.decode("cp1252", errors="replace")
    text = data.decode("utf-8-sig", errors="replace")
    bad_lines = sum(1 for line in text.split("\n") if REPLACEMENT in line)
    notes.append(f"{origin}: not valid UTF-8; undecodable bytes on {bad_lines} line(s) became U+FFFD")
    return text


def read_delimited(
    text: str,
    *,
    delimiter: str,
    quoting: Quoting,
    origin: str,
    split: str,
    header: list[str] | None = None,
) -> RawSplit:
    """Rows of a delimited file; ``header`` names the columns of a file without a header row."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quoting=CSV_QUOTING[quoting])
    columns = header
    rows: list[RawRow] = []
    skipped: list[str] = []
    for line_number, fields in enumerate(reader, start=1):
        if not fields or fields == [""]:
            continue
        if columns is None:
            columns = [name.strip() for name in fields]
            continue
        if len(fields) != len(columns):
            skipped.append(f"line {line_number} has {len(fields)} fields, expected {len(columns)}")
            continue
        rows.append((f"{split}-{len(rows)}", dict(zip(columns, fields, strict=True))))
    if columns is None:
        raise DataError(f"{origin}: the file is empty; {NO_ROWS_FIX}")
    shown = "; ".join(skipped[:3]) + ("; ..." if len(skipped) > 3 else "")
    empty = "the file has no data rows" if header else "the file holds only its header row"
    require_rows(rows, origin, f"all {len(skipped)} data row(s) are malformed: {shown}" if skipped else empty)
    result = RawSplit(rows=rows, origin=origin)
    if skipped:
        result.notes.append(f"{origin}: skipped {len(skipped)} malformed row(s): {shown}")
    return result


def read_jsonl(text: str, *, origin: str, split: str) -> RawSplit:
    """One JSON object per non-empty line."""
    rows: list[RawRow] = []
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{origin}: line {line_number} is not valid JSON ({exc.msg})") from exc
        if not isinstance(value, dict):
            raise DataError(f"{origin}: line {line_number} is not a JSON object")
        rows.append((f"{split}-{len(rows)}", value))
    require_rows(rows, origin, "the file is empty (no JSON lines)")
    return RawSplit(rows=rows, origin=origin)


def column_value(row: dict[str, Any], name: str) -> Any:
    """A column of a row; a dotted name reaches into nested objects (``choices.text``)."""
    if name in row:
        return row[name]
    value: Any = row
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value:
            raise KeyError(name)
        value = value[part]
    return value


def read_json(text: str, *, origin: str, split: str, records: str | None) -> RawSplit:
    """The rows of one JSON document: the objects at the end of ``records``, a dotted path of lists.

    Each row also carries the other fields of the objects enclosing it (SQuAD's ``qas`` rows get
    their paragraph's ``context`` and their article's ``title``); a row's own field wins.
    """
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{origin}: not valid JSON (line {exc.lineno}: {exc.msg})") from exc
    path = records.split(".") if records else []
    if not path and not isinstance(document, list):
        raise DataError(
            f"{origin}: the document is a JSON {type(document).__name__}, not a list of rows; name the "
            "path to its rows in the source's 'records'"
        )
    level: list[tuple[Any, dict[str, Any]]] = (
        [(item, {}) for item in document] if not path else [(document, {})]
    )
    for depth, key in enumerate(path):
        level = _descend(level, key, ".".join(path[: depth + 1]), origin)
    rows: list[RawRow] = []
    for value, enclosing in level:
        if not isinstance(value, dict):
            place = records or "the top level"
            raise DataError(f"{origin}: row {len(rows)} at {place!r} is not a JSON object")
        rows.append((f"{split}-{len(rows)}", {**enclosing, **value}))
    require_rows(rows, origin, f"no rows at {records or 'the top level'!r}")
    return RawSplit(rows=rows, origin=origin)


def _descend(
    level: list[tuple[Any, dict[str, Any]]], key: str, where: str, origin: str
) -> list[tuple[Any, dict[str, Any]]]:
    """The items of each object's list ``key``, each with the fields enclosing it (the inner win)."""
    deeper: list[tuple[Any, dict[str, Any]]] = []
    for value, enclosing in level:
        items = value.get(key) if isinstance(value, dict) else None
        if not isinstance(items, list):
            found = type(items if isinstance(value, dict) else value).__name__
            raise DataError(f"{origin}: no list at {where!r} (found {found}); fix the source's 'records'")
        outer = {**enclosing, **{name: field for name, field in value.items() if name != key}}
        deeper.extend((item, outer) for item in items)
    return deeper
