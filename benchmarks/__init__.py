"""Data generator and timing harness for the analytics queries and charts (`python -m benchmarks.run`)."""
