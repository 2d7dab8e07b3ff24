"""Benchmark sections for ``personalize bench``, apart from the domain (like asv suites
beside a library): one module per section (``cli``, ``seed``, ``profiles``,
``recommend``, ``predict``, ``writers``, ``serve``), each ``run(options) -> list[Metric]``;
they may import the seed and the engine, the engine never imports them. The harness
(options, metrics, one process per section) is :mod:`benchmarks.harness`, its child
process :mod:`benchmarks.harness_child`."""
