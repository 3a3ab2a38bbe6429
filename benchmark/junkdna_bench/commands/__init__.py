"""The CLI's command groups, one module each; ``junkdna_bench.cli`` composes them."""
