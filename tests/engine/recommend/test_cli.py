"""``personalize recommend`` / ``evaluate`` on the seeded store: output and refusals (exit 2).

(The CLI module is dashboard/cli/recommend_cmds.py; its tests live with the engine
they drive, as this package owns them.)
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from dashboard.cli import main


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def customer(seeded_db_url):
    from sqlalchemy import select

    from engine.db import open_store, session_scope
    from engine.models import Order

    engine = open_store(seeded_db_url)
    with session_scope(engine) as session:
        cid = session.scalars(select(Order.customer_id).limit(1)).one()
    engine.dispose()
    return cid


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--weather", "foggy"], "valid values: sunny, cloudy, rainy, snowy, hot, cold"),
        (["--time-of-day", "25"], "valid values: morning, afternoon, evening, night, or an hour"),
        (["--device", "fridge"], "valid values: desktop, mobile, tablet"),
        (["--k", "101"], "valid values: an integer from 1 to 100"),
        (["--k", "0"], "valid values: an integer from 1 to 100"),
        (["--location", "Atlantis"], "invalid location 'Atlantis'; valid values: "),
    ],
)
def test_refusals(capsys, seeded_db_url, customer, args, expected):
    code, out, err = _run(capsys, "recommend", customer, "--db", seeded_db_url, *args)
    assert code == 2 and out == ""
    assert expected in err and err.count("\n") == 1


def test_unknown_customer(capsys, seeded_db_url):
    code, _, err = _run(capsys, "recommend", "NOPE", "--db", seeded_db_url)
    assert code == 2 and "unknown customer 'NOPE'" in err


def test_recommend_json(capsys, seeded_db_url, customer):
    code, out, _ = _run(
        capsys,
        "recommend",
        customer,
        "--db",
        seeded_db_url,
        "--weather",
        "rainy",
        "--time-of-day",
        "8",
        "--k",
        "7",
        "--json",
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["context"]["time_of_day"] == "morning"
    assert len(doc["recommendations"]) == 7
    first = doc["recommendations"][0]
    assert first["rank"] == 1 and 0 < first["score"] <= 100 and first["reason"]
    assert sum(first["contributions"].values()) == pytest.approx(first["score"], abs=0.1)


def test_recommend_all_csv_and_evaluate(capsys, seeded_db_url):
    code, out, _ = _run(
        capsys, "recommend", "--all", "--k", "3", "--format", "csv", "--db", seeded_db_url
    )
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == ["customer_id", "rank", "product_id", "score", "reason"]
    assert {r["rank"] for r in rows} <= {"1", "2", "3"}
    code, out, _ = _run(capsys, "evaluate", "--k", "10", "--json", "--db", seeded_db_url)
    assert code == 0
    doc = json.loads(out)
    for protocol in ("repeat", "new"):
        models = doc["recommendations"]["protocols"][protocol]["models"]
        assert set(models) >= {"popularity", "frequency", "ease", "tifu_knn", "blend"}


def _write_store_csvs(directory, *, before=None):
    """The toy store (plus later rows) as import files; ``before`` keeps only earlier lines."""
    import pandas as pd

    from .test_evaluation import _later_rows
    from .toy import PRODUCTS, _lines

    lines = pd.concat([_lines(), _later_rows()])
    if before is not None:
        lines = lines[lines["ordered_at"] < before]
    lines = lines.assign(ordered_at=lines["ordered_at"].map(lambda t: t.isoformat()))
    orders = directory / "orders.csv"
    lines[["customer_id", "order_id", "product_id", "quantity", "unit_price", "ordered_at"]].to_csv(
        orders, index=False
    )
    products = directory / "products.csv"
    catalog = pd.concat([PRODUCTS, pd.DataFrame([{"product_id": "newthing"}])])
    catalog[["product_id", "name", "category", "brand", "price"]].to_csv(products, index=False)
    return orders, products


def _strip(doc):
    for protocol in doc["protocols"].values():
        for m in protocol["models"].values():
            m.pop("fit_seconds"), m.pop("rank_seconds")
    return doc


def test_evaluate_as_of_reads_nothing_after_it(capsys, tmp_path):
    from .toy import AS_OF

    docs = []
    for name, before in (("full", None), ("cut", AS_OF)):
        folder = tmp_path / name
        folder.mkdir()
        orders, products = _write_store_csvs(folder, before=before)
        url = f"sqlite:///{folder / 'store.db'}"
        code, _, err = _run(
            capsys, "import", "--db", url, "--orders", str(orders), "--products", str(products)
        )
        assert code == 0, err
        code, out, err = _run(
            capsys,
            "evaluate",
            "--db",
            url,
            "--as-of",
            AS_OF.isoformat(),
            "--holdout-days",
            "8",
            "--k",
            "5",
            "--only",
            "recommendations",
            "--json",
        )
        assert code == 0, err
        docs.append(_strip(json.loads(out)["recommendations"]))
    assert docs[0] == docs[1]
    assert docs[0]["as_of"].startswith(AS_OF.date().isoformat())


def test_evaluate_markdown_tables(capsys, seeded_db_url):
    code, out, _ = _run(
        capsys,
        "evaluate",
        "--db",
        seeded_db_url,
        "--only",
        "recommendations",
        "--format",
        "markdown",
    )
    assert code == 0
    assert "| model | NDCG@10 |" in out
    for name in ("popularity", "frequency", "item_knn", "als", "ease", "tifu_knn", "blend"):
        assert f"| {name} |" in out
    assert "repeats allowed" in out and "new items only" in out
