"""The Predictions page under AppTest: the engine's numbers, store view, CSV and thin stores."""

from __future__ import annotations

import io
import shutil
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy.engine import make_url
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from dashboard import ui
from dashboard.predictions import monthly_points, slipping_csv
from dashboard.sidebar import AS_OF_KEY, as_of_for
from engine.db import open_store, session_scope
from engine.models import Customer, Event, Order, OrderLine, Product, SegmentMembership
from engine.predict import PurchasePredictor, slipping_high_value, store_outlook
from engine.predict.service import all_predictions, fit_store_predictor

from .factories import build_small_store

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "dashboard" / "app.py"
PAGE = str(Path("..") / "pages" / "predictions.py")


def _page(url: str, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("PERSONALIZE_DATABASE_URL", url)
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _engine_predictions(url: str, as_of: datetime) -> tuple[PurchasePredictor, pd.DataFrame]:
    engine = open_store(url)
    try:
        with session_scope(engine) as session:
            predictor = fit_store_predictor(session, as_of=as_of)
            return predictor, all_predictions(session, predictor)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def seeded_predictions(seeded_db_url):  # type: ignore[no-untyped-def]
    """``seeded_predictions(as_of)``: :func:`_engine_predictions` on the read-only seeded
    store, fitted once per date in this module (several tests check the page against it)."""
    done: dict[datetime, tuple[PurchasePredictor, pd.DataFrame]] = {}

    def predictions(as_of: datetime) -> tuple[PurchasePredictor, pd.DataFrame]:
        if as_of not in done:
            done[as_of] = _engine_predictions(seeded_db_url, as_of)
        return done[as_of]

    return predictions


def _expected_metrics(row: pd.Series) -> dict[str, str]:
    """The page's tiles for one engine prediction row, formatted independently of the page."""
    return {
        "Next purchase": row["predicted_date"].strftime("%Y-%m-%d"),
        "Confidence": f"{round(row['confidence'])} / 100",
        "Still active": f"{row['p_active'] * 100:.1f}%",
        "Purchases, next 90 days": f"{row['expected_purchases_90d']:.1f}",
        "Spend, next 12 months": ui.fmt_money(row["clv_12m"]),
        "Next order value": f"{ui.fmt_money(row['price_low'])} - {ui.fmt_money(row['price_high'])}",
    }


def _metrics(at: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in at.metric}


def _as_of(at: AppTest) -> datetime:
    return as_of_for(at.session_state[AS_OF_KEY])


def test_the_default_customer_is_the_most_valuable_and_shows_the_engines_numbers(
    seeded_db_url, seeded_predictions, monkeypatch
):
    at = _page(seeded_db_url, monkeypatch)
    _, predictions = seeded_predictions(_as_of(at))
    best = predictions.sort_values(["clv_12m", "customer_id"], ascending=[False, True]).iloc[0]
    assert at.selectbox[0].value == best["customer_id"]
    assert _metrics(at) == _expected_metrics(best)
    # timeline, p_active, categories, chances of buying, store outlook
    assert len(at.get("plotly_chart")) == 5
    assert "within 7 days of their predicted date" in " ".join(c.value for c in at.caption)


def test_a_one_time_buyer_picked_on_an_earlier_day_gets_the_engines_numbers(
    seeded_db_url, seeded_predictions, monkeypatch
):
    at = _page(seeded_db_url, monkeypatch)
    earlier = at.session_state[AS_OF_KEY] - pd.Timedelta(days=30)
    at.sidebar.date_input[0].set_value(earlier).run()
    assert not at.exception
    _, predictions = seeded_predictions(as_of_for(earlier))
    one_timer = predictions.loc[predictions["n_purchases"] == 1].iloc[0]
    # Beyond the first 200 listed: typing the id finds and picks them.
    at.text_input(key="predictions_customer_search").set_value(one_timer["customer_id"]).run()
    assert at.selectbox(key="predictions_customer").value == one_timer["customer_id"]
    assert not at.exception, [e.value for e in at.exception]
    assert _metrics(at) == _expected_metrics(one_timer)


def test_a_customer_who_never_bought_gets_the_population_answer(
    seeded_db_url, seeded_predictions, monkeypatch
):
    at = _page(seeded_db_url, monkeypatch)
    _, predictions = seeded_predictions(_as_of(at))
    never = predictions.loc[predictions["n_purchases"] == 0]
    if never.empty:
        pytest.skip("every customer of this seeded store bought before the as-of date")
    at.text_input[0].set_value(never["customer_id"].iloc[0]).run()
    assert not at.exception, [e.value for e in at.exception]
    assert _metrics(at) == _expected_metrics(never.iloc[0])
    assert any("store's average answers" in caption.value for caption in at.caption)
    assert "No purchase yet: nothing to track." in [caption.value for caption in at.caption]


def test_an_unknown_customer_id_is_a_warning_not_an_error(seeded_db_url, monkeypatch):
    at = _page(seeded_db_url, monkeypatch)
    at.text_input[0].set_value("nobody-here").run()
    assert not at.exception
    assert "No customer id or name contains 'nobody-here'" in at.warning[0].value
    assert not at.metric


def test_the_csv_download_holds_the_slipping_customers(
    seeded_db_url, seeded_predictions, monkeypatch
):
    downloads: list[tuple[bytes, str | None]] = []
    original = MemoryMediaFileStorage.load_and_get_id

    def record(self, path_or_data, mimetype, kind, filename=None):  # type: ignore[no-untyped-def]
        downloads.append((path_or_data, filename))
        return original(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", record)
    at = _page(seeded_db_url, monkeypatch)
    predictor, predictions = seeded_predictions(_as_of(at))
    expected = slipping_high_value(predictor, predictions=predictions, limit=None)
    assert len(expected) > 0, "the seeded store should have slipping high-value customers"

    ((csv, filename),) = [d for d in downloads if d[1] == "slipping_high_value.csv"]
    frame = pd.read_csv(io.BytesIO(csv), dtype={"customer_id": str})
    assert frame["customer_id"].tolist() == expected["customer_id"].tolist()
    assert frame["p_active_drop"].tolist() == expected["p_active_drop"].round(4).tolist()
    assert (frame["p_active_drop"] >= 0.05).all()
    label = at.get("download_button")[0].proto.label
    assert label == f"Download the {len(expected)} customers (CSV)"


def test_the_store_view_splits_expected_buyers_by_scored_segment(
    seeded_db_url, tmp_path, monkeypatch
):
    source = Path(make_url(seeded_db_url).database or "")
    url = f"sqlite:///{shutil.copy(source, tmp_path / 'scored.db')}"
    at = _page(url, monkeypatch)
    assert "have not been scored yet" in " ".join(info.value for info in at.info)
    as_of = _as_of(at)
    _, predictions = _engine_predictions(url, as_of)
    members = pd.DataFrame(
        {
            "customer_id": predictions["customer_id"].iloc[:30],
            "segment": ["bargain_hunters"] * 10 + ["loyal"] * 20,
        }
    )
    engine = open_store(url)
    with session_scope(engine) as session:
        session.add_all(
            SegmentMembership(customer_id=c, segment=s, computed_at=as_of, as_of=as_of)
            for c, s in members.itertuples(index=False)
        )
    engine.dispose()

    at = _page(url, monkeypatch)  # a fresh session; the frames' cache is keyed by url
    outlook = at.dataframe[0].value
    expected = store_outlook(predictions, segments=members)
    assert outlook["segment"].tolist() == ["all customers", "bargain_hunters", "loyal"]
    assert outlook["customers"].tolist() == [len(predictions), 10, 20]
    for window in (7, 30, 90):
        column = f"expected_buyers_{window}d"
        assert outlook[column].round(6).tolist() == expected[column].round(6).tolist()
    assert not any("have not been scored yet" in info.value for info in at.info)


def test_a_store_without_repeat_purchases_says_what_is_needed(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'one.db'}"
    engine = open_store(url)
    with session_scope(engine) as session:
        session.add_all([Customer(customer_id="a"), Product(product_id="p", price=5.0)])
        session.flush()
        session.add(Order(order_id="o1", customer_id="a", ordered_at=datetime(2024, 1, 1, 9)))
        session.flush()
        session.add(
            OrderLine(
                order_id="o1", line_no=1, product_id="p", quantity=1, unit_price=5.0, discount=0.0
            )
        )
    engine.dispose()
    at = _page(url, monkeypatch)
    assert "none of them bought on two different days" in at.info[0].value
    guidance = at.info[0].value
    assert "load more of the store's orders" in guidance and "personalize" not in guidance
    assert not at.metric and not at.get("plotly_chart")


def test_a_store_with_events_but_no_orders_says_what_is_needed(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'events.db'}"
    engine = open_store(url)
    with session_scope(engine) as session:
        session.add_all([Customer(customer_id="a"), Product(product_id="p")])
        session.flush()
        session.add(
            Event(
                customer_id="a", event_type="product_view", product_id="p",
                occurred_at=datetime(2024, 1, 1, 9),
            )
        )  # fmt: skip
    engine.dispose()
    at = _page(url, monkeypatch)
    assert "There are no orders before 2024-01-02 00:00 UTC" in at.info[0].value
    assert not at.metric


def test_the_small_hand_made_store_renders(tmp_path, monkeypatch):
    url = build_small_store(f"sqlite:///{tmp_path / 'small.db'}")
    at = _page(url, monkeypatch)
    assert not at.error
    assert sorted(at.selectbox[0].options) == ["c0", "c1", "c2"]
    assert len(at.metric) == 6


def test_an_empty_store_shows_the_overviews_guidance(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    open_store(url).dispose()
    at = _page(url, monkeypatch)
    guidance = " ".join(info.value for info in at.info)
    assert "The store is empty" in guidance and "personalize " not in guidance
    assert not at.metric


# --- helpers, with hand-worked answers --------------------------------------------------


def test_monthly_points_are_month_starts_between_the_first_purchase_and_as_of():
    points = monthly_points(pd.Timestamp("2024-01-15 10:00"), datetime(2024, 6, 10))
    assert [p.date() for p in points] == [
        date(2024, 1, 16),
        date(2024, 2, 1),
        date(2024, 3, 1),
        date(2024, 4, 1),
        date(2024, 5, 1),
        date(2024, 6, 1),
        date(2024, 6, 10),
    ]


def test_a_young_customer_gets_weekly_points():
    points = monthly_points(pd.Timestamp("2024-03-01"), datetime(2024, 3, 20))
    # the day after the first purchase, the Mondays in between, and as_of
    assert [p.date() for p in points] == [
        date(2024, 3, 2),
        date(2024, 3, 4),
        date(2024, 3, 11),
        date(2024, 3, 18),
        date(2024, 3, 20),
    ]


def test_slipping_csv_rounds_money_and_probabilities():
    frame = pd.DataFrame(
        {
            "customer_id": ["c7"],
            "total_spend": [1234.5678],
            "clv_12m": [99.999],
            "p_active_before": [0.912345],
            "p_active": [0.8],
            "p_active_drop": [0.112345],
            "last_purchase": [pd.Timestamp("2024-05-06 17:30")],
        }
    )
    assert slipping_csv(frame).decode().splitlines() == [
        "customer_id,total_spend,clv_12m,p_active_before,p_active,p_active_drop,last_purchase",
        "c7,1234.57,100.0,0.9123,0.8,0.1123,2024-05-06",
    ]
