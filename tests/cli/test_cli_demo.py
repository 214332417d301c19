"""The demo end to end, in-process, on the embedded emulator; and its real-API guard."""

from __future__ import annotations

import io
import re

import pytest

from tl_integrations._cli import main
from tl_integrations._cli.demo import QUESTIONS

# The demo's videos: those of the public sample_videos (its documented names and order).
SAMPLE_NAMES = ("cooking.mp4", "football.mp4", "astronomy.mp4")


def _answers(out: str) -> dict[str, str]:
    """Map each question to the line of its best answer."""
    lines = out.splitlines()
    answers = {}
    for i, line in enumerate(lines):
        if line.strip().startswith("Q: "):
            answers[line.strip()[3:]] = lines[i + 1]
    return answers


def test_demo_runs_end_to_end_offline(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--emulator-speed", "25", "demo"]) == 0
    out = capsys.readouterr().out
    assert "running offline on the embedded emulator" in out
    for step in ("1. Make", "2. Index", "3. A few", "4. Embed", "5. Ask", "What happened"):
        assert step in out
    for name in SAMPLE_NAMES:
        assert re.search(rf"{re.escape(name)}\s.*ready", out)  # the status board
    assert re.search(r"transcript\s+0\.0–6\.0 s", out)
    assert "summary" in out
    assert "chapter" in out
    answers = _answers(out)
    assert list(answers) == list(QUESTIONS)
    expected = ["cooking.mp4", "astronomy.mp4", "football.mp4"]
    for (question, line), video in zip(answers.items(), expected, strict=True):
        assert video in line, question
        assert "<- best" in line
    assert re.search(r"tasks\s+3 videos uploaded and indexed, 3 embedding tasks", out)
    assert re.search(r"requests\s+\d+ to the emulator", out)
    assert all(len(line) <= 100 for line in out.splitlines())


def test_demo_with_a_key_refuses_without_a_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWELVELABS_API_KEY", "tlk_DEMO_KEY_never_printed")
    # Unroutable: the demo must stop before sending anything.
    monkeypatch.setenv("TWELVELABS_BASE_URL", "http://127.0.0.1:9/v1.3")
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["demo"]) == 2
    captured = capsys.readouterr()
    assert "--yes" in captured.err
    assert "tlk_DEMO_KEY_never_printed" not in captured.out + captured.err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_demo_with_a_key_asks_first_and_stops_on_no(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tl_integrations._cli.demo import run_demo

    monkeypatch.setattr("sys.stdin", _Terminal())
    questions: list[str] = []

    def answer_no(prompt: str) -> str:
        questions.append(prompt)
        return "n"

    code = run_demo(api_key="tlk_x", base_url="http://127.0.0.1:9/v1.3", ask=answer_no)
    assert code == 2
    assert len(questions) == 1
    assert "credits" in questions[0]
    assert "tlk_x" not in questions[0]
    assert "Nothing done" in capsys.readouterr().err
