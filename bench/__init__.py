"""make bench (bench/run.py) and the one-customer turn timings (bench/turns.py): see README "Load and latency"."""
