"""The repeat-buying and spend models: literature fits and hand-checkable properties."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from engine.predict import BetaGeoFitter, GammaGammaFitter, ModifiedBetaGeoFitter, NaiveNextPurchase


@pytest.fixture
def cdnow_sample(shared_data: Path) -> pd.DataFrame:
    path = shared_data / "cdnow" / "cdnow_sample_rfm_summary.csv"
    if not path.exists():
        pytest.skip(f"CDNOW sample summary not found at {path}")
    return pd.read_csv(path)


def test_bgnbd_reproduces_the_published_cdnow_fit(cdnow_sample: pd.DataFrame) -> None:
    model = BetaGeoFitter().fit(cdnow_sample["x"], cdnow_sample["t_x"], cdnow_sample["T"])
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # Fader, Hardie & Lee 2005
    for name, value in published.items():
        assert model.params_[name] == pytest.approx(value, rel=0.01), name
    # the paper's log-likelihood and its worked example (x=2, t_x=30.43, T=38.86, 39 weeks)
    assert model.log_likelihood_ * len(cdnow_sample) == pytest.approx(-9582.4, abs=0.1)
    expected = model.conditional_expected_number_of_purchases_up_to_time(39, 2, 30.43, 38.86)
    assert float(expected) == pytest.approx(1.226, abs=0.001)


def test_gamma_gamma_reproduces_the_published_cdnow_fit(cdnow_sample: pd.DataFrame) -> None:
    model = GammaGammaFitter().fit(cdnow_sample["x"], cdnow_sample["zbar"])
    for name, value in {"p": 6.25, "q": 3.74, "v": 15.44}.items():
        assert model.params_[name] == pytest.approx(value, rel=0.01), name


def test_time_unit_only_rescales_alpha(cdnow_sample: pd.DataFrame) -> None:
    weeks = BetaGeoFitter().fit(cdnow_sample["x"], cdnow_sample["t_x"], cdnow_sample["T"])
    days = BetaGeoFitter().fit(cdnow_sample["x"], 7 * cdnow_sample["t_x"], 7 * cdnow_sample["T"])
    assert days.params_["alpha"] == pytest.approx(7 * weeks.params_["alpha"], rel=1e-3)
    assert days.params_["r"] == pytest.approx(weeks.params_["r"], rel=1e-3)


@pytest.mark.parametrize(
    "cls", [BetaGeoFitter, ModifiedBetaGeoFitter, GammaGammaFitter, NaiveNextPurchase]
)
def test_not_fitted_error_before_fit(cls: type) -> None:
    with pytest.raises(NotFittedError):
        _ = cls().summary_params


def _fitted(cls: type[BetaGeoFitter]) -> BetaGeoFitter:
    model = cls()
    model.params_ = {"r": 0.5, "alpha": 10.0, "a": 0.8, "b": 2.5}
    return model


def test_probability_alive_by_hand() -> None:
    bg, mbg = _fitted(BetaGeoFitter), _fitted(ModifiedBetaGeoFitter)
    # BG/NBD: no repeat purchase means alive, however long ago
    assert bg.conditional_probability_alive(0, 0, 500)[()] == 1.0
    # MBG/NBD: 1 / (1 + a/(b+x) ((alpha+T)/(alpha+t_x))^(r+x)) = 1 / (1 + 0.32 * 2) for T = 30
    assert mbg.conditional_probability_alive(0, 0, 30)[()] == pytest.approx(1 / 1.64)
    # silence lowers it; a recent purchase raises it
    assert mbg.conditional_probability_alive(3, 20, 400) < mbg.conditional_probability_alive(
        3, 390, 400
    )
    # BG/NBD with x = 2: 1 / (1 + a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)), 0.8/3.5 and 60/30
    assert bg.conditional_probability_alive(2, 20, 50)[()] == pytest.approx(
        1 / (1 + 0.8 / 3.5 * 2**2.5)
    )


def test_conditional_expectation_matches_numerical_integration() -> None:
    """E[purchases in t | alive, lambda, p] = (1 - exp(-lambda p t)) / p, averaged over the
    posterior of (lambda, p), times P(alive); checked against quadrature."""
    from scipy import integrate, stats

    model = _fitted(BetaGeoFitter)
    r, alpha, a, b = 0.5, 10.0, 0.8, 2.5
    x, t_x, big_t, t = 3.0, 40.0, 60.0, 30.0
    # posterior of p given alive with x repeats: Beta(a, b + x); the lambda average of
    # 1 - exp(-lambda p t) under Gamma(r + x, alpha + T) is 1 - ((alpha+T)/(alpha+T+p t))^(r+x)
    pdist = stats.beta(a, b + x)
    inner = integrate.quad(
        lambda p: (1 - ((alpha + big_t) / (alpha + big_t + p * t)) ** (r + x)) / p * pdist.pdf(p),
        0,
        1,
        limit=200,
    )[0]
    alive = model.conditional_probability_alive(x, t_x, big_t)
    got = model.conditional_expected_number_of_purchases_up_to_time(t, x, t_x, big_t)
    assert float(got) == pytest.approx(float(alive) * inner, rel=1e-3)


def test_heavy_buyers_stay_finite() -> None:
    model = _fitted(ModifiedBetaGeoFitter)
    got = model.conditional_expected_number_of_purchases_up_to_time(90, 400, 700, 701)
    assert np.isfinite(got) and got > 10


def test_time_to_next_purchase_quantile_by_hand() -> None:
    model = _fitted(BetaGeoFitter)
    # median given alive: (alpha+T)(2^(1/(r+x)) - 1) with r+x = 1 -> 70
    assert float(model.time_to_next_purchase_quantile(0.5, 0.5, 60.0)) == pytest.approx(70.0)
    within = float(model.time_to_next_purchase_quantile(0.5, 0.5, 60.0, horizon=90.0))
    assert 0 < within < 45  # conditioning on a purchase within 90 days pulls the median in


def test_gamma_gamma_falls_back_on_tiny_data() -> None:
    model = GammaGammaFitter().fit([1, 2, 0], [10.0, 20.0, 0.0])
    assert model.fallback_ and model.population_mean_ == 15.0
    # shrinkage with a pseudo-count of one: (2 * 20 + 15) / 3; no history: the mean
    values = model.conditional_expected_average_profit([2, 0], [20.0, 0.0])
    assert values.tolist() == pytest.approx([55 / 3, 15.0])
