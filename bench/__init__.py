"""Benchmarks at scale: fill a database (fill.py) and measure pages served for real (pages.py)."""
