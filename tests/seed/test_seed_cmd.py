"""``personalize seed`` end to end on a small market."""

from __future__ import annotations

import json

import pandas as pd
from sqlalchemy import func, select

from dashboard.cli import main
from engine.db import open_store
from engine.models import Customer, Order
from engine.profiles.scoring import SCORES

SMALL = ["--customers", "80", "--products", "40", "--days", "30"]


def test_seed_writes_the_store_and_the_truth(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    truth = tmp_path / "out" / "truth.csv"
    assert main(["seed", *SMALL, "--seed", "3", "--db", url, "--truth", str(truth)]) == 0
    out, err = capsys.readouterr()
    assert "customers" in out and str(truth) in out
    assert "writing" in err and len(err.splitlines()) < 25  # compact progress, no flood
    engine = open_store(url)
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Customer)) == 80
        assert connection.scalar(select(func.count()).select_from(Order)) > 0
    engine.dispose()
    frame = pd.read_csv(truth, keep_default_na=False)
    # The contract: customer_id, traits, then one latent propensity per score, named as it.
    assert list(frame.columns) == ["customer_id", "traits", *SCORES]
    assert len(frame) == 80 and frame["customer_id"].iloc[0] == "C00001"
    latent = frame[list(SCORES)]
    assert latent.notna().all().all() and (latent >= 0).all().all()
    shares = [
        s for s in SCORES if s not in ("lifetime_value", "purchase_frequency", "research_intensity")
    ]
    assert (latent[shares] <= 1).all().all()
    listed = set(";".join(frame["traits"]).split(";")) - {""}
    assert "lapsed" in listed


def test_seed_refuses_a_non_empty_store_then_resets_with_json(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    assert main(["seed", *SMALL, "--db", url]) == 0
    capsys.readouterr()
    assert main(["seed", *SMALL, "--db", url]) == 2
    err = capsys.readouterr().err
    assert "--reset" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert main(["seed", *SMALL, "--seed", "9", "--db", url, "--reset", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["rows"]["customers"] == 80
    assert document["seed"] == 9 and document["end"].startswith("2026-11-01")


def test_invalid_values_are_one_line_errors(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    for argv in (["--customers", "0"], ["--days", "-3"], ["--products", "many"], ["--seed", "-1"]):
        try:
            code = main(["seed", *argv, "--db", url])
        except SystemExit as exc:  # argparse exits for usage errors
            code = exc.code
        assert code == 2
        err = capsys.readouterr().err
        assert argv[0] in err and len(err.strip().splitlines()) == 1


def test_sizes_are_bounded_and_a_market_too_big_for_memory_is_refused(
    tmp_path, capsys, monkeypatch
):
    from dashboard.cli import seed_cmd

    url = f"sqlite:///{tmp_path / 'store.db'}"
    for argv, said in (
        (["--days", "99999"], "invalid days 99,999: at most 3,650"),
        (["--customers", "5000000"], "at most 2,000,000"),
        (["--days", "1e9"], "--days"),
    ):
        try:
            code = main(["seed", *argv, "--db", url])
        except SystemExit as exc:
            code = exc.code
        assert code == 2
        assert said in capsys.readouterr().err
    # 1 GiB free: a market estimated above it is refused before anything is generated
    monkeypatch.setattr(seed_cmd, "_available_memory_bytes", lambda: 2**30)
    assert main(["seed", "--customers", "100000", "--days", "365", "--db", url]) == 2
    err = capsys.readouterr().err
    assert "needs about" in err and "use fewer --customers or --days" in err
    assert not (tmp_path / "store.db").exists()
