"""Fixtures for the command-line tests: an isolated environment, sample videos, a runner."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tl_integrations._cli import main

# Fast enough that a 6-second video is ready well within a second of polling.
SPEED = "200"


@dataclass(frozen=True)
class Run:
    """The outcome of one in-process ``tl-integrations`` call."""

    code: int
    out: str
    err: str


CLI = Callable[..., Run]


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No real key or base URL leaks in, and no state is written under the real ~/.cache."""
    monkeypatch.delenv("TWELVELABS_API_KEY", raising=False)
    monkeypatch.delenv("TWELVELABS_BASE_URL", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.fixture(scope="session")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two small distinct videos with subtitles, made once per session."""
    from tl_integrations.emulator import make_sample_video

    root = tmp_path_factory.mktemp("videos")
    specs = {
        "pasta.mp4": (["orange", "red"], "Boil the pasta in salted water.", "Add fresh basil."),
        "stars.mp4": (["black", "purple"], "Saturn has rings of ice.", "Jupiter has moons."),
    }
    made = {}
    for seed, (name, (scenes, first, second)) in enumerate(specs.items()):
        made[name] = make_sample_video(
            root / name,
            duration_s=6.0,
            fps=8,
            scenes=scenes,
            subtitles=[(0.0, 3.0, first), (3.0, 6.0, second)],
            seed=seed,
        )
    return made


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """The embedded emulator's state directory, shared by the calls of one test."""
    return tmp_path / "emulator"


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], data_dir: Path) -> CLI:
    """Run ``tl-integrations`` in-process on the embedded emulator; return code and output."""

    def run(*argv: str) -> Run:
        code = main(["--data-dir", str(data_dir), "--emulator-speed", SPEED, *argv])
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run
