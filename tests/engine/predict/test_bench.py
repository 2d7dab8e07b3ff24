from __future__ import annotations

from benchmarks.harness import BenchOptions
from benchmarks.predict import run


def test_bench_section_reports_fit_and_predict_all() -> None:
    metrics = run(BenchOptions(quick=True, extra={"customers": 300}))
    names = [m.name for m in metrics]
    assert any(n.startswith("fit") for n in names)
    assert "predict --all (rows + CSV)" in names
    assert all(m.section == "predict" and m.value >= 0 for m in metrics)
