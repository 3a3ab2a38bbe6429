"""The end-of-run rows: one per comparison of the statistics' pairing, never pooling two configurations;
and their table, whole outside a terminal."""

from __future__ import annotations

from typing import Any

import pytest

from junkdna_bench.console import make_console
from junkdna_bench.console.summary import summary_table
from junkdna_bench.harness.summary import summary_rows
from junkdna_bench.records import RunRecord, RunSpec
from stats_fixtures import make_record

VARIANT = "tweets-sentiment@frac=0.5"


def _record(
    accuracy: float,
    method: str = "dense",
    seed: int = 1,
    variant: str = VARIANT,
    transfer: str = "sparse",
    **changes: Any,
) -> RunRecord:
    dense = method == "dense"
    spec = RunSpec(
        model="minilm-l6",
        method=method,
        sparsity=0.0 if dense else 0.5,
        transfer="dense" if dense else transfer,
        suite="starter",
        task=variant.partition("@")[0],
        variant=variant,
        tier="medium",
        seed=seed,
        **changes,
    )
    return make_record(spec, accuracy, trivial=0.4)


def test_two_parameter_sets_of_one_method_on_one_variant_are_two_rows() -> None:
    records = [_record(0.80, seed=s) for s in (1, 2)]
    records += [_record(0.70, "magnitude", s, method_params={"scope": "layer"}) for s in (1, 2)]
    records += [_record(0.60, "magnitude", s, method_params={"scope": "global"}) for s in (1, 2)]

    rows = summary_rows(records)

    assert len(rows) == 2
    by_scope = {row["method_params"]["scope"]: row for row in rows}
    assert by_scope["layer"]["sparse"] == pytest.approx(70.0)
    assert by_scope["global"]["sparse"] == pytest.approx(60.0)
    for row in rows:
        assert (row["variant"], row["method"], row["level"], row["transfer"]) == (
            VARIANT,
            "magnitude",
            "50%",
            "sparse",
        )
        assert row["seeds"] == 2 and row["dense"] == pytest.approx(80.0)
        assert row["percent_of_dense"] == pytest.approx(100 * row["sparse"] / 80.0)


def test_a_sparse_run_without_its_dense_twin_is_left_out() -> None:
    records = [_record(0.80, seed=1), _record(0.70, "magnitude", 1), _record(0.10, "magnitude", 2)]
    (row,) = summary_rows(records)
    assert row["seeds"] == 1 and row["sparse"] == pytest.approx(70.0)


def test_rows_come_variant_by_variant() -> None:
    records = [
        _record(accuracy, method, variant=variant)
        for variant in ("tweets-sentiment@frac=1", "bbc-news@frac=1")
        for method, accuracy in (("dense", 0.9), ("random", 0.5), ("magnitude", 0.8))
    ]
    rows = summary_rows(records)
    assert [(r["variant"], r["method"]) for r in rows] == [
        ("bbc-news@frac=1", "magnitude"),
        ("bbc-news@frac=1", "random"),
        ("tweets-sentiment@frac=1", "magnitude"),
        ("tweets-sentiment@frac=1", "random"),
    ]


def test_the_table_keeps_full_names_outside_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    records = [
        _record(0.8),
        _record(0.4, "large-magnitude", transfer="regrow", method_params={"scope": "global"}),
    ]

    make_console().print(summary_table(summary_rows(records)))

    cells = (VARIANT, "medium", "large-magnitude", "scope=global", "50%", "regrow", "accuracy", "50.0")
    lines = capsys.readouterr().out.splitlines()
    assert any(all(cell in line for cell in cells) for line in lines)
