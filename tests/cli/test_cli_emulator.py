"""``tl-integrations emulator``: help like the other commands, one-line errors with their
exit status, and a quiet stop on Ctrl-C that frees the data directory."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tl_integrations._cli import main

FAILSAFE_S = 60.0  # only reached when the server does not stop


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["emulator", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _one_error_line(err: str, *parts: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("tl-integrations emulator: error: "), err
    for part in parts:
        assert part in lines[0], (part, err)


def test_help_looks_like_the_other_commands(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--help")
    assert code == 0
    usage, blank, sentence = out.splitlines()[:3]
    # As `tl-integrations index --help`: a short usage line, one sentence, the options,
    # then examples (and, as the main help, the exit status).
    assert (
        usage
        == "usage: tl-integrations emulator [--port N] [--data-dir DIR] [--api-key KEY] [options]"
    )
    assert (blank, sentence[-1]) == ("", ".")
    for section in ("options:", "examples:", "exit status:", "--allow-host NAME"):
        assert f"\n{section}" in out or f" {section}" in out, section
    assert "--api-key KEY" in out  # metavars as the other commands write them, not API_KEY


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--port", "70000"], "argument --port: must be 0 to 65535, got 70000"),
        (["--port", "http"], "argument --port: expected a whole number, got 'http'"),
        (["--faults", "500=lots"], "could not convert string to float"),
        (["--host", "0.0.0.0"], "give an API key (--api-key)"),
        (["--log-level", "chatty"], "argument --log-level: invalid choice"),
    ],
)
def test_usage_errors_exit_2_without_a_traceback(
    capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    code, out, err = _run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    usage, error = err.strip().splitlines()  # argparse's two lines, as for every command
    assert usage.startswith("usage: tl-integrations emulator")
    assert error.startswith("tl-integrations emulator: error: ")
    assert expected in error


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


def test_a_port_in_use_is_one_line(capsys: pytest.CaptureFixture[str], busy_port: int) -> None:
    code, _, err = _run(capsys, "--port", str(busy_port))
    assert code == 1
    _one_error_line(err, f"port {busy_port} on 127.0.0.1 is in use", "--port")


def test_an_address_not_of_this_machine_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "--host", "no-such-host.invalid", "--api-key", "k")
    assert code == 1
    _one_error_line(err, "cannot serve on 'no-such-host.invalid'")


def test_an_unusable_data_dir_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    code, _, err = _run(capsys, "--port", "0", "--data-dir", str(a_file))
    assert code == 1
    _one_error_line(err, str(a_file), "is a file")
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / "state.json").write_text("{")
    code, _, err = _run(capsys, "--port", "0", "--data-dir", str(damaged))
    assert code == 1
    _one_error_line(err, str(damaged / "state.json"), "is damaged", "move it aside")


def _serve(data: Path) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "tl_integrations._cli", "emulator", "--port", "0"]
    return subprocess.Popen(
        [*command, "--data-dir", str(data)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_stops_quietly_and_frees_the_data_dir(tmp_path: Path, stop: signal.Signals) -> None:
    from tl_integrations.emulator import Emulator

    data = tmp_path / "data"
    server = _serve(data)
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        assert first.startswith("TwelveLabs emulator: base_url http://127.0.0.1:"), first
        server.send_signal(stop)
        _, err = server.communicate(timeout=FAILSAFE_S)
    finally:
        server.kill()
    assert server.returncode == 0, err
    assert "Traceback" not in err
    assert err.strip().splitlines() == ["TwelveLabs emulator: stopped"]
    with Emulator(data_dir=data) as again:  # the directory is free
        assert again.stats()["requests_total"] == 0
