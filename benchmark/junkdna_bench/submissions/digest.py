"""Content digests of run records, so a submission names exactly the runs its report came from.

Each record is hashed over its canonical JSON (sorted keys, no whitespace, fields left at their
defaults omitted, so a field added to the record model later with a default does not change the
digest of records written before it); the overall digest hashes the sorted ``run_id:sha256``
lines. Anyone holding the records can recompute both; anyone holding only the submission can
still check that the overall digest matches its list.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

from junkdna_bench.records import RunRecord
from junkdna_bench.submissions.schema import RecordDigest, RecordsDigest


def record_sha256(record: RunRecord) -> str:
    content = record.model_dump(mode="json", exclude_defaults=True)
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def combined_sha256(entries: Iterable[RecordDigest]) -> str:
    lines = sorted(f"{entry.run_id}:{entry.sha256}" for entry in entries)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def digest_records(records: Iterable[RunRecord]) -> RecordsDigest:
    entries = sorted(
        (RecordDigest(run_id=r.run_id, sha256=record_sha256(r)) for r in records), key=lambda e: e.run_id
    )
    return RecordsDigest(count=len(entries), sha256=combined_sha256(entries), records=entries)
