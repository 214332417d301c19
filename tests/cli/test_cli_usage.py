"""Usage of the command line: help everywhere, usage errors exit 2, nothing heavy imported."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tl_integrations._cli import main

COMMANDS = ["index", "wait", "embed", "search", "webhooks", "demo"]


def test_main_help_lists_every_command_with_examples(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in [*COMMANDS, "emulator"]:
        assert command in out
    assert "examples:" in out
    assert "exit status" in out


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_examples(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert f"tl-integrations {command}" in out
    assert "examples:" in out
    assert "--api-key" in out  # global flags are accepted after the command too


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("tl-integrations ")


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["frobnicate"],
        ["index", "a.mp4"],  # no --index
        ["index", "--index", "talks"],  # no input
        ["wait"],
        ["embed", "a.mp4"],  # no -o
        ["embed", "a.mp4", "-o", "x.npz", "--model", "marengo9"],
        ["embed", "a.mp4", "-o", "x.npz", "--clip-length", "11"],
        ["embed", "a.mp4", "-o", "x.npz", "--clip-length", "2.5"],
        ["search", "--index", "talks"],  # no query
        ["index", "a.mp4", "--index", ""],  # a blank index name
        ["search", "--index", "  ", "q"],
        ["search", "--index", "talks", "q", "--limit", "0"],
        ["search", "--index", "talks", "q", "--option", "smell"],
        ["wait", "t1", "--timeout", "-3"],
        ["index", "a.mp4", "--index", "x", "--no-such-flag"],
        ["demo", "--json"],
    ],
)
def test_usage_errors_exit_2_with_one_line(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "error:" in captured.err
    assert "Traceback" not in captured.err


def test_global_flags_work_before_and_after_the_command() -> None:
    from tl_integrations._cli.parser import build_parser

    parser = build_parser()
    before = parser.parse_args(["--json", "--api-key", "k", "wait", "t1"])
    after = parser.parse_args(["wait", "t1", "--json", "--api-key", "k"])
    assert (before.json, before.api_key) == (after.json, after.api_key) == (True, "k")


def test_help_imports_no_framework() -> None:
    code = (
        "import sys\n"
        "from tl_integrations._cli import main\n"
        "for argv in (['--help'], ['index', '--help'], ['demo', '--help']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = {'langchain_core', 'llama_index', 'av', 'starlette', 'uvicorn'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"
