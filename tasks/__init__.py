"""The built-in task cards and ``suites/``: package data of ``junkdna_bench.builtin.tasks``.

Not code: this file only makes the folder a package, so installs find it through
``importlib.resources`` (see ``junkdna_bench.builtin``).
"""
