"""Data: training sets and benchmarks (annotation readers, path checks, generated sets)."""
