"""Schema migrations keep a store's rows: an old store upgrades in place."""

from __future__ import annotations

import json
from datetime import datetime

from alembic import command
from alembic.config import Config
from sqlalchemy import select, text

from engine.db import MIGRATIONS_DIR, make_engine, session_scope, upgrade_schema
from engine.models import Order, ProfileStats, ScoreCalibration


def _upgrade_to(engine, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def test_0002_moves_profile_details_and_adds_flags(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    _upgrade_to(engine, "0001")
    stamp = datetime(2024, 2, 1)
    details = {
        "stats": {"orders": 3, "spend": 12.5, "top_category": "Books", "weekend": 1},
        "calibration": {"median_spend": 9.0},
        "segments": ["night_owl"],
    }
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO customers (customer_id) VALUES ('c1')"))
        connection.execute(
            text(
                "INSERT INTO orders (order_id, customer_id, ordered_at, channel) "
                "VALUES ('o1', 'c1', '2024-01-06 23:30:00.000000', 'ios')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO profiles (customer_id, as_of, computed_at, lifetime_value, "
                "purchase_frequency, price_sensitivity, brand_loyalty, impulse_buying, "
                "research_intensity, weekend_shopping, night_shopping, mobile_usage, "
                "emotional_state, details) VALUES ('c1', :t, :t, 1, 2, 3, 4, 5, 6, 7, 8, 9, "
                "'unknown', :d)"
            ),
            {"t": stamp, "d": json.dumps(details)},
        )
    upgrade_schema(engine)
    with session_scope(engine) as session:
        calibration = session.scalars(select(ScoreCalibration)).one()
        assert calibration.reference == {"median_spend": 9.0}
        stats = session.get(ProfileStats, "c1")
        assert (stats.orders, stats.spend, stats.top_category, stats.lines) == (3, 12.5, "Books", 0)
        assert session.scalar(text("SELECT calibration_id FROM profiles")) == calibration.id
        order = session.get(Order, "o1")
        # Saturday 23:30 on a phone app: all three generated flags are set for old rows too.
        assert (order.at_weekend, order.at_night, order.on_mobile) == (1, 1, 1)
    engine.dispose()


def test_0002_downgrades_and_upgrades_again(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    upgrade_schema(engine)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO customers (customer_id) VALUES ('c1')"))
        connection.execute(
            text(
                "INSERT INTO orders (order_id, customer_id, ordered_at) "
                "VALUES ('o1', 'c1', '2024-01-06 10:00:00.000000')"
            )
        )
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0001")
    with engine.connect() as connection:
        columns = {r[1] for r in connection.execute(text("PRAGMA table_info(orders)"))}
        assert "at_weekend" not in columns
    upgrade_schema(engine)
    with session_scope(engine) as session:
        assert session.get(Order, "o1").at_weekend == 1  # a Saturday
    engine.dispose()


def test_0008_indexes_reviews_by_time_as_the_models_say(tmp_path):
    from sqlalchemy import inspect

    from engine.models import Review

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    _upgrade_to(engine, "0007")
    assert "ix_reviews_reviewed_at" not in {
        i["name"] for i in inspect(engine).get_indexes("reviews")
    }
    upgrade_schema(engine)
    stored = {i["name"]: i["column_names"] for i in inspect(engine).get_indexes("reviews")}
    declared = {i.name: [c.name for c in i.columns] for i in Review.__table__.indexes}
    assert stored == declared
    assert stored["ix_reviews_reviewed_at"] == ["reviewed_at"]
    engine.dispose()
