"""The benchmarks behind scripts/bench.py, one module each."""
