"""The side-by-side benchmark (scripts/benchmark runs benchmarks/run.py)."""
