"""MMLU's hendrycks CSV files (no header: question, A-D, answer letter) as an lm-eval dataset.

Read with Python's csv module so every field stays the text in the file: a CSV loader that
infers column types would turn an option such as "0.50" into the number 0.5 and "None" into a
missing value, and the prompt would no longer be the question as written.
"""

from __future__ import annotations

import csv
from pathlib import Path

import datasets

LETTERS = "ABCD"


def _rows(path: Path, subject: str) -> list[dict[str, object]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [
            {
                "question": row[0],
                "choices": row[1:5],
                "answer": LETTERS.index(row[5].strip()),
                "subject": subject,
            }
            for row in csv.reader(handle)
            if row
        ]


def load(data_dir: str, subject: str, **_: object) -> datasets.DatasetDict:
    """The subject's test split (evaluated) and dev split (the in-context examples)."""
    root = Path(data_dir) / "mmlu" / "data"
    return datasets.DatasetDict(
        {
            split: datasets.Dataset.from_list(_rows(root / split / f"{subject}_{split}.csv", subject))
            for split in ("test", "dev")
        }
    )
