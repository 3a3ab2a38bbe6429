"""Deterministic text clean-up and de-duplication.

Whitespace runs, line breaks included (the tweet corpus has CRLF endings and stray carriage
returns inside tweets; BBC articles are multi-paragraph), become one space, and runs of U+FFFD
left by undecodable bytes shrink to one, so texts that differ only there count as duplicates.
De-duplication runs on the whole pool *before* any split is carved, so the same text can never
sit in both train and eval; a text seen with different labels is ambiguous and is dropped
entirely rather than resolved by a guess.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from junkdna_bench.data.examples import Example

_REPLACEMENT_RUNS = re.compile("\ufffd{2,}")


def normalize_text(text: str) -> str:
    return _REPLACEMENT_RUNS.sub("\ufffd", " ".join(text.split()))


@dataclass(frozen=True)
class DedupeReport:
    duplicates_dropped: int
    conflicting_texts: int
    conflicting_rows_dropped: int

    def describe(self, origin: str) -> str:
        return (
            f"{origin}: dropped {self.duplicates_dropped} duplicate row(s) and "
            f"{self.conflicting_rows_dropped} row(s) of {self.conflicting_texts} text(s) "
            "with conflicting labels"
        )


def dedupe(examples: list[Example]) -> tuple[list[Example], DedupeReport]:
    """Keep the first of each repeated input; drop every copy of an input with conflicting labels."""
    labels_by_input: dict[tuple[str, ...], set[int | float]] = defaultdict(set)
    for example in examples:
        labels_by_input[example.texts].add(example.label)
    conflicting = {texts for texts, labels in labels_by_input.items() if len(labels) > 1}
    kept: list[Example] = []
    seen: set[tuple[str, ...]] = set()
    duplicates = conflicting_rows = 0
    for example in examples:
        if example.texts in conflicting:
            conflicting_rows += 1
        elif example.texts in seen:
            duplicates += 1
        else:
            seen.add(example.texts)
            kept.append(example)
    return kept, DedupeReport(duplicates, len(conflicting), conflicting_rows)
