"""Secrets, errors, timeouts and resuming: one clear line, the key never shown."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from testkit import start_emulator
from tl_integrations import TwelveLabs
from tl_integrations._cli import main
from tl_integrations.emulator import Emulator

CLI = Callable[..., Any]  # the `cli` fixture: (*argv) -> Run(code, out, err)
KEY = "tlk_CLI_SECRET_7f3a9c2e51d84b06"


@pytest.fixture
def locked_emulator(request: pytest.FixtureRequest) -> Emulator:
    """An emulator that accepts only :data:`KEY`."""
    return start_emulator(request, api_key=KEY, speed=200.0)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_the_key_never_appears_in_any_output(
    locked_emulator: Emulator,
    videos: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    remote = ["--api-key", KEY, "--base-url", locked_emulator.base_url]
    video = str(videos["pasta.mp4"])
    runs = [
        ["--debug", *remote, "index", video, "--index", "secret"],
        [*remote, "--json", "index", video, "--index", "secret"],
        [*remote, "search", "--index", "secret", "pasta", "--debug"],
        [*remote, "embed", video, "-o", str(tmp_path / "a.npz"), "--debug"],
        [*remote, "wait", "aaaaaaaaaaaaaaaaaaaaaaaa", "--debug"],
    ]
    for argv in runs:
        code, output = _run(capsys, *argv)
        assert KEY not in output, argv
        assert code in (0, 1), (argv, output)
    assert "embedded emulator" not in output  # a key was given: no emulator of our own


def test_a_rejected_key_is_one_line_without_the_key(
    locked_emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = "tlk_WRONG_4411aa99"
    argv = ["--api-key", wrong, "--base-url", locked_emulator.base_url]
    code = main([*argv, "search", "--index", "talks", "anything"])
    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert "API key was rejected" in lines[0]
    assert wrong not in captured.err

    assert main([*argv, "--debug", "search", "--index", "talks", "anything"]) == 1
    debug = capsys.readouterr().err
    assert "Traceback" in debug
    assert wrong not in debug


def test_base_url_without_a_key_is_a_usage_error(cli: CLI) -> None:
    result = cli("--base-url", "http://127.0.0.1:9/v1.3", "search", "--index", "x", "q")
    assert result.code == 2
    assert "needs an API key" in result.err


def test_index_timeout_is_not_a_failure_and_its_resume_command_works(
    cli: CLI, videos: dict[str, Path]
) -> None:
    video = str(videos["stars.mp4"])
    # Given after the fixture's flag, this speed wins: the upload and indexing take seconds.
    slow = ["--emulator-speed", "3"]
    first = cli(*slow, "index", video, "--index", "talks", "--timeout", "0.2", "--json")
    assert first.code == 1
    (failure,) = json.loads(first.out)["failed"]
    assert failure["input"] == video
    assert failure["status"] == "timed out"  # not drawn as failed
    job_ids = {k: v for k, v in failure.items() if k in ("asset_id", "indexed_asset_id")}
    assert len(job_ids) == 1, failure  # the job still running, whichever stage it reached
    assert f"timed out: {video}" in first.err
    assert "1 timed out in " in first.err
    assert "run the same command again to resume (nothing is uploaded twice)" in first.err

    prog, *resume = shlex.split(failure["resume"])
    assert prog == "tl-integrations"
    again = cli(*resume, "--json")
    assert again.code == 0, again.err
    if resume[0] == "index":
        (row,) = json.loads(again.out)["results"]
        assert row["status"] == "indexed"
    listed = json.loads(cli("list", "assets", "--json").out)["results"]
    assert len(listed) == 1  # resumed, not uploaded again


def test_wait_on_a_ready_video_answers_whatever_the_deadline(
    cli: CLI, videos: dict[str, Path]
) -> None:
    video = str(videos["pasta.mp4"])
    fast = cli("index", video, "--index", "talks", "--json")
    video_id = json.loads(fast.out)["results"][0]["video_id"]
    # A ready video: wait answers at once, whatever the deadline.
    done = cli("wait", "--index", "talks", video_id, "--timeout", "0.001", "--json")
    assert done.code == 0, done.err
    assert json.loads(done.out)["results"][0]["status"] == "ready"


def test_emulator_command_delegates_its_flags(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["emulator", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--speed" in out
    assert "--data-dir" in out
    assert main(["emulator", "--port", "not-a-port"]) == 2


def test_failed_tasks_are_named_by_index_and_wait(
    emulator_for: Callable[..., Emulator],
    videos: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    emulator = emulator_for(failure_rate=1.0, speed=200.0)
    remote = ["--api-key", "any", "--base-url", emulator.base_url]
    paths = [str(p) for p in videos.values()]
    code = main([*remote, "--json", "index", *paths, "--index", "doomed"])
    captured = capsys.readouterr()
    assert code == 1
    report = json.loads(captured.out)
    assert report["results"] == []
    assert sorted(f["input"] for f in report["failed"]) == sorted(paths)
    for path in paths:
        assert f"failed: {path}: indexed asset " in captured.err
    video = report["failed"][0]["indexed_asset_id"]  # the failed job, for scripts

    assert main([*remote, "wait", "--index", "doomed", video]) == 1
    assert f"failed: {video}: indexed asset failed" in capsys.readouterr().err

    # The older one-step upload (/tasks) is waited on by task id.
    with TwelveLabs("any", base_url=emulator.base_url) as client:
        index = client.indexes.get_or_create("doomed")
        task = client.tasks.create(index_id=index.id, file=paths[0])
    assert main([*remote, "wait", task.id]) == 1
    assert f"failed: {task.id}: task failed" in capsys.readouterr().err
