"""Two offline ``tl-integrations index`` commands at once share the embedded emulator's state
directory: both succeed and every acknowledged video survives, each under its own id."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from tl_integrations.emulator import Emulator

from .conftest import Media, report, server_truth

FAILSAFE_S = 300.0  # only reached when a command hangs


def _index(data: Path, videos: list[Path]) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWELVELABS_")}
    command = [sys.executable, "-m", "tl_integrations._cli", "--data-dir", str(data)]
    return subprocess.Popen(
        [
            *command,
            "--emulator-speed",
            "200",
            "index",
            *map(str, videos),
            "--index",
            "talks",
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_two_offline_index_commands_at_once_keep_every_video(tmp_path: Path, media: Media) -> None:
    data = tmp_path / "cache" / "emulator"
    first, second = list(media.videos[:6]), list(media.videos[6:11])
    runs = [_index(data, first), _index(data, second)]  # started together, not one by one
    outcomes = [run.communicate(timeout=FAILSAFE_S) for run in runs]
    for run, (_, err) in zip(runs, outcomes, strict=True):
        assert run.returncode == 0, err
    ids = {}
    for out, _ in outcomes:
        for result in json.loads(out)["results"]:
            ids[result["input"]] = result["video_id"]
    assert sorted(ids) == sorted(map(str, first + second))
    assert len(set(ids.values())) == 11  # no id given to two files

    with Emulator(data_dir=data) as emu:
        truth = server_truth(emu)
        stored = set(emu._app().emulator.backend.store.records.videos)
    sha = {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in first + second}
    assert sorted(truth.hashes) == sorted(sha.values())  # all 11 survived ...
    assert set(truth.hashes.values()) == {1}  # ... once each
    assert set(ids.values()) <= stored  # under the ids the commands printed
    waited = sum("Waiting: the data directory" in err for _, err in outcomes)
    report("two offline index commands", videos=len(stored), distinct_ids=11, waited=waited)
