"""Reading raw rows from bytes: delimited text (GLUE TSV, CSV) and JSON lines.

Rows come back as ``(row_id, {column: value})`` with the row id naming the split and the
0-based data row, so every example can be traced back to its line. Malformed rows (a wrong
number of fields) are skipped and reported rather than silently shifted into other columns.
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


@dataclass
class RawSplit:
    """The rows of one split as read from one file, with what the reader had to work around."""

    rows: list[RawRow]
    origin: str
    notes: list[str] = field(default_factory=list)


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
        raise DataError(f"{origin}: the file is empty")
    result = RawSplit(rows=rows, origin=origin)
    if skipped:
        shown = "; ".join(skipped[:3]) + ("; ..." if len(skipped) > 3 else "")
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
    return RawSplit(rows=rows, origin=origin)
