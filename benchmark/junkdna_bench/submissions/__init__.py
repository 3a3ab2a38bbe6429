"""Leaderboard submissions: the schema, building one from run records, and validating files.

``schema`` defines the file; ``build`` makes one (``junkdna-bench submit``); ``validate`` checks
files or folders (``junkdna-bench validate``) through ``limits`` (bounded, strict JSON),
``consistency`` (numbers recomputed from per-seed data) and ``paths`` (nothing escapes the folder).
"""
