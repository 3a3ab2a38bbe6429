"""The built-in experiment plans: package data of ``junkdna_bench.builtin.experiments``.

Not code: this file only makes the folder a package, so installs find it through
``importlib.resources`` (see ``junkdna_bench.builtin``). ``results/`` is not shipped.
"""
