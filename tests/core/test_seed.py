"""The seed's first program runs unchanged except for its two import lines."""

from __future__ import annotations

import pathlib
import re
from typing import Any

import httpx
import pytest

import tl_integrations
from tl_integrations import AuthenticationError, NotFoundError, Task, TwelveLabs

from .fakeapi import BASE_URL, FakeTwelveLabs

SEED = pathlib.Path("/work/shared/seed/000_38f40ae21d74c34d.txt")
# The program as published, for when the seed file is not around (fresh clones).
PUBLISHED = """\
from twelvelabs import TwelveLabs
from twelvelabs.models.task import Task

# Initialize the TwelveLabs client with your API key
client = TwelveLabs(api_key="<YOUR_API_KEY>")

# Upload a video file by creating a video indexing task
task = client.task.create(
 index_id="<YOUR_INDEX_ID>",
 file="<YOUR_VIDEO_FILE>"
)
print(f"Task id={task.id}")

# Monitor the task status until the status is ready
def on_task_update(task: Task):
 print(f" Status={task.status}")

task.wait_for_done(sleep_interval=5, callback=on_task_update)

if task.status != "ready":
 raise RuntimeError(f"Indexing failed with status {task.status}")
print(f"The unique identifier of your video is {task.video_id}.")
"""


def seed_program() -> str:
    """The first program of the seed page, line numbers stripped, imports changed."""
    if SEED.exists():
        lines = SEED.read_text().splitlines()
        start = next(
            i for i, line in enumerate(lines) if line == "1from twelvelabs import TwelveLabs"
        )
        program: list[str] = []
        for line in lines[start:]:
            match = re.match(r"^(\d+)(.*)$", line)
            if not match or int(match.group(1)) != len(program) + 1:
                break
            program.append(match.group(2))
        source = "\n".join(program) + "\n"
    else:
        source = PUBLISHED
    source = source.replace(
        "from twelvelabs import TwelveLabs", "from tl_integrations import TwelveLabs"
    )
    return source.replace(
        "from twelvelabs.models.task import Task", "from tl_integrations import Task"
    )


@pytest.fixture
def seed_env(
    api: FakeTwelveLabs, monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> dict[str, str]:
    """Point ``tl_integrations.TwelveLabs`` at the fake API (transport, clock and sleep)."""

    class SeedTwelveLabs(TwelveLabs):
        def __init__(self, api_key: str | None = None, **kwargs: Any) -> None:
            super().__init__(
                api_key,
                base_url=BASE_URL,
                http_client=httpx.Client(transport=api.transport()),
                clock=api.clock,
                sleep=api.clock.sleep,
                **kwargs,
            )

    # Until the package exports them, stand in for the lead's `tl_integrations` exports.
    monkeypatch.setattr(tl_integrations, "TwelveLabs", SeedTwelveLabs, raising=False)
    if not hasattr(tl_integrations, "Task"):
        monkeypatch.setattr(tl_integrations, "Task", Task, raising=False)
    else:
        assert tl_integrations.Task is Task
    video = tmp_path / "lecture.mp4"
    video.write_bytes(b"\x00" * 4096)
    return {"<YOUR_INDEX_ID>": api.add_index(), "<YOUR_VIDEO_FILE>": str(video)}


def run_seed(api: FakeTwelveLabs, values: dict[str, str]) -> None:
    source = seed_program().replace("<YOUR_API_KEY>", api.api_key)
    for placeholder, value in values.items():
        source = source.replace(placeholder, value)
    exec(compile(source, "seed_program.py", "exec"), {"__name__": "__seed__"})


def test_the_seed_program_runs(
    api: FakeTwelveLabs, seed_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert "from tl_integrations import TwelveLabs" in seed_program()
    run_seed(api, seed_env)
    out = capsys.readouterr().out.splitlines()
    task = next(iter(api.tasks.values()))
    assert out[0] == f"Task id={task.id}"
    assert len(out) > 3
    assert all(line.startswith(" Status=") for line in out[1:-1])
    assert out[-2] == " Status=ready"
    assert out[-1] == f"The unique identifier of your video is {task.video_id}."
    assert set(api.clock.sleeps) == {5.0}  # the program's sleep_interval, on the fake clock


def test_the_seed_program_sees_a_failure(
    api: FakeTwelveLabs, seed_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    add_task = api.add_task
    monkeypatch.setattr(api, "add_task", lambda *a, **k: add_task(*a, **{**k, "final": "failed"}))
    with pytest.raises(RuntimeError, match="Indexing failed with status failed"):
        run_seed(api, seed_env)


def test_wait_for_done_raises_at_once_on_permanent_errors(
    api: FakeTwelveLabs, client: TwelveLabs
) -> None:
    fake = api.add_task(api.add_index(), ready_after_s=100.0)
    task = client.tasks.retrieve(fake.id)
    del api.tasks[fake.id]
    with pytest.raises(NotFoundError):
        task.wait_for_done(sleep_interval=5)
    api.api_key = "revoked"
    with pytest.raises(AuthenticationError):
        task.wait_for_done(sleep_interval=5)


def test_wait_for_done_rides_out_transient_errors(api: FakeTwelveLabs, client: TwelveLabs) -> None:
    fake = api.add_task(api.add_index(), ready_after_s=12.0)
    task = client.tasks.retrieve(fake.id)
    api.fail("GET", f"/tasks/{fake.id}", *[httpx.Response(503)] * 6)
    seen: list[str] = []
    assert task.wait_for_done(sleep_interval=5, callback=lambda t: seen.append(t.status)) is task
    assert task.status == "ready"
    assert seen[-1] == "ready"


def test_wait_for_done_checks_its_arguments(api: FakeTwelveLabs, client: TwelveLabs) -> None:
    fake = api.add_task(api.add_index())
    with pytest.raises(ValueError, match="sleep_interval"):
        client.tasks.retrieve(fake.id).wait_for_done(sleep_interval=0)
    with pytest.raises(ValueError, match="not bound"):
        Task.from_api({"_id": "t", "status": "pending"}).wait_for_done()
