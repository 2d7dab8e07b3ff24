"""`personalize import` and `info` set and show the store's name, currency and time zone."""

from __future__ import annotations

import json

from dashboard.cli import main


def _orders(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(
        "customer_id,order_id,product_id,quantity,unit_price,ordered_at\n"
        "c1,o1,p1,2,10.5,2024-01-02T10:00:00\n",
        encoding="utf-8",
    )
    return str(path)


def test_import_sets_the_identity_and_info_shows_it(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 's.db'}"
    assert (
        main(
            [
                "import",
                "--db",
                url,
                "--orders",
                _orders(tmp_path),
                "--store-name",
                "Corner shop",
                "--currency",
                "eur",
                "--timezone",
                "Europe/Paris",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["info", "--db", url]) == 0
    out = capsys.readouterr().out
    assert "Corner shop" in out and "EUR" in out and "Europe/Paris" in out
    assert "€21.00" in out  # revenue in the store's currency
    assert main(["info", "--db", url, "--json", "--description", "Fresh bread"]) == 0
    store = json.loads(capsys.readouterr().out)["store"]
    assert store == {
        "name": "Corner shop",
        "currency": "EUR",
        "timezone": "Europe/Paris",
        "description": "Fresh bread",
        "is_default": False,
    }


def test_an_imported_store_is_named_after_its_folder_and_told_how_to_rename_it(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 's.db'}"
    folder = tmp_path / "corner_shop-exports"
    folder.mkdir()
    assert main(["import", "--db", url, "--orders", _orders(folder)]) == 0
    assert "--store-name" in capsys.readouterr().err
    assert main(["info", "--db", url, "--json"]) == 0
    store = json.loads(capsys.readouterr().out)["store"]
    assert store["name"] == "Corner shop exports"
    assert store["currency"] == "USD" and store["timezone"] == "UTC"
    # A second import keeps the name (even from another folder); --currency changes only that.
    assert main(["import", "--db", url, "--orders", _orders(tmp_path), "--currency", "GBP"]) == 0
    capsys.readouterr()
    assert main(["info", "--db", url, "--json"]) == 0
    store = json.loads(capsys.readouterr().out)["store"]
    assert (store["name"], store["currency"]) == ("Corner shop exports", "GBP")


def test_a_folder_that_says_nothing_gives_my_store():
    from dashboard.cli.import_cmd import folder_name

    assert folder_name({"orders": "/tmp/orders.csv", "events": None}) == "My store"
    assert folder_name({"orders": None, "events": "/srv/dunnhumby/events.csv"}) == "Dunnhumby"


def test_a_bad_currency_refuses_the_import_before_anything_is_written(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 's.db'}"
    assert (
        main(["import", "--db", url, "--orders", _orders(tmp_path), "--currency", "dollars"]) == 2
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "invalid currency 'dollars'" in err and "USD" in err
    assert main(["info", "--db", url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["orders"] == 0


def test_a_bad_time_zone_is_one_line_with_the_nearest_names(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 's.db'}"
    assert main(["info", "--db", url, "--timezone", "America/New_Yrok"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "America/New_York" in err
