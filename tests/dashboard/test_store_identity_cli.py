"""`personalize import` and `info` set and show the store's name, currency and time zone."""

from __future__ import annotations

import json

from dashboard.cli import main


def _orders(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text("customer_id,order_id,product_id,quantity,unit_price,ordered_at\n"
                    "c1,o1,p1,2,10.5,2024-01-02T10:00:00\n", encoding="utf-8")
    return str(path)


def test_import_sets_the_identity_and_info_shows_it(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 's.db'}"
    assert main(["import", "--db", url, "--orders", _orders(tmp_path), "--store-name",
                 "Corner shop", "--currency", "eur", "--timezone", "Europe/Paris"]) == 0
    capsys.readouterr()
    assert main(["info", "--db", url]) == 0
    out = capsys.readouterr().out
    assert "Corner shop" in out and "EUR" in out and "Europe/Paris" in out
    assert "€21.00" in out  # revenue in the store's currency
    assert main(["info", "--db", url, "--json", "--description", "Fresh bread"]) == 0
    store = json.loads(capsys.readouterr().out)["store"]
    assert store == {"name": "Corner shop", "currency": "EUR", "timezone": "Europe/Paris",
                     "description": "Fresh bread", "is_default": False}


def test_an_imported_store_gets_defaults_and_is_told_how_to_name_it(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 's.db'}"
    assert main(["import", "--db", url, "--orders", _orders(tmp_path)]) == 0
    assert "--store-name" in capsys.readouterr().err
    assert main(["info", "--db", url, "--json"]) == 0
    store = json.loads(capsys.readouterr().out)["store"]
    assert store["is_default"] and store["currency"] == "USD" and store["timezone"] == "UTC"


def test_a_bad_currency_refuses_the_import_before_anything_is_written(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 's.db'}"
    assert main(["import", "--db", url, "--orders", _orders(tmp_path),
                 "--currency", "dollars"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "invalid currency 'dollars'" in err and "USD" in err
    assert main(["info", "--db", url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["orders"] == 0


def test_a_bad_time_zone_is_one_line_with_the_nearest_names(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 's.db'}"
    assert main(["info", "--db", url, "--timezone", "America/New_Yrok"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "America/New_York" in err
