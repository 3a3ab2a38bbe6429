"""A submission's suite, tiers and variants must be those of the suite this installation defines.

A submission's report records what its suite was (``StatsReport.suites``): the tier order, the
variants and the tier each one sits in. Taken on trust, that record lets one file decide the tier
order of its whole suite on the board, and a tier order decides the verdict (the trend test reads
tiers easiest first). So every suite a submission names is looked up among the suites this
installation defines (``junkdna-bench suites list``: the package's ``tasks/suites/*.yaml``, or
those of ``JUNKDNA_TASKS_DIR``, plus entry-point plugins), and the submission is checked against
it: the suite facts it records, its report's tier order, and the variant, task and tier of every
row. A suite this installation does not define cannot be checked, so it is refused.

The suites are this installation's, at its package version: a submission made with another
version passes as long as the suite is unchanged; where it differs, the message names both
versions, so the submitter knows to rebuild it (or to validate with the version it names).
"""

from __future__ import annotations

from collections.abc import Iterator

from junkdna_bench import __version__
from junkdna_bench.stats.report_schema import GapRow, SuiteFacts, VariantFacts, VariantInformativeness
from junkdna_bench.submissions.problems import Finding
from junkdna_bench.submissions.schema import Submission

MAX_NAMED = 5  # variants named per message; the rest are counted


class UnknownSuite(LookupError):
    """A suite this installation cannot check against; the message says which and why."""


class ShippedSuites:
    """The suites this installation defines, each described once (loading a suite reads its cards).

    Suite names come from untrusted files, so only registered names are looked up: ``load_suite``
    also accepts a path, which a name such as ``../x.yaml`` must never become.
    """

    def __init__(self) -> None:
        self._facts: dict[str, SuiteFacts | UnknownSuite] = {}

    def get(self, name: str) -> SuiteFacts:
        """The suite's facts; raises ``UnknownSuite`` when it is not defined here or does not load."""
        if name not in self._facts:
            self._facts[name] = self._describe(name)
        found = self._facts[name]
        if isinstance(found, UnknownSuite):
            raise found
        return found

    @staticmethod
    def _describe(name: str) -> SuiteFacts | UnknownSuite:
        from junkdna_bench.cards import CardError
        from junkdna_bench.registry import RegistryError
        from junkdna_bench.suite_facts import describe_suite
        from junkdna_bench.suites import load_suite, suites

        try:
            names = suites.names()
            if name not in names:
                return UnknownSuite(
                    f"is {name!r}, a suite this installation does not define (it has {', '.join(names)}; "
                    "a suite of your own counts once its YAML is in $JUNKDNA_TASKS_DIR/suites or a "
                    "plugin registers it); submit runs of a defined suite, or validate where it is"
                )
            return describe_suite(load_suite(name))
        except (CardError, RegistryError, OSError) as exc:
            return UnknownSuite(
                f"is {name!r}, a suite that does not load here, so it cannot be checked: {exc}"
            )


def _version_note(code_version: str) -> str:
    named = code_version.split(" ", 1)[0]
    if named == __version__:
        return ""
    return (
        f" (as junkdna-bench {__version__} defines it; the submission names code version {named}: "
        "rebuild it with this version, or validate it with that one)"
    )


def _named(ids: list[str]) -> str:
    shown = ", ".join(ids[:MAX_NAMED])
    return shown + (f" and {len(ids) - MAX_NAMED} more" if len(ids) > MAX_NAMED else "")


def _differences(given: VariantFacts, expected: VariantFacts) -> str:
    """The expected value of each field where a recorded variant differs: ``tier 'easy', why '...'``."""
    return ", ".join(
        f"{name} {getattr(expected, name)!r}"
        for name in VariantFacts.model_fields
        if getattr(given, name) != getattr(expected, name)
    )


def _variant_findings(
    where: str, given: SuiteFacts, shipped: SuiteFacts, note: str, field: str = "variants"
) -> Iterator[Finding]:
    expected = {v.id: v for v in getattr(shipped, field)}
    listed = {v.id: v for v in getattr(given, field)}
    missing = sorted(set(expected) - set(listed))
    invented = sorted(set(listed) - set(expected))
    changed = sorted(i for i in set(listed) & set(expected) if listed[i] != expected[i])
    parts = []
    if missing:
        parts.append(f"lack {_named(missing)}")
    if invented:
        parts.append(f"list {_named(invented)}, not variants of it")
    if changed:
        shown = [f"{i} ({_differences(listed[i], expected[i])})" for i in changed]
        parts.append(f"differ on {_named(shown)}")
    if parts:
        yield f"{where}.{field}", f"{'; '.join(parts)}: suite {shipped.name!r} defines them so{note}"


def _task_findings(where: str, given: SuiteFacts, shipped: SuiteFacts, note: str) -> Iterator[Finding]:
    expected = {t.id: t for t in shipped.tasks}
    given_ids, shipped_ids = [t.id for t in given.tasks], [t.id for t in shipped.tasks]
    if given_ids != shipped_ids:
        yield f"{where}.tasks", f"lists tasks {given_ids}; suite {shipped.name!r} has {shipped_ids}{note}"
        return
    for k, task in enumerate(given.tasks):
        reference = expected[task.id].model_dump(mode="json")
        for name, value in task.model_dump(mode="json").items():
            if value != reference[name]:
                yield (
                    f"{where}.tasks[{k}].{name}",
                    f"is {value!r}; suite {shipped.name!r} gives {reference[name]!r} for {task.id}{note}",
                )


def _facts_findings(where: str, given: SuiteFacts, shipped: SuiteFacts, note: str) -> Iterator[Finding]:
    """The recorded facts of one suite against the shipped ones, field by field."""
    if given.tiers != shipped.tiers:
        yield (
            f"{where}.tiers",
            f"is {given.tiers}; suite {shipped.name!r} orders its tiers {shipped.tiers}, easiest first{note}",
        )
    if given.description != shipped.description:
        yield f"{where}.description", f"differs from suite {shipped.name!r}'s: {shipped.description!r}{note}"
    yield from _task_findings(where, given, shipped, note)
    yield from _variant_findings(where, given, shipped, note)
    if given.domain_variants:  # a report built before domains were scored alone lists none
        yield from _variant_findings(where, given, shipped, note, "domain_variants")


def _tier_order(tiers: list[str], shipped: SuiteFacts, note: str) -> Iterator[Finding]:
    unknown = [t for t in tiers if t not in shipped.tiers]
    if unknown:
        yield "report.tiers", f"lists {unknown}, not tiers of suite {shipped.name!r} ({shipped.tiers}){note}"
        return
    expected = [t for t in shipped.tiers if t in tiers]
    if tiers != expected:
        yield (
            "report.tiers",
            f"is {tiers}; suite {shipped.name!r} orders them {expected}, easiest first{note}",
        )


def _placed(
    where: str,
    item: GapRow | VariantInformativeness,
    suite: str,
    variants: dict[str, VariantFacts],
    note: str,
) -> Iterator[Finding]:
    """A row (or informativeness entry) sits where the suite puts its variant."""
    variant = variants.get(item.variant)
    if variant is None:
        yield f"{where}.variant", f"is {item.variant!r}, not a variant of suite {suite!r}{note}"
        return
    for name in ("task", "tier"):
        if getattr(item, name) != getattr(variant, name):
            yield (
                f"{where}.{name}",
                f"is {getattr(item, name)!r}; suite {suite!r} places {variant.id} "
                f"in {name} {getattr(variant, name)!r}{note}",
            )


def check_suite(sub: Submission, shipped: ShippedSuites) -> list[Finding]:
    """Every way the submission disagrees with the suites it names, as this installation defines them."""
    try:
        facts = shipped.get(sub.suite)
    except UnknownSuite as exc:
        return [("suite", str(exc))]
    note = _version_note(sub.code_version)
    report = sub.report
    findings = list(_tier_order(report.tiers, facts, note))
    for i, described in enumerate(report.suites):
        try:
            findings += _facts_findings(f"report.suites[{i}]", described, shipped.get(described.name), note)
        except UnknownSuite as exc:
            findings.append((f"report.suites[{i}].name", str(exc)))
    variants = {v.id: v for v in [*facts.variants, *facts.domain_variants]}
    for section, items in (("rows", report.rows), ("informativeness", report.informativeness)):
        for k, item in enumerate(items):
            if item.suite == sub.suite:  # a row of another suite is reported by the consistency checks
                findings += _placed(f"report.{section}[{k}]", item, facts.name, variants, note)
    return findings
