"""The CLI's outward behavior shared by every command (../shared/CONTRACT.md)."""

from __future__ import annotations

import json

import pytest

from dashboard.cli import main


def _one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    return lines[0]


def test_unknown_option_is_one_line_and_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["info", "--no-such-flag"])
    assert exc.value.code == 2
    assert "--no-such-flag" in _one_line(capsys.readouterr().err)


def test_bad_database_url_is_one_line_and_exit_2(capsys):
    assert main(["info", "--db", "not a url"]) == 2
    err = _one_line(capsys.readouterr().err)
    assert "invalid database URL" in err and "Traceback" not in err


def test_unreachable_server_masks_the_password(capsys):
    assert main(["info", "--db", "postgresql://alice:s3cret@127.0.0.1:1/x"]) == 2
    err = _one_line(capsys.readouterr().err)
    assert "s3cret" not in err and "***" in err


def test_info_json_is_one_document_on_stdout(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 's.db'}"
    assert main(["info", "--db", url, "--json"]) == 0
    out = capsys.readouterr().out
    document = json.loads(out)
    assert document["customers"] == 0 and document["backend"] == "sqlite"


def test_default_store_follows_the_environment(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PERSONALIZE_DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    assert main(["info", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["database"].endswith("env.db")
    assert (tmp_path / "env.db").exists()
