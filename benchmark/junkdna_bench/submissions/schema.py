"""The submission: one model and one pruning method (with its parameters), put through a suite.

A suite may be run under more than one protocol (the same tasks at training fractions, or across
task pairs, or with other transfer modes): the optional ``protocol`` names which, so that the same
method can have one entry per protocol and the leaderboard never ranks runs of different protocols
against each other.

A submission carries the statistics report built from its run records (never the records
themselves: they hold per-example predictions and are large) plus a digest of those records, so a
reader can check that a report belongs to a given set of runs. The schema is versioned like the
report: adding an optional field keeps ``SUBMISSION_SCHEMA_VERSION``; anything else bumps it.

Free-text fields (names, descriptions) are limited in length and may not contain control or
invisible formatting characters (which could disguise one name as another), but they may contain
anything else: the site renders them as escaped text, so a method called ``<b>x</b>`` is shown
exactly so.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl

from junkdna_bench.stats.report_schema import StatsReport

SUBMISSION_SCHEMA_VERSION = 1


def _no_control_characters(text: str) -> str:
    """Refuse control and invisible format characters (bidi overrides, zero-width) that disguise text."""
    if any(unicodedata.category(ch) in {"Cc", "Cf"} and ch not in "\n\t" for ch in text):
        raise ValueError("must not contain control or invisible formatting characters")
    return text


Name = Annotated[str, Field(min_length=1, max_length=80), AfterValidator(_no_control_characters)]
Text = Annotated[str, Field(max_length=4000), AfterValidator(_no_control_characters)]
Hex64 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MethodInfo(_Strict):
    """The pruning method as its runs named it, with the parameters that distinguish this entry."""

    name: Name
    params: dict[str, Any] = Field(default_factory=dict)
    description: Text = ""
    url: HttpUrl | None = Field(None, description="paper or code of the method (http/https only)")


class Hardware(_Strict):
    """Where the runs ran: results depend on it only through time, but readers want to know."""

    device: Name = Field(description="'cpu', 'cuda', 'mps', ...")
    description: Text = Field("", description="e.g. '2-core x86_64 CPU' or 'NVIDIA H100 80GB'")


class RecordDigest(_Strict):
    run_id: Annotated[str, Field(pattern=r"^[0-9a-f]{16}$")]
    sha256: Hex64


class RecordsDigest(_Strict):
    """Which run records the report was built from: one content hash per record, then one over all."""

    algorithm: Literal["sha256"] = "sha256"
    count: int = Field(ge=1)
    sha256: Hex64
    records: list[RecordDigest]


class Submission(_Strict):
    """One leaderboard submission, stored as JSON under ``submissions/``."""

    schema_version: int = SUBMISSION_SCHEMA_VERSION
    title: Name = Field(description="one line saying what this is, shown on the site")
    notes: Text = Field("", description="how the runs were made: budget, profile, anything unusual")
    submitter: Name | None = None
    created_at: Name
    model: Name
    method: MethodInfo
    code_version: Name
    hardware: Hardware
    suite: Name
    protocol: Name | None = Field(
        None,
        description="the protocol the runs follow within the suite, e.g. "
        "an experiment plan's name; omitted for the suite's plain run",
    )
    tiers: list[Name] = Field(min_length=1, description="tiers covered, easiest to hardest")
    records_digest: RecordsDigest
    report: StatsReport
