"""Calibration text: the SQuAD contexts read from the real data folder and from hand-made files,
seeded windows checked against one tokenization of the whole text, and the errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from junkdna_bench.data.calibration_text import (
    CALIBRATION_SOURCES,
    DOCUMENT_SEPARATOR,
    calibration_batches,
    squad_contexts,
)
from junkdna_bench.data.examples import DataError, DataNotFoundError
from junkdna_bench.models import load_tokenizer, resolve_model


@pytest.fixture(scope="module")
def tokenizer():
    """MiniLM's WordPiece tokenizer (ships with the package): it splits at white space and
    punctuation only, so a window starting at a word is a run of the whole text's tokens."""
    return load_tokenizer(resolve_model("minilm-l6"))


def write_squad(folder: Path, parts: list[list[list[str]]]) -> Path:
    """parts -> articles -> paragraph contexts, written as SQuAD v1.1 files part1, part2."""
    squad = folder / "squad_v1.1"
    squad.mkdir(parents=True)
    for number, articles in enumerate(parts, start=1):
        data = [
            {"title": f"a{i}", "paragraphs": [{"context": context, "qas": []} for context in article]}
            for i, article in enumerate(articles)
        ]
        (squad / f"dev-v1.1.part{number}.json").write_text(json.dumps({"data": data, "version": "1.1"}))
    return folder


def test_sources_are_named_with_what_they_need() -> None:
    assert list(CALIBRATION_SOURCES) == ["squad-contexts", "c4"]
    assert not CALIBRATION_SOURCES["squad-contexts"].needs_hub and CALIBRATION_SOURCES["c4"].needs_hub


def test_squad_contexts_are_unique_in_file_order_across_both_parts(tmp_path: Path) -> None:
    folder = write_squad(
        tmp_path, [[["alpha", "beta"], ["alpha", "gamma"]], [["beta", "delta"], ["epsilon"]]]
    )
    assert squad_contexts(folder) == ["alpha", "beta", "gamma", "delta", "epsilon"]


def test_real_squad_dev_contexts(shared_data: Path) -> None:
    seen: list[str] = []
    for part in ("part1", "part2"):
        document = json.loads((shared_data / "squad_v1.1" / f"dev-v1.1.{part}.json").read_text())
        for article in document["data"]:
            seen.extend(paragraph["context"] for paragraph in article["paragraphs"])
    unique = list(dict.fromkeys(seen))
    contexts = squad_contexts(shared_data)
    assert contexts == unique and len(contexts) == 2067
    assert contexts[0].startswith("Super Bowl 50 was an American football game")


def test_windows_are_seeded_runs_of_the_whole_texts_tokens(shared_data: Path, tokenizer) -> None:
    batches = calibration_batches(
        tokenizer, "squad-contexts", sequences=10, length=48, seed=7, batch_size=4, data_dir=shared_data
    )
    assert [tuple(batch["input_ids"].shape) for batch in batches] == [(4, 48), (4, 48), (2, 48)]
    for batch in batches:
        assert batch["attention_mask"].dtype == batch["input_ids"].dtype
        assert bool((batch["attention_mask"] == 1).all())

    text = DOCUMENT_SEPARATOR.join(squad_contexts(shared_data))
    stream = np.array(tokenizer(text, add_special_tokens=False)["input_ids"])
    runs = np.lib.stride_tricks.sliding_window_view(stream, 48)
    windows = np.concatenate([batch["input_ids"].numpy() for batch in batches])
    starts = set()
    for window in windows:
        found = np.flatnonzero((runs == window).all(axis=1))
        assert found.size >= 1, tokenizer.decode(window)
        starts.add(int(found[0]))
        assert not tokenizer.convert_ids_to_tokens(int(window[0])).startswith("##")  # a word start
    assert len(starts) == 10  # ten different places
    assert not set(windows.ravel().tolist()) & set(tokenizer.all_special_ids)


def test_same_seed_same_windows_and_more_sequences_extend_them(shared_data: Path, tokenizer) -> None:
    def windows(sequences: int, seed: int) -> np.ndarray:
        batches = calibration_batches(
            tokenizer,
            "squad-contexts",
            sequences=sequences,
            length=16,
            seed=seed,
            batch_size=3,
            data_dir=shared_data,
        )
        return np.concatenate([batch["input_ids"].numpy() for batch in batches])

    first = windows(5, seed=1)
    np.testing.assert_array_equal(first, windows(5, seed=1))
    np.testing.assert_array_equal(windows(8, seed=1)[:5], first)
    assert not np.array_equal(windows(5, seed=2), first)


def test_the_data_folder_comes_from_the_environment(
    shared_data: Path, tokenizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUNKDNA_DATA_DIR", str(shared_data))
    implicit = calibration_batches(tokenizer, "squad-contexts", sequences=2, length=8, seed=0, batch_size=2)
    explicit = calibration_batches(
        tokenizer, "squad-contexts", sequences=2, length=8, seed=0, batch_size=2, data_dir=shared_data
    )
    assert (implicit[0]["input_ids"] == explicit[0]["input_ids"]).all()


def test_a_text_shorter_than_one_window_is_refused(tmp_path: Path, tokenizer) -> None:
    folder = write_squad(tmp_path, [[["a few words here"]], [["and a few more"]]])
    with pytest.raises(DataError, match="too short for calibration windows of 64 tokens"):
        calibration_batches(
            tokenizer, "squad-contexts", sequences=1, length=64, seed=0, batch_size=1, data_dir=folder
        )
    eight = calibration_batches(
        tokenizer, "squad-contexts", sequences=3, length=8, seed=0, batch_size=3, data_dir=folder
    )
    expected = tokenizer("a few words here\n\nand a few more", add_special_tokens=False)["input_ids"]
    assert expected == eight[0]["input_ids"][0].tolist()  # the only window of 8 tokens there is


def test_missing_and_malformed_squad_files_say_what_to_fix(tmp_path: Path, tokenizer) -> None:
    with pytest.raises(
        DataNotFoundError, match=r"dev-v1\.1\.part1\.json does not exist; set JUNKDNA_DATA_DIR"
    ):
        squad_contexts(tmp_path)
    folder = write_squad(tmp_path / "bad", [[["fine"]], [["fine too"]]])
    (folder / "squad_v1.1" / "dev-v1.1.part2.json").write_text(json.dumps({"data": [{"title": "x"}]}))
    with pytest.raises(DataError, match=r"part2\.json: not SQuAD v1\.1 JSON \(need data\[\]\.paragraphs"):
        squad_contexts(folder)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"source": "wiki"}, "unknown calibration source 'wiki'; known: squad-contexts, c4"),
        ({"length": 0}, "length must be at least 1, got 0"),
        ({"sequences": -1}, "sequences must be at least 1"),
        ({"batch_size": 0}, "batch_size must be at least 1"),
    ],
)
def test_bad_arguments_are_named(tokenizer, kwargs: dict, message: str) -> None:
    arguments = {
        "source": "squad-contexts",
        "sequences": 2,
        "length": 8,
        "seed": 0,
        "batch_size": 2,
        **kwargs,
    }
    with pytest.raises(ValueError, match=message):
        calibration_batches(tokenizer, **arguments)


def test_c4_without_the_hub_says_how_to_calibrate_offline(tokenizer, monkeypatch: pytest.MonkeyPatch) -> None:
    import datasets

    asked: list[tuple] = []

    def unreachable(*args: object, **kwargs: object) -> None:
        asked.append((args, kwargs))
        raise ConnectionError("no route to huggingface.co")

    monkeypatch.setattr("junkdna_bench.hub.prepare_hub_access", lambda: False)
    monkeypatch.setattr(datasets, "load_dataset", unreachable)
    with pytest.raises(DataNotFoundError) as raised:
        calibration_batches(tokenizer, "c4", sequences=2, length=8, seed=0, batch_size=2)
    assert asked == [
        (
            ("allenai/c4",),
            {"data_files": {"validation": "en/c4-validation.00000-of-00008.json.gz"}, "split": "validation"},
        )
    ]
    message = str(raised.value)
    assert "allenai/c4" in message and "hub is unreachable" in message and "'squad-contexts'" in message
