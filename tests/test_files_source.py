"""Local files as task data: headerless files, stray quotes, bad settings, and precedence over the hub."""

from __future__ import annotations

import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from junkdna_bench.cards import CardError, load_card_file
from junkdna_bench.data import DataError, DataNotFoundError, load_pool
from junkdna_bench.data import sources as data_sources
from junkdna_bench.hub import OFFLINE_VARIABLES, hub_reachable

CARD = """
id: toy
name: Toy
description: local files with the quirks of real datasets
citation: none
license: none
task_type: sentence_pair
input_columns: [question, sentence]
label_column: label
labels: [entailment, not_entailment]
primary_metric: accuracy
metrics: [accuracy]
source:
{SOURCE}
"""
QNLI_OFFICIAL_DEV_ROWS = 5463  # shared/data/README.md: the whole QNLI dev file
COLA_OFFICIAL_DEV_ROWS = 1043


def _card(folder: Path, source: str) -> Path:
    path = folder / "toy.yaml"
    path.write_text(CARD.replace("{SOURCE}", textwrap.indent(source.strip(), "  ")), encoding="utf-8")
    return path


def _rows(count: int, quote_at: int | None = None) -> str:
    """Tab-separated data rows (no header); row ``quote_at`` opens a ``"`` that is never closed."""
    lines = []
    for i in range(count):
        sentence = f'" an unbalanced quote in row {i}' if i == quote_at else f"answer {i}"
        lines.append(f"{i}\tquestion {i}?\t{sentence}\t{'entailment' if i % 2 else 'not_entailment'}")
    return "\n".join(lines) + "\n"


def _pool_size(card_path: Path) -> tuple[int, list[str]]:
    pool = load_pool(load_card_file(card_path), None)
    return len(pool.train) + len(pool.eval), list(pool.notes)


def test_a_headerless_tsv_reads_every_line_as_data(tmp_path: Path) -> None:
    (tmp_path / "train.tsv").write_text(_rows(40), encoding="utf-8")
    card = _card(tmp_path, "files: {train: train.tsv, header: [index, question, sentence, label]}")
    pool = load_pool(load_card_file(card), None)
    assert len(pool.train) + len(pool.eval) == 40
    first = next(e for e in (*pool.train, *pool.eval) if e.id.endswith("train-0"))
    assert first.texts == ("question 0?", "answer 0")


def test_without_a_header_the_first_line_names_the_columns(tmp_path: Path) -> None:
    (tmp_path / "train.tsv").write_text(_rows(40), encoding="utf-8")
    card = _card(tmp_path, "files: {train: train.tsv}")
    with pytest.raises(DataError, match=r"no column 'question' \(has 0, question 0\?"):
        load_pool(load_card_file(card), None)


def test_quoting_none_keeps_rows_that_an_unbalanced_quote_would_swallow(tmp_path: Path) -> None:
    (tmp_path / "train.tsv").write_text("index\tquestion\tsentence\tlabel\n" + _rows(40, quote_at=5))
    default = _card(tmp_path, "files: {train: train.tsv}")
    swallowed, notes = _pool_size(default)
    assert swallowed < 40 and any("malformed row" in note for note in notes)

    plain = _card(tmp_path, "files: {train: train.tsv, quoting: none}")
    pool = load_pool(load_card_file(plain), None)
    assert len(pool.train) + len(pool.eval) == 40
    quoted = next(e for e in (*pool.train, *pool.eval) if e.id.endswith("train-5"))
    assert quoted.texts[1] == '" an unbalanced quote in row 5'


def test_csv_quoting_stays_the_default(tmp_path: Path) -> None:
    rows = "".join(f'{i},"question {i}, quoted","line one\nline two",entailment\n' for i in range(10))
    (tmp_path / "train.csv").write_text("index,question,sentence,label\n" + rows, encoding="utf-8")
    pool = load_pool(load_card_file(_card(tmp_path, "files: {train: train.csv}")), None)
    assert len(pool.train) + len(pool.eval) == 10
    assert pool.train[0].texts[0].endswith(", quoted")


@pytest.mark.parametrize(
    ("source", "field", "reason"),
    [
        ("files: {train: a.tsv, quoting: nope}", "source.files.quoting", "'minimal' or 'none'"),
        ("files: {train: a.tsv, quoting: null}", "source.files.quoting", "'minimal' or 'none'"),
        ("files: {train: a.tsv, header: [a, b, a]}", "source.files.header", r"column name\(s\) \['a'\]"),
        ("files: {train: a.tsv, header: [a, '']}", "source.files.header", "one non-empty name per column"),
        ("files: {train: a.tsv, header: []}", "source.files.header", "one non-empty name per column"),
        ("files: {train: a.tsv, header: a b c}", "source.files.header", "valid list"),
        ("files: {train: a.jsonl, header: [a, b]}", "source.files.header", "CSV and TSV files only"),
        ("files: {train: a.txt, format: jsonl, quoting: none}", "source.files.quoting", "CSV and TSV"),
        ("glue: {task: CoLA, header: [a, a]}", "source.glue.header", "repeats the column name"),
    ],
)
def test_bad_file_settings_name_the_field(tmp_path: Path, source: str, field: str, reason: str) -> None:
    card = _card(tmp_path, source)
    with pytest.raises(CardError, match=reason) as caught:
        load_card_file(card)
    assert caught.value.field == field and str(card) in str(caught.value)


def test_a_real_glue_file_with_stray_quotes_needs_quoting_none(glue_dir: Path, tmp_path: Path) -> None:
    """QNLI dev: five sentences open a ``"`` that CSV quoting reads as the start of a quoted field."""
    qnli = glue_dir / "QNLI" / "dev.tsv"
    if not qnli.is_file():
        pytest.skip(f"{qnli} is not there")
    swallowed, _ = _pool_size(_card(tmp_path, f"files: {{train: {qnli}}}"))
    whole, notes = _pool_size(_card(tmp_path, f"files: {{train: {qnli}, quoting: none}}"))
    assert whole == QNLI_OFFICIAL_DEV_ROWS and swallowed < whole - 100
    assert not any("malformed" in note for note in notes), notes


def test_a_real_headerless_glue_file_reads_with_a_header(glue_dir: Path, tmp_path: Path) -> None:
    cola = glue_dir / "CoLA" / "dev.tsv"
    if not cola.is_file():
        pytest.skip(f"{cola} is not there")
    card = tmp_path / "cola-files.yaml"
    card.write_text(
        CARD.replace("id: toy", "id: cola-files")
        .replace("task_type: sentence_pair", "task_type: single_sentence")
        .replace("input_columns: [question, sentence]", "input_columns: [sentence]")
        .replace("labels: [entailment, not_entailment]", "labels: [unacceptable, acceptable]")
        .replace(
            "{SOURCE}",
            f"  files: {{train: {cola}, quoting: none, header: [source, label, original_label, sentence], "
            "label_map: {'0': unacceptable, '1': acceptable}}",
        ),
        encoding="utf-8",
    )
    pool = load_pool(load_card_file(card), None)
    assert len(pool.train) + len(pool.eval) == COLA_OFFICIAL_DEV_ROWS


HUB_ALTERNATIVE = "hub: {path: nyu-mll/glue, name: qnli, label_map: {'0': entailment, '1': not_entailment}}"


@pytest.fixture
def unreachable_hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """A hub endpoint that refuses connections at once, and a fresh probe; the offline flags the probe
    sets are undone afterwards."""
    for variable in OFFLINE_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    hub_reachable.cache_clear()
    yield
    hub_reachable.cache_clear()


@pytest.mark.usefixtures("unreachable_hub")
def test_local_files_win_over_the_hub_without_asking_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_hub(*_: object, **__: object) -> None:
        raise AssertionError("the hub was asked although local files were there")

    monkeypatch.setattr(data_sources, "read_hub", no_hub)
    (tmp_path / "train.tsv").write_text("index\tquestion\tsentence\tlabel\n" + _rows(20), encoding="utf-8")
    card = _card(tmp_path, f"files: {{train: train.tsv}}\n{HUB_ALTERNATIVE}")
    size, notes = _pool_size(card)
    assert size == 20 and any("data from local files" in note for note in notes)


@pytest.mark.usefixtures("unreachable_hub")
def test_an_unreachable_hub_fails_fast_and_says_where_else_to_look(tmp_path: Path) -> None:
    card = _card(tmp_path, f"files: {{train: absent.tsv}}\n{HUB_ALTERNATIVE}")
    started = time.monotonic()
    with pytest.raises(DataNotFoundError) as caught:
        load_pool(load_card_file(card), None)
    assert time.monotonic() - started < 30
    message = str(caught.value)
    assert "absent.tsv does not exist" in message
    assert "Hugging Face hub" in message and "unreachable" in message
