"""``personalize serve``: what it hands uvicorn, and its refusals in one line (no server
is started: uvicorn.run is recorded instead)."""

from __future__ import annotations

import pytest
import uvicorn

from dashboard.cli import main


@pytest.fixture
def launched(monkeypatch):
    calls: list[tuple[object, dict]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: calls.append((app, kwargs)))
    return calls


def test_defaults_are_this_machine_only_and_no_access_log(tmp_path, launched, capsys):
    assert main(["serve", "--db", f"sqlite:///{tmp_path / 's.db'}"]) == 0
    ((app, kwargs),) = launched
    assert kwargs["host"] == "127.0.0.1" and kwargs["port"] == 8000
    assert kwargs["access_log"] is False
    assert app.title == "personalize storefront API"
    assert "OpenAPI docs at /docs" in capsys.readouterr().err


def test_options_reach_the_server(tmp_path, launched, monkeypatch):
    monkeypatch.setenv("PERSONALIZE_API_ACCESS_LOG", "true")
    assert (
        main(
            [
                "serve",
                "--db",
                f"sqlite:///{tmp_path / 's.db'}",
                "--port",
                "9001",
                "--host",
                "0.0.0.0",
            ]
        )
        == 0
    )
    assert main(["serve", "--db", f"sqlite:///{tmp_path / 's.db'}", "--access-log"]) == 0
    assert [(k["host"], k["port"], k["access_log"]) for _, k in launched] == [
        ("0.0.0.0", 9001, True),
        ("127.0.0.1", 8000, True),
    ]


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--port", "70000"], "invalid port 70000; valid values: 1..65535"),
        (["--refit-every", "-1"], "invalid --refit-every -1: expected seconds >= 0"),
    ],
)
def test_mistakes_are_one_line_and_exit_2(tmp_path, launched, capsys, argv, words):
    assert main(["serve", "--db", f"sqlite:///{tmp_path / 's.db'}", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"personalize serve: error: {words}" and not launched


def test_a_bad_store_url_is_one_line(launched, capsys):
    assert main(["serve", "--db", "not a url"]) == 2
    assert "invalid database URL" in capsys.readouterr().err and not launched
