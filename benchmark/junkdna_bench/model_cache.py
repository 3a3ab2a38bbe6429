"""GGUF checkpoints dequantised once, then kept as an ordinary Hugging Face model folder.

transformers reads a GGUF file (``gguf_file=``) by dequantising every tensor to float and
converting the embedded tokenizer, about 20 s for SmolLM2-135M on two cores, on every load. The
result never changes for a given file, so the first load writes it out (fp32 safetensors, a
config without the GGUF quantization entry, the generation config and the tokenizer) to
``<cache>/models/<first 16 hex of the file's sha256>/``, and later loads read that folder in well
under a second. Keying by content, not path, means a reinstalled or moved file reuses the folder
and a changed file never reads a stale one; hashing the 98 MB file costs about 0.1 s.

The folder appears by one rename of a finished temporary folder, so an interrupted first load
never leaves a half-written cache: a folder under its key is complete by construction.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
import time
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from transformers import PretrainedConfig, PreTrainedModel, PreTrainedTokenizerBase

CACHE_DIR_VARIABLE = "JUNKDNA_CACHE_DIR"
DEFAULT_CACHE_DIR = Path("~/.cache/junkdna-bench")
KEY_HEX_DIGITS = 16
WEIGHTS_FILE = "model.safetensors"
SOURCE_FILE = "gguf-source.json"  # what the folder was made from, for provenance
# A temporary folder this old was left by a killed first load, not by one still writing.
STALE_PARTIAL_S = 3600.0


def cache_root() -> Path:
    """``$JUNKDNA_CACHE_DIR`` or ``~/.cache/junkdna-bench``."""
    return Path(os.environ.get(CACHE_DIR_VARIABLE) or DEFAULT_CACHE_DIR).expanduser()


def file_sha256(path: Path) -> str:
    """The file's sha256, computed once per process for an unchanged file (same size and mtime)."""
    stat = path.stat()
    return _sha256(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=16)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def dequantised_folder(gguf: Path) -> Path:
    """The cached model folder of ``gguf``, dequantising and writing it on first use."""
    if not gguf.is_file():
        raise FileNotFoundError(f"GGUF checkpoint {gguf} does not exist")
    digest = file_sha256(gguf)
    folder = cache_root() / "models" / digest[:KEY_HEX_DIGITS]
    if folder.is_dir():
        return folder
    model, tokenizer = _dequantise(gguf)
    source = {"gguf_file": gguf.name, "sha256": digest, "bytes": gguf.stat().st_size}
    write_model_folder(model, tokenizer, folder, source)
    return folder


def _dequantise(gguf: Path) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    if importlib.util.find_spec("gguf") is None:
        raise FileNotFoundError(
            f"reading the GGUF checkpoint {gguf} needs the Python package 'gguf'; pip install gguf"
        )
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = str(gguf.parent), gguf.name
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    return model, AutoTokenizer.from_pretrained(folder, gguf_file=name)


def write_model_folder(
    model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, destination: Path, source: dict[str, object]
) -> None:
    """Write ``model`` and ``tokenizer`` as a folder ``from_pretrained`` reads, all or nothing.

    ``save_pretrained`` refuses a GGUF-loaded model (it counts as quantized), so the weights go
    out as a plain safetensors state dict (a tied weight once, under its first name, as
    transformers saves it) and the config without its quantization entry.
    """
    from transformers import __version__ as transformers_version

    destination.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_partials(destination)
    partial = Path(tempfile.mkdtemp(prefix=f".{destination.name}.partial-", dir=destination.parent))
    try:
        _save_weights(model, partial / WEIGHTS_FILE)
        _plain_config(model).save_pretrained(partial)
        model.generation_config.save_pretrained(partial)
        tokenizer.save_pretrained(partial)
        manifest = {**source, "transformers": transformers_version}
        (partial / SOURCE_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        _make_readable(partial)
        try:
            partial.rename(destination)
        except OSError:
            if not destination.is_dir():  # not a concurrent writer that finished first
                raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def _save_weights(model: PreTrainedModel, path: Path) -> None:
    from safetensors.torch import save_file

    tensors = {}
    seen: set[int] = set()
    for name, tensor in model.state_dict().items():
        if tensor.data_ptr() in seen:  # the tied copy (an LM head sharing the embedding table)
            continue
        seen.add(tensor.data_ptr())
        tensors[name] = tensor.detach().contiguous()
    save_file(tensors, str(path), metadata={"format": "pt"})


def _plain_config(model: PreTrainedModel) -> PretrainedConfig:
    config = copy.deepcopy(model.config)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.architectures = [type(model).__name__]  # a GGUF-loaded config names none
    return config


def _make_readable(folder: Path) -> None:
    """mkdtemp makes a private folder; the cache is as readable as any downloaded model."""
    folder.chmod(0o755)
    for item in folder.iterdir():
        item.chmod(0o644)


def _remove_stale_partials(destination: Path) -> None:
    cutoff = time.time() - STALE_PARTIAL_S
    for partial in destination.parent.glob(f".{destination.name}.partial-*"):
        if partial.stat().st_mtime < cutoff:
            shutil.rmtree(partial, ignore_errors=True)
