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


def test_every_command_s_help_line_is_the_one_its_module_registers():
    import argparse

    from dashboard.cli import COMMANDS, build_parser

    parser = build_parser()  # every module registered
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    registered = {choice.dest: choice.help for choice in sub._choices_actions}
    assert registered == {name: text for name, (_, text) in COMMANDS.items()}


def test_help_and_info_load_no_model_libraries(tmp_path):
    import subprocess
    import sys

    probe = (
        "import sys\nfrom dashboard.cli import main\ntry:\n    code = main(sys.argv[1:])\n"
        "finally:\n    print([m for m in ('sklearn', 'scipy', 'lightgbm', 'implicit', "
        "'streamlit', 'pandas', 'alembic', 'pydantic') if m in sys.modules])\n"
    )
    url = f"sqlite:///{tmp_path / 's.db'}"
    subprocess.run(
        [sys.executable, "-m", "dashboard.cli", "info", "--db", url],
        check=True,
        capture_output=True,
    )  # creates the store (runs the migrations once)
    for argv in (["info", "--db", url], ["--db", url, "info"]):
        done = subprocess.run(
            [sys.executable, "-c", probe, *argv], capture_output=True, text=True, check=True
        )
        assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout
    done = subprocess.run([sys.executable, "-c", probe, "--help"], capture_output=True, text=True)
    assert "COMMAND" in done.stdout and done.stdout.strip().splitlines()[-1] == "[]"


def test_global_options_may_come_before_the_command(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 's.db'}"
    assert main(["--db", url, "--json", "info"]) == 0
    assert json.loads(capsys.readouterr().out)["database"] == url
    assert main(["--db", url, "info", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["database"] == url
