"""Calibration text for pruning decoders: seeded windows of plain text from a declared source.

Wanda and SparseGPT calibrate a decoder on a sample of general text (their papers: 128 windows
of 2,048 tokens from C4). A source here is a list of documents; they are joined into one text
and each calibration sequence is a window of exactly ``length`` tokens starting at a seeded
random word of it, so a window may cross a document boundary (the references draw a random
document long enough and a window inside it; short documents such as SQuAD paragraphs would
never qualify). Only a slice around each start is tokenized, so a large source costs no full
tokenization.

``length`` has a CPU-sized default and never follows the model's ``max_position_embeddings``:
a buffer of that many tokens per sequence asks 64-128 GiB on Llama-3 (128k positions). Windows
hold no special tokens (no BOS/EOS) and no padding, as the references' windows, which start
mid-document.

Sources:
- ``squad-contexts``: the unique paragraphs of SQuAD v1.1 dev in the local data folder
  (``squad_v1.1/dev-v1.1.part1.json`` then ``part2``, in file order), offline;
- ``c4``: the first English validation shard of ``allenai/c4`` from the Hugging Face hub (or its
  cache). The references draw calibration from the first train shard and evaluate perplexity
  on this one: the same distribution, for an eighth of the download.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from junkdna_bench.data.examples import DATA_DIR_VARIABLE, DataError, DataNotFoundError, DataOptions

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedTokenizerBase

DEFAULT_SEQUENCES = 32
DEFAULT_LENGTH = 256
DEFAULT_BATCH_SIZE = 8
DOCUMENT_SEPARATOR = "\n\n"
SQUAD_FILES = ("squad_v1.1/dev-v1.1.part1.json", "squad_v1.1/dev-v1.1.part2.json")
C4_REPOSITORY = "allenai/c4"
C4_FILE = "en/c4-validation.00000-of-00008.json.gz"
# A window's text slice starts at this many characters per token wanted and doubles until it
# holds enough tokens; a start too close to the end of the text is drawn again, at most this often.
_CHARACTERS_PER_TOKEN = 8
_MAX_DRAWS = 1000


@dataclass(frozen=True)
class CalibrationSource:
    """A named text source: what it is, whether it needs the hub, and how to read its documents."""

    name: str
    description: str
    needs_hub: bool
    documents: Callable[[Path], list[str]]


def squad_contexts(data_dir: Path) -> list[str]:
    """The distinct SQuAD v1.1 dev paragraphs, in the order the two files list them."""
    contexts: dict[str, None] = {}
    for relative in SQUAD_FILES:
        path = data_dir / relative
        if not path.is_file():
            raise DataNotFoundError(
                f"calibration source 'squad-contexts': {path} does not exist; "
                f"set {DATA_DIR_VARIABLE}=DIR, DIR holding {' and '.join(SQUAD_FILES)}"
            )
        try:
            articles = json.loads(path.read_text(encoding="utf-8"))["data"]
            for article in articles:
                for paragraph in article["paragraphs"]:
                    contexts.setdefault(str(paragraph["context"]), None)
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise DataError(
                f"{path}: not SQuAD v1.1 JSON (need data[].paragraphs[].context): {type(exc).__name__}: {exc}"
            ) from exc
    return list(contexts)


def c4_documents(_data_dir: Path) -> list[str]:
    """The texts of the first C4 English validation shard, from the hub (or its local cache)."""
    from junkdna_bench.hub import prepare_hub_access

    reachable = prepare_hub_access()
    try:
        import datasets

        rows: Any = datasets.load_dataset(
            C4_REPOSITORY, data_files={"validation": C4_FILE}, split="validation"
        )
    except Exception as exc:  # datasets raises many kinds; for us they all mean "not here"
        state = "the hub is unreachable and no cached copy exists" if not reachable else f"{exc}"
        raise DataNotFoundError(
            f"calibration source 'c4' reads {C4_FILE} of {C4_REPOSITORY} from the Hugging Face hub, "
            f"but {state}; run once online to cache it, or calibrate offline with 'squad-contexts'"
        ) from exc
    return list(rows["text"])


CALIBRATION_SOURCES: dict[str, CalibrationSource] = {
    source.name: source
    for source in (
        CalibrationSource(
            "squad-contexts",
            "unique SQuAD v1.1 dev paragraphs (Wikipedia) from the local data folder; offline",
            needs_hub=False,
            documents=squad_contexts,
        ),
        CalibrationSource(
            "c4",
            f"C4 English, validation shard {C4_FILE} of {C4_REPOSITORY} (as Wanda and SparseGPT); hub",
            needs_hub=True,
            documents=c4_documents,
        ),
    )
}


@lru_cache(maxsize=4)
def _joined_text(source: str, data_dir: Path) -> str:
    documents = CALIBRATION_SOURCES[source].documents(data_dir)
    if not documents:
        raise DataError(f"calibration source {source!r} holds no documents under {data_dir}")
    return DOCUMENT_SEPARATOR.join(documents)


def _word_start(text: str, position: int) -> int:
    """The first character of the next word that starts at or after ``position`` (a window never
    starts mid-word or on white space); ``len(text)`` when there is none."""
    if position > 0 and not text[position - 1].isspace():
        while position < len(text) and not text[position].isspace():
            position += 1
    while position < len(text) and text[position].isspace():
        position += 1
    return position


def _window(tokenizer: PreTrainedTokenizerBase, text: str, start: int, length: int) -> list[int] | None:
    """The first ``length`` token ids of the text from ``start``, or None when the text ends first.

    The slice tokenized ends at a word boundary, so no token comes from a word cut in two."""
    span = length * _CHARACTERS_PER_TOKEN
    while True:
        end = min(start + span, len(text))
        while start < end < len(text) and not text[end].isspace():
            end -= 1
        ids = tokenizer(text[start:end], add_special_tokens=False)["input_ids"]
        if len(ids) >= length:
            return list(ids[:length])
        if start + span >= len(text):
            return None
        span *= 2


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if value < 1:
            raise ValueError(f"calibration_batches: {name} must be at least 1, got {value}")


def calibration_windows(
    tokenizer: PreTrainedTokenizerBase, text: str, sequences: int, length: int, seed: int, what: str
) -> list[list[int]]:
    """``sequences`` windows of ``length`` token ids at seeded random word starts of ``text``."""
    draw = random.Random(seed)
    windows: list[list[int]] = []
    for _ in range(sequences):
        for _attempt in range(_MAX_DRAWS):
            window = _window(tokenizer, text, _word_start(text, draw.randrange(len(text))), length)
            if window is not None:
                windows.append(window)
                break
        else:
            raise DataError(
                f"{what} ({len(text):,} characters) is too short for calibration windows of {length} tokens; "
                f"ask for a shorter length"
            )
    return windows


def calibration_batches(
    tokenizer: PreTrainedTokenizerBase,
    source: str,
    sequences: int = DEFAULT_SEQUENCES,
    length: int = DEFAULT_LENGTH,
    seed: int = 0,
    batch_size: int = DEFAULT_BATCH_SIZE,
    data_dir: Path | None = None,
) -> list[dict[str, torch.Tensor]]:
    """Tokenized calibration batches (``input_ids`` and an all-ones ``attention_mask``, each
    (rows, length)) of ``sequences`` seeded windows from the named source, ``batch_size`` rows each
    (the last batch may be smaller). ``data_dir`` defaults to the local data folder."""
    if source not in CALIBRATION_SOURCES:
        raise ValueError(f"unknown calibration source {source!r}; known: {', '.join(CALIBRATION_SOURCES)}")
    _check_positive(sequences=sequences, length=length, batch_size=batch_size)
    text = _joined_text(source, data_dir or DataOptions().data_dir)
    windows = calibration_windows(tokenizer, text, sequences, length, seed, f"calibration source {source!r}")
    return _batched(windows, batch_size)


def _batched(windows: Sequence[list[int]], batch_size: int) -> list[dict[str, torch.Tensor]]:
    import torch  # on use: suites read the source names at load time, which must stay light

    batches = []
    for start in range(0, len(windows), batch_size):
        ids = torch.tensor(windows[start : start + batch_size], dtype=torch.long)
        batches.append({"input_ids": ids, "attention_mask": torch.ones_like(ids)})
    return batches
