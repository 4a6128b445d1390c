"""Benchmarks: figures, not pass/fail timings."""
