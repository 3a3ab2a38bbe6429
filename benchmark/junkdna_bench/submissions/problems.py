"""Problems found in a submission, collected rather than raised one at a time.

A submission is accepted or rejected whole, and a submitter should be able to fix everything in
one round trip, so every check appends to a list instead of stopping at the first failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

Finding = tuple[str, str]  # (location, message): a problem before it is tied to a file


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with one file: where (a dotted field path, or ``-`` for the whole file) and what."""

    file: str
    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.location}: {self.message}"


class SubmissionRejected(ValueError):
    """Raised with every problem of a rejected submission (or folder of submissions)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"rejected: {len(self.problems)} problem(s)\n{lines}")


def field_path(loc: tuple[str | int, ...]) -> str:
    """A location as messages write it: ``report.rows[3].seeds[0].dense``; ``-`` for the whole file."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text or "-"


def display_path(path: Path) -> str:
    """A short, stable name for messages: relative to the working directory when possible."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
