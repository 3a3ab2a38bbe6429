"""Cost benchmarks behind ``junkdna-bench perf``: each compares against a baseline measured in
the same run and reports ratios, so numbers from different machines stay comparable."""
