"""Record digests name the content of a run, not the version of the record model that read it."""

from __future__ import annotations

import json
from pathlib import Path

from junkdna_bench.records import RunRecord
from junkdna_bench.submissions.digest import record_sha256

RUNS = Path(__file__).resolve().parents[1] / "experiments" / "results" / "human-gap" / "runs"


def _committed_record() -> dict:
    return json.loads(next(iter(sorted(RUNS.glob("*.json")))).read_text())


class _LaterRunRecord(RunRecord):
    """The record model as a later version may have it: one more field, with a default."""

    later_field: str | None = None


def test_a_field_added_later_with_a_default_does_not_change_the_digest() -> None:
    """A record written before the model gained a field keeps its digest (and its submission's name)."""
    raw = _committed_record()
    assert record_sha256(_LaterRunRecord.model_validate(raw)) == record_sha256(RunRecord.model_validate(raw))


def test_any_change_of_a_value_changes_the_digest() -> None:
    raw = _committed_record()
    metric = raw["primary_metric"]
    edited = {**raw, "metrics": {**raw["metrics"], metric: raw["metrics"][metric] + 1e-9}}
    assert record_sha256(RunRecord.model_validate(raw)) != record_sha256(RunRecord.model_validate(edited))
    moved = {**raw, "train_steps": raw["train_steps"] + 1}
    assert record_sha256(RunRecord.model_validate(raw)) != record_sha256(RunRecord.model_validate(moved))
