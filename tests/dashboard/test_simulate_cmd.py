"""``personalize simulate``: one-line errors for bad options, a short run, Ctrl-C stops cleanly."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.db import open_store
from engine.models import Event, Order

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def url(seeded_db_url, tmp_path) -> str:
    path = tmp_path / "live.db"
    shutil.copy(seeded_db_url.removeprefix("sqlite:///"), path)
    return f"sqlite:///{path}"


def _cli(*args: str, **kw) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dashboard.cli", "simulate", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        **kw,
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["--speed", "0"], "invalid --speed '0'"),
        (["--speed", "fast"], "invalid --speed 'fast'"),
        (["--minutes", "-1"], "invalid --minutes '-1'"),
        (["--seed", "x"], "invalid --seed 'x'"),
        (["--follow", "nobody"], "unknown customer 'nobody'"),
    ],
)
def test_bad_options_are_one_line(url, args, message):
    done = _cli(*args, "--db", url)
    assert done.returncode == 2 and done.stdout == ""
    lines = [line for line in done.stderr.splitlines() if "error" in line]
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in done.stderr


def _counts(url: str) -> tuple[int, int, int]:
    engine = open_store(url)
    with engine.connect() as connection:
        events = connection.scalar(
            select(func.count()).select_from(Event).where(Event.event_id.like("sim%"))
        )
        purchases = connection.scalar(
            select(func.count())
            .select_from(Event)
            .where(Event.event_id.like("sim%"), Event.event_type == "purchase")
        )
        orders = connection.scalar(
            select(func.count()).select_from(Order).where(Order.order_id.like("trk-sim%"))
        )
    engine.dispose()
    return events, purchases, orders


def test_a_short_run_reports_what_it_wrote(url):
    done = _cli("--minutes", "0.05", "--speed", "86400", "--json", "--db", url)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["source"] == "planted" and summary["events"] > 0
    events, purchases, orders = _counts(url)
    assert events == summary["events"] and purchases == orders == summary["purchases"]


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "kill"])
def test_ctrl_c_stops_after_the_event_being_written(url, stop):
    # started as a non-interactive shell starts a background job: SIGINT ignored
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dashboard.cli",
            "simulate",
            "--minutes",
            "5",
            "--speed",
            "86400",
            "--db",
            url,
        ],
        cwd=ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        preexec_fn=_ignore_sigint,
    )
    deadline = time.monotonic() + 120
    while _counts(url)[0] < 20 and time.monotonic() < deadline:
        time.sleep(0.3)
    proc.send_signal(stop)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in out
    events, purchases, orders = _counts(url)
    assert events >= 20 and purchases == orders
