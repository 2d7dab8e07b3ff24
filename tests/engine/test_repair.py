"""A store that already holds implausible rows still answers; ``repair`` removes them."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from sqlalchemy import func, select

from dashboard.cli import main
from engine.db import open_store, session_scope
from engine.models import Customer, Order, OrderLine, Product
from engine.recommend.base import StoreData
from engine.repair import find_implausible
from engine.timeutil import resolve_as_of


@pytest.fixture
def poisoned(db_url):
    """Two plausible orders, one dated 2300 and one plausible order with a line in year 1."""
    engine = open_store(db_url)
    with session_scope(engine) as session:
        session.add_all(
            [Customer(customer_id="c1"), Product(product_id="p1"), Product(product_id="p2")]
        )
        session.flush()
        for order_id, when in [
            ("o1", datetime(2024, 1, 1)),
            ("o2", datetime(2024, 2, 1)),
            ("late", datetime(2300, 1, 1)),
        ]:
            session.add(Order(order_id=order_id, customer_id="c1", ordered_at=when))
        session.flush()
        session.add_all(
            [
                OrderLine(order_id="o1", line_no=1, product_id="p1", quantity=1, unit_price=2),
                OrderLine(order_id="o2", line_no=1, product_id="p2", quantity=1, unit_price=3),
                OrderLine(
                    order_id="o2",
                    line_no=2,
                    product_id="p1",
                    quantity=1,
                    unit_price=2,
                    ordered_at=datetime(1, 1, 1),
                ),
                OrderLine(order_id="late", line_no=1, product_id="p1", quantity=1, unit_price=2),
            ]
        )
    yield db_url, engine
    engine.dispose()


def test_implausible_rows_are_left_out_of_every_answer(poisoned):
    _, engine = poisoned
    with session_scope(engine) as session:
        assert resolve_as_of(session, None) < datetime(2024, 2, 2)
        data = StoreData.load(session)
        assert sorted(data.order_lines["order_id"]) == ["o1", "o2"]
        assert find_implausible(session).rows == {"orders": 1, "order_lines": 1}


def test_info_reports_them_and_repair_removes_them(poisoned, capsys):
    url, engine = poisoned
    assert main(["info", "--db", url]) == 0
    assert "2 rows stamped outside 1970-01-01" in capsys.readouterr().out
    assert main(["repair", "--db", url, "--dry-run"]) == 0
    assert "would remove 2 rows" in capsys.readouterr().out
    assert main(["repair", "--db", url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == {"orders": 1, "order_lines": 1}
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(OrderLine)) == 2
        assert sorted(session.scalars(select(Order.order_id))) == ["o1", "o2"]
    assert main(["repair", "--db", url]) == 0
    assert "nothing to repair" in capsys.readouterr().out
    assert main(["info", "--db", url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["implausible_rows"] == {}


@pytest.mark.parametrize("when", ["2999-01-01", "0001-01-01"])
def test_an_implausible_as_of_is_one_line_exit_2(poisoned, capsys, when):
    url, _ = poisoned
    assert main(["score", "--db", url, "--as-of", when]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "outside the plausible window" in err
