"""``personalize score | profile | segments | track`` on the hand-made store.

(Lives here because this suite owns the profile commands; it drives the CLI's ``main``.)
"""

from __future__ import annotations

import json

import pytest

from dashboard.cli import main
from engine.db import open_store, session_scope
from engine.profiles.scoring import SCORES

from .factories import build


@pytest.fixture
def url(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = open_store(url)
    with session_scope(engine) as session:
        build(session)
    engine.dispose()
    return url


def test_score_profile_segments_members(url, capsys):
    assert main(["score", "--db", url, "--as-of", "2024-02-01"]) == 0
    assert "scored 3 customers" in capsys.readouterr().out
    assert main(["profile", "c1", "--db", url, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["customer_id"] == "c1" and doc["source"] == "stored"
    assert set(doc["scores"]) >= {"lifetime_value", "mobile_usage"}
    assert doc["histories"]["searches"][0]["query"] == "coffee"
    assert main(["profile", "c1", "--db", url, "--as-of", "2024-01-07"]) == 0
    assert "(computed)" in capsys.readouterr().out
    assert main(["segments", "--db", url, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) == {"as_of", "sizes", "overlaps"}
    assert main(["segments", "--members", "--format", "csv", "--db", url]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "customer_id,segment"
    assert len(lines) - 1 == sum(s["size"] for s in doc["sizes"])


def test_score_csv_has_the_nine_scores_and_blanks_without_evidence(url, capsys):
    assert main(["score", "--db", url, "--as-of", "2024-02-01", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (
        "customer_id,lifetime_value,purchase_frequency,price_sensitivity,"
        "brand_loyalty,impulse_buying,research_intensity,weekend_shopping,"
        "night_shopping,mobile_usage"
    )
    rows = {line.split(",")[0]: line.split(",")[1:] for line in lines[1:]}
    assert set(rows) == {"c1", "c2", "c3"}
    # c3 signed up and did nothing: no score has evidence, so every field is empty.
    assert rows["c3"] == [""] * 9
    # c2 only browsed (stitched views): activity scores, but nothing about purchases.
    assert rows["c2"][0] == "" and rows["c2"][6] != ""
    assert all(value != "" for value in rows["c1"][:3])


def test_profile_before_a_customers_first_data_exits_2(url, capsys):
    # c1's first data is on 2024-01-01: as of that moment c1 is not a customer yet.
    assert main(["profile", "c1", "--db", url, "--as-of", "2024-01-01"]) == 2
    assert "no data before 2024-01-01" in capsys.readouterr().err


def test_unknown_customer_exits_2(url, capsys):
    assert main(["profile", "nobody", "--db", url]) == 2
    assert "unknown customer 'nobody'" in capsys.readouterr().err


def test_track_event_file_and_refusal(url, tmp_path, capsys):
    good = {
        "event_type": "search",
        "customer_id": "c3",
        "query": "tea",
        "occurred_at": "2024-02-02T10:00:00",
        "event_id": "s1",
    }
    assert main(["track", "--db", url, "--event", json.dumps(good), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["status"] == "recorded"
    path = tmp_path / "events.jsonl"
    bad = {
        "event_type": "product_view",
        "customer_id": "c3",
        "product_id": "p1",
        "occurred_at": "2024-02-02T11:00:00",
        "device": "watch",
    }
    path.write_text(json.dumps(good | {"event_id": "s2"}) + "\n" + json.dumps(bad) + "\n")
    assert main(["track", "--db", url, "--file", str(path)]) == 2
    err = capsys.readouterr().err
    assert "events.jsonl:2" in err and "invalid device 'watch'" in err and "desktop" in err
    # Line 1 was valid but nothing of the file was written.
    assert main(["track", "--db", url, "--event", json.dumps(good | {"event_id": "s2"})]) == 0
    assert capsys.readouterr().out.startswith("recorded")


def test_evaluate_profiles_against_the_seeds_truth(small_market, seeded_db_url, tmp_path, capsys):
    from seed.writer import write_truth

    truth = write_truth(small_market, tmp_path / "truth.csv")
    assert (
        main(
            [
                "evaluate",
                "--only",
                "profiles",
                "--truth",
                str(truth),
                "--db",
                seeded_db_url,
                "--json",
            ]
        )
        == 0
    )
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) == {"profiles"}
    scores = {row["score"]: row for row in doc["profiles"]["scores"]}
    assert set(scores) == set(SCORES)
    # Even the small store's scores rank customers with their planted propensity.
    assert all(row["spearman"] > 0.5 for row in scores.values()), scores
    assert all(0 < row["given_share"] <= 1 for row in scores.values())
    segments = {row["segment"] for row in doc["profiles"]["segments"]}
    assert {"night_owl", "enthusiast"} <= segments
    assert (
        main(["evaluate", "--only", "profiles", "--truth", str(truth), "--db", seeded_db_url]) == 0
    )
    out = capsys.readouterr().out
    assert "Spearman" in out and "precision" in out and "brand_loyalty" in out


def test_evaluate_profiles_needs_a_truth_file_with_the_latent_columns(url, tmp_path, capsys):
    assert main(["evaluate", "--only", "profiles", "--db", url]) == 2
    assert "--truth FILE" in capsys.readouterr().err
    assert (
        main(["evaluate", "--only", "profiles", "--truth", str(tmp_path / "no.csv"), "--db", url])
        == 2
    )
    assert "not found" in capsys.readouterr().err
    old = tmp_path / "old.csv"
    old.write_text("customer_id,traits\nc1,night_owl\n")
    assert main(["evaluate", "--only", "profiles", "--truth", str(old), "--db", url]) == 2
    err = capsys.readouterr().err
    assert "lacks column(s) lifetime_value" in err and len(err.strip().splitlines()) == 1
