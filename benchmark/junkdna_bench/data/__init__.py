"""Task data: one interface over the hub, a local GLUE directory, local files and package resources.

``load_variant_data(variant, seed, options)`` is all a run needs: the seeded, stratified
training subsample of the variant's data fraction and the fixed evaluation split, with notes
that say where the data came from and what was done to it.
"""

from junkdna_bench.data.examples import (
    GLUE_DIR_VARIABLE,
    ChoiceQuestion,
    DataError,
    DataNotFoundError,
    DataOptions,
    Example,
    VariantData,
)
from junkdna_bench.data.loading import load_pool, load_variant_data

__all__ = [
    "GLUE_DIR_VARIABLE",
    "ChoiceQuestion",
    "DataError",
    "DataNotFoundError",
    "DataOptions",
    "Example",
    "VariantData",
    "load_pool",
    "load_variant_data",
]
