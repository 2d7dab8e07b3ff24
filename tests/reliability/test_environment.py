"""Environment faults are one sentence with exit 2, and never echo a password."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.cli import main

ORDERS = "customer_id,order_id,product_id,quantity,unit_price,ordered_at\nc1,o1,p1,1,2,2024-01-01\n"


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("postgresql+psycopg//user:secret@h/db", "invalid database URL <unreadable URL starting"),
        ("postgresql+psycopg://u:secret@127.0.0.1:abc/db", "invalid database URL"),
        ("mysql://u:secret@h/db", "unsupported database 'mysql'"),
        ("postgresql+psycopg://u:secret@127.0.0.1:1/db", "cannot open database"),
    ],
)
def test_a_bad_url_is_one_line_without_its_password(capsys, url, words):
    assert main(["info", "--db", url]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err
    assert "secret" not in err


def test_a_file_that_is_not_a_store_is_named_as_such(tmp_path: Path, capsys):
    path = tmp_path / "notes.db"
    path.write_text("shopping list\n" * 200)
    assert main(["info", "--db", f"sqlite:///{path}"]) == 2
    assert "the store file is not a database" in capsys.readouterr().err


def test_a_read_only_store_is_one_sentence_and_stays_intact(tmp_path: Path, capsys):
    orders = tmp_path / "o.csv"
    orders.write_text(ORDERS)
    store = tmp_path / "s.db"
    assert main(["import", "--db", f"sqlite:///{store}", "--orders", str(orders)]) == 0
    before = store.read_bytes()
    capsys.readouterr()
    read_only = f"sqlite:///file:{store}?mode=ro&uri=true"
    assert main(["score", "--db", read_only]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert errors == [
        "personalize score: error: the store is read-only: check the permissions of the store "
        "file and of its directory (SQLite writes a -wal file beside it), or point --db at a "
        "writable store"
    ]
    assert store.read_bytes() == before
