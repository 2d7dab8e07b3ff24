"""``engine.importing`` on what real exports look like: returns, cancellations, guest
checkouts, repeated lines, per-line times, offsets, spellings, exports cut mid-order."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from dashboard.cli import main
from engine.db import session_scope
from engine.errors import UserError, ValidationError
from engine.importing import import_files
from engine.models import Customer, Event, Order, OrderLine, Product

HEADER = "customer_id,order_id,product_id,quantity,unit_price,ordered_at,channel\n"
RETAIL = HEADER + (
    "0042,536365,00123,6,2.55,2010-12-01T08:26:00,Web\n"  # 2 leading zeros kept
    "0042,536365,71053,6,3.39,2010-12-01T08:27:00,Web\n"  # 3 scanned a minute later
    "0042,536365,84406B,8,0,2010-12-01T08:28:00,Web\n"  # 4 a free sample: kept
    "0042,536365,71053,6,3.39,2010-12-01T08:27:00,Web\n"  # 5 exact repeat of 3
    "0042,C536379,D,-1,27.5,2010-12-01T09:41:00,Web\n"  # 6 cancellation
    "0043,536380,22086,-2,2.55,2010-12-01T09:45:00+01:00,In-Store\n"  # 7 a return
    "0043,536381,22086,2,2.55,2010-12-01T09:45:00+01:00,In-Store\n"  # 8 offset, spelling
    ",536382,22086,1,2.55,2010-12-01T10:00:00,web\n"  # 9 guest checkout
    "0044,536383,B,1,-11062.06,2010-12-01T10:05:00,web\n"  # 10 adjustment
    "0044,536384,22086,1,2.55,2010-12-01T10:06:00,web\n"  # 11 ...two customers
    "0045,536384,22087,1,2.55,2010-12-01T10:06:00,web\n"  # 12 ...on one order
)


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_retail_export_imports_without_skip_invalid_and_says_what_it_left_out(store, tmp_path):
    report = import_files(store, orders=write(tmp_path, "o.csv", RETAIL))

    assert report.rejected == []
    skipped = {s.reason: s.lines for s in report.skipped}
    assert skipped == {
        "a cancellation (its order id starts with C)": [6],
        "a return or cancellation (quantity <= 0)": [7],
        "no customer id (a guest checkout cannot join a customer's profile)": [9],
        "a negative price (an accounting adjustment, not a sale)": [10],
        "an exact repeat of an earlier line": [5],
        "its order's lines name different customers (whose order it is is unknown)": [11, 12],
    }
    assert report.skipped_total == 7
    assert any("channel" in note and "'In-Store' -> 'store'" in note for note in report.warnings)
    with session_scope(store) as session:
        orders = {o.order_id: o for o in session.scalars(select(Order))}
        assert set(orders) == {"536365", "536381"}
        assert orders["536365"].ordered_at == datetime(2010, 12, 1, 8, 26)
        assert orders["536365"].customer_id == "0042"
        assert orders["536381"].ordered_at == datetime(2010, 12, 1, 8, 45)  # UTC
        assert orders["536381"].channel == "store"
        lines = session.scalars(
            select(OrderLine).where(OrderLine.order_id == "536365").order_by(OrderLine.line_no)
        ).all()
        assert [(x.product_id, x.unit_price, x.ordered_at) for x in lines] == [
            ("00123", 2.55, None),
            ("71053", 3.39, datetime(2010, 12, 1, 8, 27)),
            ("84406B", 0.0, datetime(2010, 12, 1, 8, 28)),
        ]
        # Customers and products named only by orders exist, with nothing made up.
        assert session.get(Customer, "0042").signup_at is None
        assert session.get(Product, "00123").price is None

    again = import_files(store, orders=tmp_path / "o.csv")
    assert again.inserted_total == 0 and again.skipped_total == 7


def test_the_cli_report_lists_each_reason_with_its_lines(tmp_path, capsys):
    orders = write(tmp_path, "o.csv", RETAIL)
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["import", "--db", url, "--orders", str(orders)]) == 0
    out = capsys.readouterr().out
    assert "skipped 7 rows that are not sales or facts to keep:" in out
    assert f"{orders}: 2 skipped: its order's lines name different customers" in out
    assert "(lines 11, 12)" in out


def test_an_order_cut_by_an_earlier_export_gains_only_its_missing_lines(store, tmp_path):
    whole = HEADER + (
        "c1,o1,p1,1,2.0,2024-03-01T23:58:00,web\n"
        "c1,o1,p2,1,3.0,2024-03-01T23:59:00,web\n"
        "c1,o1,p2,1,3.0,2024-03-02T00:01:00,web\n"
        "c1,o1,p3,2,1.5,2024-03-02T00:02:00,web\n"
    )
    lines = whole.splitlines(keepends=True)
    # Tonight's export stops at midnight; tomorrow's repeats the whole order.
    import_files(store, orders=write(tmp_path, "day1.csv", "".join(lines[:3])))
    report = import_files(store, orders=write(tmp_path, "day2.csv", whole))
    assert report.table("order_lines").inserted == 2
    assert report.table("order_lines").skipped_existing == 2
    assert report.table("orders").updated == 1
    assert import_files(store, orders=tmp_path / "day2.csv").inserted_total == 0
    with session_scope(store) as session:
        got = session.scalars(select(OrderLine).order_by(OrderLine.line_no)).all()
        assert [(x.line_no, x.product_id) for x in got] == [
            (1, "p1"),
            (2, "p2"),
            (3, "p2"),
            (4, "p3"),
        ]


def test_an_earlier_line_arriving_later_moves_the_order_time_and_keeps_the_others(store, tmp_path):
    import_files(store, orders=write(tmp_path, "a.csv", HEADER + "c1,o1,p2,1,3,2024-03-02,web\n"))
    import_files(store, orders=write(tmp_path, "b.csv", HEADER + "c1,o1,p1,1,2,2024-03-01,web\n"))
    with session_scope(store) as session:
        assert session.get(Order, "o1").ordered_at == datetime(2024, 3, 1)
        got = session.scalars(select(OrderLine).order_by(OrderLine.line_no)).all()
        assert [(x.product_id, x.ordered_at) for x in got] == [
            ("p2", datetime(2024, 3, 2)),
            ("p1", None),
        ]


@pytest.mark.parametrize(
    ("second", "why"),
    [
        ("c2,o1,p1,1,2,2024-03-01,\n", "stored for customer 'c1', here 'c2'"),
        ("c1,o1,p1,5,2,2024-03-01,\n", "its line of product 'p1' at 2024-03-01 00:00:00 has"),
    ],
)
def test_an_order_stored_with_other_content_is_a_conflict_unless_replaced(
    store, tmp_path, second, why
):
    rows = "c1,o1,p1,1,2,2024-03-01,\nc1,o1,p2,1,3,2024-03-01,\n"
    first = write(tmp_path, "a.csv", HEADER + rows)
    import_files(store, orders=first)
    changed = write(tmp_path, "b.csv", HEADER + second)
    with pytest.raises(ValidationError) as caught:
        import_files(store, orders=changed)
    assert f"b.csv:2: order_id: order 'o1' is already stored with different content ({why}" in (
        str(caught.value)
    )
    assert "--replace" in str(caught.value)
    report = import_files(store, orders=changed, replace=True)
    assert report.table("orders").updated == 1
    with session_scope(store) as session:
        got = session.scalars(select(OrderLine)).all()
        assert [(x.product_id, x.quantity) for x in got] == [("p1", float(second.split(",")[3]))]
        assert session.get(Order, "o1").customer_id == second.split(",")[0]


def test_event_spellings_separators_and_header_case_of_other_tools(store, tmp_path):
    events = write(
        tmp_path,
        "e.csv",
        (
            "Event_Type;Occurred_At;Customer_ID;Product_ID;Device\n"
            "view;2024-01-01T10:00:00Z;c1;p1;Phone\n"
            "addtocart;2024-01-01T10:01:00Z;c1;p1;phone\n"
            "Add To Wishlist;2024-01-01T10:02:00Z;c1;p1;PC\n"
        ),
    )
    report = import_files(store, events=events)
    assert report.table("events").inserted == 3
    with session_scope(store) as session:
        got = session.execute(select(Event.event_type, Event.device).order_by(Event.occurred_at))
        assert [tuple(r) for r in got] == [
            ("product_view", "mobile"),
            ("cart_add", "mobile"),
            ("wishlist_add", "desktop"),
        ]


def test_a_plain_c_id_is_an_id_where_the_store_has_no_numeric_orders(store, tmp_path):
    report = import_files(
        store,
        orders=write(
            tmp_path,
            "o.csv",
            HEADER + ("c1,C100,p1,1,2,2024-03-01,web\nc1,C101,p1,1,2,2024-03-02,web\n"),
        ),
    )
    assert report.skipped == []
    assert report.table("orders").inserted == 2


@pytest.mark.slow
@pytest.mark.parametrize("store_name", ["dunnhumby", "cdnow"])
def test_the_real_samples_import_as_they_are(imported_sample, store_name):
    report, _ = imported_sample(store_name)  # import_files of orders and products, fresh store
    assert report.rejected == []
    assert report.table("order_lines").inserted > 60_000


# --------------------------------------------------------------------------- hostile input


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("product_id,name\nP1,Foo,\n", "o.csv:2: has 3 fields but the header has 2"),
        ("product_id,name\nP1,Foo, Bar,Baz\n", "o.csv:2: has 4 fields"),
        ("product_id,name\n", "has a header but no rows"),
        ("product_id,name,Name\nP1,a,b\n", "column 'name' appears more than once"),
    ],
)
def test_a_csv_that_would_shift_columns_is_refused_naming_the_line(
    sqlite_store, tmp_path, text, words
):
    with pytest.raises(UserError, match=words):
        import_files(sqlite_store, products=write(tmp_path, "o.csv", text))
    with session_scope(sqlite_store) as session:
        assert session.scalar(select(Product.product_id)) is None


@pytest.mark.parametrize(
    ("row", "column", "words"),
    [
        ("c1,o1,p1,1,2,2300-01-01", "ordered_at", "'2300-01-01' is outside the plausible window"),
        ("c1,o1,p1,1,2,1600-01-01", "ordered_at", "outside the plausible window 1970-01-01"),
        ("c1,o1,p1,1,2,1969-12-31T23:59:59", "ordered_at", "outside the plausible window"),
        ("c1,o1,p1,1e308,2,2024-01-01", "quantity", "implausibly large: '1e308'"),
        ("c1,o1,p1,1,inf,2024-01-01", "unit_price", "not a number: 'inf'"),
        ("c\x01,o1,p1,1,2,2024-01-01", "customer_id", "contains a control character"),
    ],
)
def test_implausible_values_are_refused_with_line_and_window(
    sqlite_store, tmp_path, row, column, words
):
    orders = write(tmp_path, "o.csv", HEADER.replace(",channel", "") + row + "\n")
    with pytest.raises(ValidationError) as caught:
        import_files(sqlite_store, orders=orders)
    assert f"o.csv:2: {column}: " in str(caught.value)
    assert words in str(caught.value)


def test_a_json_nan_id_is_no_id(store, tmp_path):
    events = write(
        tmp_path,
        "e.jsonl",
        (
            '{"event_type": "search", "occurred_at": "2024-01-01", "customer_id": NaN,'
            ' "anonymous_id": "a1", "query": "tea"}\n'
        ),
    )
    import_files(store, events=events)
    with session_scope(store) as session:
        assert session.scalar(select(Customer.customer_id)) is None
        assert session.scalar(select(Event.anonymous_id)) == "a1"
