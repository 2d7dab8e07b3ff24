"""Benchmark sections for ``personalize bench``, apart from the domain (like asv suites
beside a library). Each module holds sections ``run(options) -> list[Metric]``; the
harness is :mod:`engine.bench` for now (moving here with the other sections)."""
