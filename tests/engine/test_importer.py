"""``engine.importing``: validation before writing, decisions on real exports, idempotence,
the CLI."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from dashboard.cli import main
from engine.db import open_store, session_scope
from engine.errors import UserError, ValidationError
from engine.importing import import_files
from engine.models import (
    Customer,
    Event,
    IdentityLink,
    Order,
    OrderLine,
    Product,
    Review,
)

TABLES = {
    "customers": Customer.customer_id,
    "products": Product.product_id,
    "orders": Order.order_id,
    "order_lines": OrderLine.order_id,
    "events": Event.id,
    "reviews": Review.review_id,
    "identity_links": IdentityLink.anonymous_id,
}

ORDERS = """\
customer_id,order_id,product_id,quantity,unit_price,discount,ordered_at,channel,device,extra
c1,o1,p1,2,10.0,1.5,2024-01-01T10:00:00+02:00,web,desktop,ignored
c1,o1,p2,1,5,,2024-01-01T10:00:00+02:00,web,desktop,ignored
c2,o2,p1,3,10,0,2024-01-02,store,,ignored
"""

PRODUCTS = """\
product_id,name,category,brand,price,tags,in_stock
p1,Umbrella,Outdoor,Acme,10,rain; cold;;,yes
p2,Tea,,,5,,no
"""

CUSTOMERS = """\
customer_id,name,city,signup_at
c1,Ada,Paris,2023-12-01T00:00:00Z
"""

EVENTS = """\
event_id,event_type,occurred_at,customer_id,anonymous_id,product_id,query
e1,product_view,2024-01-03T09:00:00Z,,a1,p1,
,search,2024-01-03T09:01:00Z,c1,a1,,tea
,cart_add,2024-01-03T09:02:00Z,c3,,p9,
"""

REVIEWS = """\
customer_id,product_id,rating,reviewed_at,text
c1,p1,5,2024-01-05T12:00:00,Keeps me dry
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def counts(engine: Engine) -> dict[str, int]:
    with session_scope(engine) as session:
        return {
            name: int(session.scalar(select(func.count(column))) or 0)
            for name, column in TABLES.items()
        }


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    return {
        "orders": write(tmp_path, "orders.csv", ORDERS),
        "products": write(tmp_path, "products.csv", PRODUCTS),
        "customers": write(tmp_path, "customers.csv", CUSTOMERS),
        "events": write(tmp_path, "events.csv", EVENTS),
        "reviews": write(tmp_path, "reviews.csv", REVIEWS),
    }


def test_valid_set_imports_exact_counts_and_second_import_adds_nothing(store, files):
    report = import_files(store, **files)

    # c2 (orders) and c3 (events) are defined nowhere: placeholders; so is p9.
    assert counts(store) == {
        "customers": 3,
        "products": 3,
        "orders": 2,
        "order_lines": 3,
        "events": 3,
        "reviews": 1,
        "identity_links": 1,
    }
    assert report.placeholders == {"customers": 2, "products": 1}
    assert report.table("order_lines").inserted == 3
    assert report.table("orders").read == 2
    assert report.rejected == []

    again = import_files(store, **files)
    assert again.inserted_total == 0
    assert again.placeholders == {"customers": 0, "products": 0}
    assert sum(c.updated for c in again.tables.values()) == 0
    assert again.table("events").skipped_existing == 3
    assert again.table("orders").skipped_existing == 2
    assert counts(store) == {
        "customers": 3,
        "products": 3,
        "orders": 2,
        "order_lines": 3,
        "events": 3,
        "reviews": 1,
        "identity_links": 1,
    }


def test_values_are_typed_normalised_and_in_utc(store, files):
    import_files(store, **files)
    with session_scope(store) as session:
        o1 = session.get(Order, "o1")
        o2 = session.get(Order, "o2")
        lines = session.scalars(select(OrderLine).order_by(OrderLine.order_id, OrderLine.line_no))
        lines = [(x.order_id, x.line_no, x.product_id, x.quantity, x.discount) for x in lines]
        p1, p2 = session.get(Product, "p1"), session.get(Product, "p2")
        ada = session.get(Customer, "c1")
        link = session.get(IdentityLink, "a1")
        review = session.scalars(select(Review)).one()
    # +02:00 becomes naive UTC; a bare date is midnight UTC.
    assert o1.ordered_at == datetime(2024, 1, 1, 8, 0)
    assert o2.ordered_at == datetime(2024, 1, 2)
    assert (o1.customer_id, o1.channel, o1.device) == ("c1", "web", "desktop")
    assert o2.device is None
    assert lines == [
        ("o1", 1, "p1", 2.0, 1.5),
        ("o1", 2, "p2", 1.0, 0.0),
        ("o2", 1, "p1", 3.0, 0.0),
    ]
    assert (p1.tags, p1.in_stock) == ("rain;cold", True)
    # A product without category or brand imports.
    assert (p2.category, p2.brand, p2.in_stock, p2.price) == (None, None, False, 5.0)
    assert (ada.name, ada.signup_at) == ("Ada", datetime(2023, 12, 1))
    assert (link.customer_id, link.linked_at) == ("c1", datetime(2024, 1, 3, 9, 1))
    assert review.review_id.startswith("r-") and review.rating == 5


BAD_ROWS = [
    # (kind, header + rows, line, column, words in the reason)
    (
        "orders",
        "customer_id,order_id,product_id,quantity,unit_price,ordered_at\n"
        "c1,o1,p1,1,2,2024-01-01\nc1,o2,p1,1,2,2024-13-45\n",
        3,
        "ordered_at",
        "ISO 8601",
    ),
    (
        "orders",
        "customer_id,order_id,product_id,quantity,unit_price,ordered_at\n"
        "c1,o1,p1,abc,2,2024-01-01\n",
        2,
        "quantity",
        "not a number: 'abc'",
    ),
    (
        "orders",
        "customer_id,order_id,product_id,quantity,unit_price,ordered_at\n"
        "c1,o1,p1,two,2,2024-01-01\n",
        2,
        "quantity",
        "not a number: 'two'",
    ),
    (
        "orders",
        "customer_id,order_id,product_id,quantity,unit_price,ordered_at,discount\n"
        "c1,o1,p1,1,2,2024-01-01,-1\n",
        2,
        "discount",
        ">= 0",
    ),
    (
        "orders",
        "customer_id,order_id,product_id,quantity,unit_price,ordered_at,device\n"
        "c1,o1,p1,1,2,2024-01-01,toaster\n",
        2,
        "device",
        "valid values: desktop, mobile, tablet",
    ),
    (
        "reviews",
        "customer_id,product_id,rating,reviewed_at\nc1,p1,4,2024-01-01\nc1,p2,7,2024-01-01\n",
        3,
        "rating",
        "integer 1..5, got '7'",
    ),
    (
        "events",
        "event_type,occurred_at,customer_id\nproduct_view,2024-01-01,c1\n\nclick,2024-01-01,c1\n",
        4,
        "event_type",
        "valid values: product_view, search, cart_add, wishlist_add, purchase, review",
    ),
    (
        "events",
        "event_type,occurred_at,customer_id,anonymous_id\nsearch,2024-01-01,,\n",
        2,
        "customer_id",
        "customer_id or anonymous_id",
    ),
    ("products", "product_id,in_stock\np1,maybe\n", 2, "in_stock", "valid values: true"),
    ("products", "product_id,price\np1,1\n,2\n", 3, "product_id", "empty"),
    ("customers", "customer_id,signup_at\nc1,yesterday\n", 2, "signup_at", "ISO 8601"),
]


@pytest.mark.parametrize(("kind", "text", "line", "column", "reason"), BAD_ROWS)
def test_a_malformed_row_refuses_the_import_naming_line_and_column(
    sqlite_store, tmp_path, files, kind, text, line, column, reason
):
    import_files(sqlite_store, **files)
    before = counts(sqlite_store)
    bad = write(tmp_path, f"bad_{kind}.csv", text)
    others = {k: v for k, v in files.items() if k != kind}
    with pytest.raises(ValidationError) as caught:
        import_files(sqlite_store, **others, **{kind: bad})
    message = str(caught.value)
    assert f"{bad}:{line}: {column}: " in message
    assert reason in message
    assert "\n" not in message
    assert counts(sqlite_store) == before


def test_refusal_writes_nothing_from_any_file(store, tmp_path, files):
    bad = write(tmp_path, "bad.csv", ORDERS.replace("2024-01-02", "soon"))
    with pytest.raises(ValidationError, match=r"bad\.csv:4: ordered_at: not an ISO 8601"):
        import_files(store, products=files["products"], customers=files["customers"], orders=bad)
    assert set(counts(store).values()) == {0}


def test_missing_required_column_names_file_and_column(sqlite_store, tmp_path):
    bad = write(
        tmp_path,
        "o.csv",
        "customer_id,order_id,product_id,unit_price,ordered_at\nc1,o1,p1,2,2024-01-01\n",
    )
    with pytest.raises(ValidationError, match=r"o\.csv:1: missing required column quantity"):
        import_files(sqlite_store, orders=bad, skip_invalid=True)


def test_many_problems_are_summarised_with_and_n_more(sqlite_store, tmp_path):
    rows = "".join(f"c1,o{i},p1,x,1,2024-01-01\n" for i in range(8))
    bad = write(
        tmp_path, "o.csv", "customer_id,order_id,product_id,quantity,unit_price,ordered_at\n" + rows
    )
    with pytest.raises(ValidationError) as caught:
        import_files(sqlite_store, orders=bad)
    assert "; and 3 more" in str(caught.value)
    assert len(caught.value.problems) == 8


def test_skip_invalid_imports_the_rest_and_reports_rejected_lines(store, tmp_path):
    orders = write(
        tmp_path,
        "o.csv",
        (
            "customer_id,order_id,product_id,quantity,unit_price,ordered_at\n"
            "c1,o1,p1,1,2,2024-01-01\n"
            "c1,o2,p1,one,2,2024-01-02\n"  # bad quantity
            "c1,o2,p2,1,2,2024-01-02\n"  # same order: skipped whole
            "c2,o3,p1,1,2,2024-01-03\n"
        ),
    )
    report = import_files(store, orders=orders, skip_invalid=True)
    assert [(r.line, r.column) for r in report.rejected] == [(3, "quantity"), (4, "order_id")]
    assert report.rejected[0].file == str(orders)
    assert counts(store)["orders"] == 2 and counts(store)["order_lines"] == 2
    assert report.as_dict()["rejected"][0]["line"] == 3


def test_products_upsert_and_fill_in_placeholders(store, tmp_path):
    orders = write(
        tmp_path,
        "o.csv",
        "customer_id,order_id,product_id,quantity,unit_price,ordered_at\nc1,o1,p1,1,2,2024-01-01\n",
    )
    first = import_files(store, orders=orders)
    assert first.placeholders == {"customers": 1, "products": 1}
    products = write(tmp_path, "p.csv", "product_id,name,price\np1,Kettle,20\n")
    filled = import_files(store, products=products)
    assert (filled.table("products").inserted, filled.table("products").updated) == (0, 1)
    same = import_files(store, products=products)
    assert (same.table("products").updated, same.table("products").skipped_existing) == (0, 1)
    write(tmp_path, "p.csv", "product_id,name,price\np1,Kettle,25.5\n")
    changed = import_files(store, products=products)
    assert changed.table("products").updated == 1
    with session_scope(store) as session:
        kettle = session.get(Product, "p1")
        assert (kettle.name, kettle.price) == ("Kettle", 25.5)
    assert counts(store)["products"] == 1


def test_jsonl_events_count_file_lines(store, tmp_path):
    events = write(
        tmp_path,
        "e.jsonl",
        (
            '{"event_type": "product_view", "occurred_at": "2024-01-03T10:00:00+01:00",'
            ' "anonymous_id": "a9", "product_id": "p1", "rating": null}\n'
            "\n"
            '{"event_type": "review", "occurred_at": "2024-01-04", "customer_id": "c1",'
            ' "anonymous_id": "a9", "product_id": "p1", "rating": 4, "event_id": "x1"}\n'
            '{"event_type": "search", "occurred_at": "2024-01-04", "anonymous_id": "a9",'
            ' "rating": 9}\n'
            "not json\n"
        ),
    )
    with pytest.raises(ValidationError) as caught:
        import_files(store, events=events)
    assert caught.value.problems == [
        f"{events}:4: rating: must be an integer 1..5, got '9'",
        f"{events}:5: (json): not JSON: Expecting value",
    ]
    report = import_files(store, events=events, skip_invalid=True)
    assert report.table("events").inserted == 2
    with session_scope(store) as session:
        times = session.scalars(select(Event.occurred_at).order_by(Event.occurred_at)).all()
        assert times == [datetime(2024, 1, 3, 9), datetime(2024, 1, 4)]
        assert session.get(IdentityLink, "a9").customer_id == "c1"
    assert import_files(store, events=events, skip_invalid=True).inserted_total == 0


def test_quoted_multiline_values_keep_editor_line_numbers(sqlite_store, tmp_path):
    products = write(tmp_path, "p.csv", 'product_id,name,price\np1,"Two\nlines",1\np2,B,x\n')
    with pytest.raises(ValidationError, match=r"p\.csv:4: price: not a number: 'x'"):
        import_files(sqlite_store, products=products)


def test_lines_of_one_order_keep_their_own_times_and_the_order_takes_the_earliest(store, tmp_path):
    orders = write(
        tmp_path,
        "o.csv",
        "customer_id,order_id,product_id,quantity,unit_price,"
        "ordered_at\nc1,o1,p1,1,1,2024-01-01T10:03:00Z\n"
        "c1,o1,p2,1,1,2024-01-01T10:00:00Z\n"
        "c1,o1,p3,1,1,2024-01-01T10:00:00Z\n",
    )
    report = import_files(store, orders=orders)
    assert report.skipped == [] and report.rejected == []
    with session_scope(store) as session:
        assert session.get(Order, "o1").ordered_at == datetime(2024, 1, 1, 10)
        lines = session.scalars(select(OrderLine).order_by(OrderLine.line_no)).all()
        # A line's own time is kept where it is not its order's (NULL: the order's time).
        assert [(line.product_id, line.ordered_at) for line in lines] == [
            ("p1", datetime(2024, 1, 1, 10, 3)),
            ("p2", None),
            ("p3", None),
        ]


def test_repeated_event_ids_and_customers_are_imported_once(store, tmp_path):
    events = write(
        tmp_path,
        "e.csv",
        "event_id,event_type,occurred_at,customer_id\n"
        "e1,search,2024-01-01,c1\ne1,search,2024-01-01,c1\n",
    )
    customers = write(tmp_path, "c.csv", "customer_id,city\nc1,Lyon\nc1,Paris\n")
    report = import_files(store, events=events, customers=customers)
    assert report.table("events").inserted == 1
    assert report.table("customers").inserted == 1
    with session_scope(store) as session:
        assert session.get(Customer, "c1").city == "Paris"
    write(tmp_path, "c.csv", "customer_id,city\nc1,Nice\n")
    assert import_files(store, customers=customers).table("customers").updated == 1


def test_purchases_in_orders_are_not_events(sqlite_store, files):
    import_files(sqlite_store, orders=files["orders"])
    assert counts(sqlite_store)["events"] == 0


@pytest.mark.parametrize(
    ("content", "words"),
    [(b"", "empty"), (b"customer_id,order_id\n\xff\xfe,x\n", "not UTF-8")],
)
def test_unreadable_files_are_user_errors(sqlite_store, tmp_path, content, words):
    path = tmp_path / "o.csv"
    path.write_bytes(content)
    with pytest.raises(UserError, match=words):
        import_files(sqlite_store, orders=path)
    with pytest.raises(UserError, match="no such file"):
        import_files(sqlite_store, orders=tmp_path / "absent.csv")
    with pytest.raises(UserError, match="nothing to import"):
        import_files(sqlite_store)


# --------------------------------------------------------------------------- CLI


def test_cli_imports_and_reports_json(tmp_path, files, capsys):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert (
        main(
            [
                "import",
                "--db",
                url,
                "--orders",
                str(files["orders"]),
                "--products",
                str(files["products"]),
                "--json",
            ]
        )
        == 0
    )
    document = json.loads(capsys.readouterr().out)
    assert document["tables"]["order_lines"]["inserted"] == 3
    assert document["placeholders"] == {"customers": 2, "products": 0}
    assert main(["import", "--db", url, "--orders", str(files["orders"])]) == 0
    out = capsys.readouterr().out
    assert "created 0 placeholder products, 0 placeholder customers" in out


def test_cli_skip_invalid_prints_rejected_rows(tmp_path, capsys):
    rows = "".join(f"c1,o{i},p1,x,1,2024-01-01\n" for i in range(25))
    bad = write(
        tmp_path,
        "o.csv",
        "customer_id,order_id,product_id,quantity,unit_price,"
        "ordered_at\nc1,ok,p1,1,1,2024-01-01\n" + rows,
    )
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["import", "--db", url, "--orders", str(bad), "--skip-invalid"]) == 0
    out = capsys.readouterr().out
    assert "rejected 25 rows:" in out
    assert f"{bad}:3: quantity: not a number: 'x'" in out
    assert "and 5 more" in out


@pytest.mark.parametrize("case", ["bad row", "missing file", "no file"])
def test_cli_user_mistakes_exit_2_with_one_line(tmp_path, capsys, case):
    bad = write(
        tmp_path,
        "o.csv",
        "customer_id,order_id,product_id,quantity,unit_price,ordered_at\nc1,o1,p1,1,1,someday\n",
    )
    argv = {
        "bad row": ["--orders", str(bad)],
        "missing file": ["--orders", str(tmp_path / "absent.csv")],
        "no file": [],
    }[case]
    assert main(["import", "--db", f"sqlite:///{tmp_path / 'cli.db'}", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("personalize import: error: ")
    expected = {
        "bad row": f"{bad}:2: ordered_at: not an ISO 8601 timestamp: 'someday'",
        "missing file": "absent.csv: no such file",
        "no file": "--orders FILE",
    }[case]
    assert expected in captured.err


# --------------------------------------------------------------------------- real data


@pytest.mark.slow
def test_dunnhumby_sample_imports_whole_and_idempotently(imported_sample, shared_data, tmp_path):
    orders = shared_data / "dunnhumby" / "orders.csv"
    products = shared_data / "dunnhumby" / "products.csv"
    report, imported = imported_sample("dunnhumby")  # import_files on a fresh store
    # One product is sold in the sample but absent from products.csv: a placeholder.
    assert report.placeholders == {"customers": 2373, "products": 1}
    copy = tmp_path / "store.db"
    shutil.copy(imported, copy)
    store = open_store(f"sqlite:///{copy}")
    try:
        assert counts(store) | {"events": 0} == {
            "customers": 2373,
            "products": 20805,
            "orders": 46988,
            "order_lines": 74471,
            "events": 0,
            "reviews": 0,
            "identity_links": 0,
        }
        assert import_files(store, orders=orders, products=products).inserted_total == 0
    finally:
        store.dispose()


@pytest.mark.slow
def test_cdnow_orders_import(imported_sample):
    report, imported = imported_sample("cdnow")  # import_files on a fresh store
    assert report.placeholders == {"customers": 23502, "products": 0}
    store = open_store(f"sqlite:///{imported}")
    try:
        assert counts(store)["orders"] == 69579
        assert counts(store)["order_lines"] == 69579
    finally:
        store.dispose()
