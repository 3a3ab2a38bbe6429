"""The run harness: plans of runs, one run (prune -> fine-tune -> evaluate -> record), executors, resume."""
