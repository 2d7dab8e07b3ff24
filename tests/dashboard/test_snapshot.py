"""Snapshots of a view (dashboard/snapshot.py, `personalize snapshot`): the address drawn,
the sidebar control, and every way a snapshot can fail, said in one sentence."""

from __future__ import annotations

import argparse
import http.server
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import snapshot
from dashboard.cli import main
from dashboard.cli.snapshot_cmd import view

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "dashboard" / "app.py"


def _app(url: str, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("PERSONALIZE_DATABASE_URL", url)
    return AppTest.from_file(str(APP), default_timeout=60)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens there once the socket closes


def _expanders(at: AppTest) -> list[str]:
    return [e.label for e in at.sidebar.expander]


def test_the_address_is_the_share_link_marked_as_a_snapshot():
    url = snapshot.snapshot_url(
        "http://127.0.0.1:8501/",
        "recommendations",
        {"customer": "C&1", "weather": "rainy", "as_of": "2026-10-31"},
    )
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "http",
        "127.0.0.1:8501",
        "/recommendations",
    )
    assert parse_qs(parts.query) == {
        "customer": ["C&1"],
        "weather": ["rainy"],
        "as_of": ["2026-10-31"],
        "snapshot": ["1"],
    }
    assert snapshot.snapshot_url("http://h:1", "", {}) == "http://h:1/?snapshot=1"


def test_file_names_say_the_page_customer_and_day():
    params = {"customer": "C00042", "as_of": "2026-10-31", "weather": "rainy"}
    assert snapshot.file_stem("Customer profile", params) == "customer-profile-c00042-2026-10-31"
    assert snapshot.file_stem("Start here", {}) == "start-here"
    assert snapshot.file_stem("", {"customer": "../../"}) == "snapshot"


def test_no_chromium_is_said_before_any_browser_starts(tmp_path):
    missing = tmp_path / "no-chromium"
    assert str(missing) in (snapshot.unavailable(missing) or "")
    with pytest.raises(snapshot.SnapshotError, match="Snapshots need Chromium at"):
        snapshot.take("http://127.0.0.1:1/", chromium=missing)


def _require_chromium() -> None:
    if problem := snapshot.unavailable():
        pytest.skip(problem)


def test_an_unreachable_dashboard_is_one_sentence():
    _require_chromium()
    with pytest.raises(snapshot.SnapshotError) as caught:
        snapshot.take(f"http://127.0.0.1:{_closed_port()}/", timeout_s=60)
    message = str(caught.value)
    assert message.startswith("The snapshot browser failed: net::ERR_CONNECTION_REFUSED")
    assert "\n" not in message and "Page.goto" not in message


@contextmanager
def _blank_site() -> Iterator[str]:
    """A web page that never becomes a Streamlit app."""

    class Blank(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the handler's API
            body = b"<html><body>not a dashboard</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Blank)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_page_that_never_finishes_drawing_times_out_with_a_message():
    _require_chromium()
    with _blank_site() as base, pytest.raises(snapshot.SnapshotError) as caught:
        snapshot.take(f"{base}/?snapshot=1", timeout_s=5)
    assert str(caught.value) == (
        "The view did not finish drawing within 5 s: try again when the server is less busy."
    )


def test_the_sidebar_offers_a_snapshot_and_says_when_chromium_is_missing(
    seeded_db_url, monkeypatch, tmp_path
):
    monkeypatch.setenv("PERSONALIZE_CHROMIUM", str(tmp_path / "no-chromium"))
    at = _app(seeded_db_url, monkeypatch).run()
    assert not at.exception, [e.value for e in at.exception]
    assert _expanders(at)[-2:] == ["Share this view", "Snapshot"]
    assert at.button(key="snapshot_take").disabled
    said = " ".join(c.value for c in at.sidebar.caption)
    assert f"Snapshots need Chromium at {tmp_path / 'no-chromium'}" in said


def test_a_snapshot_s_own_view_has_no_sharing_tools(seeded_db_url, monkeypatch):
    at = _app(seeded_db_url, monkeypatch)
    at.query_params["snapshot"] = "1"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Snapshot" not in _expanders(at) and "Share this view" not in _expanders(at)
    assert at.sidebar.date_input  # the store and its day are still shown


def test_a_failed_snapshot_is_a_warning_in_the_page(seeded_db_url, monkeypatch):
    _require_chromium()
    monkeypatch.setattr(snapshot, "server_base", lambda: f"http://127.0.0.1:{_closed_port()}")
    at = _app(seeded_db_url, monkeypatch).run()
    at.button(key="snapshot_take").click().run(timeout=120)
    assert not at.exception, [e.value for e in at.exception]
    warnings = [w.value for w in at.sidebar.warning]
    assert any(
        w.startswith("The snapshot browser failed: net::ERR_CONNECTION_REFUSED") for w in warnings
    ), warnings
    assert not at.get("download_button")


def _args(**given: str | None) -> argparse.Namespace:
    fields = {"page": None, "customer": None, "as_of": None, "link": None}
    return argparse.Namespace(**{**fields, **given})


def test_the_command_reads_a_shared_link_or_a_page():
    link = "http://demo:8501/recommendations?customer=C00042&weather=rainy&as_of=2026-10-01"
    assert view(_args(link=link)) == (
        "/recommendations",
        {"customer": "C00042", "weather": "rainy", "as_of": "2026-10-01"},
    )
    assert view(_args(link="http://demo:8501/?customer=C1")) == ("/", {"customer": "C1"})
    assert view(_args()) == ("/", {})  # the tour is the app's default page, at /
    assert view(_args(page="start_here", as_of="2026-10-01")) == ("/", {"as_of": "2026-10-01"})
    assert view(_args(page="overview")) == ("/overview", {})


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--page", "nowhere"], "unknown page 'nowhere': expected one of audiences,"),
        (["--as-of", "2026-13-01"], "invalid as of '2026-13-01': expected a day as YYYY-MM-DD"),
        (["--out", "view.gif"], "cannot tell the format of 'view.gif'"),
        (["--link", "http://h/overview", "--customer", "C1"], "--link already names the page"),
        (["--width", "10"], "invalid --width 10: expected 320..4000 pixels"),
    ],
)
def test_the_command_refuses_a_mistake_in_one_line(argv, said, capsys):
    assert main(["snapshot", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert said in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_the_command_refuses_an_unknown_customer_before_starting_a_server(
    seeded_db_url, monkeypatch, capsys, tmp_path
):
    monkeypatch.setenv("PERSONALIZE_CHROMIUM", sys.executable)  # any file: no browser starts
    out = tmp_path / "view.png"
    assert (
        main(["snapshot", "--db", seeded_db_url, "--customer", "NOBODY-42", "--out", str(out)]) == 2
    )
    assert "unknown customer 'NOBODY-42'" in capsys.readouterr().err
    assert not out.exists()
