"""The status board and tables, without a server."""

from __future__ import annotations

import io
import itertools

from tl_integrations._cli.output import Console, StatusBoard, render_table
from tl_integrations._cli.report import Report


def _clock() -> itertools.count[float]:
    return itertools.count(0.0, 0.5)


def _last_frame(text: str) -> str:
    """What a terminal shows last: the text after the final cursor move, escapes removed."""
    import re

    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)


def test_live_board_shows_counts_rows_and_finished_lines() -> None:
    err = io.StringIO()
    ticks = _clock()
    board = StatusBoard(
        ["a.mp4", "bb.mp4"], console=Console(stderr=err), live=True, clock=lambda: next(ticks)
    )
    board.update("a.mp4", "validating")
    board.update("bb.mp4", "indexing")
    board.update("a.mp4", "ready", detail="video v1")
    board.close()  # draws its last frame
    shown = _last_frame(err.getvalue())
    assert "a.mp4   validating → ready" in shown  # the finished line stays above the bars
    assert "video v1" in shown
    assert "1 ready · 1 indexing" in shown  # the overall bar counts inputs by state
    assert "1/2" in shown
    assert "bb.mp4  indexing" in shown  # the row of the input still running


def test_live_board_counts_bytes_sent() -> None:
    err = io.StringIO()
    board = StatusBoard(["a.mp4"], console=Console(stderr=err), live=True, clock=lambda: 0.0)
    board.update("a.mp4", "uploading")
    board.sent("a.mp4", 5_000_000, 10_000_000)
    board.close()
    shown = _last_frame(err.getvalue())
    assert "5.0 MB/10.0 MB" in shown
    assert "a.mp4  uploading" in shown


def test_plain_board_prints_one_line_per_finished_task() -> None:
    err = io.StringIO()
    board = StatusBoard(["a.mp4", "b.mp4"], console=Console(stderr=err), live=False)
    for status in ("validating", "pending", "queued", "indexing", "ready"):
        board.update("a.mp4", status)
    board.update("b.mp4", "failed")
    board.update("b.mp4", "indexing")  # a late report after the end is ignored
    lines = err.getvalue().splitlines()
    assert len(lines) == 2
    assert "validating → pending → queued → indexing → ready" in lines[0]
    assert lines[1].split()[:2] == ["b.mp4", "failed"]


def test_statuses_between_stages_show_live_but_not_in_the_finished_line() -> None:
    live, plain = io.StringIO(), io.StringIO()
    boards = [
        StatusBoard(["a.mp4"], console=Console(stderr=live), live=True, clock=lambda: 0.0),
        StatusBoard(["a.mp4"], console=Console(stderr=plain), live=False, clock=lambda: 0.0),
    ]
    for board in boards:
        for status in ("hashing", "uploading", "validating", "indexing", "reading", "ready"):
            board.update("a.mp4", status)
        board.close()
    assert "a.mp4  validating → indexing → ready" in _last_frame(live.getvalue())
    reading = io.StringIO()
    board = StatusBoard(["a.mp4"], console=Console(stderr=reading), live=True)
    board.update("a.mp4", "indexing")
    board.update("a.mp4", "reading")
    board.close()
    assert "a.mp4  reading" in _last_frame(reading.getvalue())  # what it is doing now
    assert plain.getvalue() == "  a.mp4  validating → indexing → ready  0.0 s\n"


def test_live_board_scrubs_secrets() -> None:
    err = io.StringIO()
    console = Console(stderr=err, secrets=["tlk_s3cret_key"])
    board = StatusBoard(["tlk_s3cret_key.mp4"], console=console, live=True, clock=lambda: 0.0)
    board.update("tlk_s3cret_key.mp4", "ready")
    board.close()
    assert "tlk_s3cret_key" not in err.getvalue()


def test_console_scrubs_secrets_everywhere() -> None:
    out, err = io.StringIO(), io.StringIO()
    console = Console(stdout=out, stderr=err, secrets=["tlk_s3cret"])
    console.print("key tlk_s3cret")
    console.notice("tlk_s3cret!")
    console.emit_json({"k": "tlk_s3cret"})
    assert "tlk_s3cret" not in out.getvalue() + err.getvalue()


def test_report_tables_align_and_json_lists_failures() -> None:
    out, err = io.StringIO(), io.StringIO()
    report = Report(columns=("input", "video_id"))
    report.add({"input": "long-name.mp4", "video_id": "v1"})
    report.add({"input": "a.mp4", "video_id": None})
    report.fail("b.mp4", "no such file\nsecond line is dropped")
    assert report.emit(Console(stdout=out, stderr=err)) == 1
    assert out.getvalue().splitlines() == [
        "  INPUT          VIDEO ID",
        "  long-name.mp4  v1",
        "  a.mp4          -",
    ]
    assert err.getvalue() == "tl-integrations: failed: b.mp4: no such file\n"
    assert report.to_json()["failed"] == [
        {"input": "b.mp4", "status": "failed", "error": "no such file", "code": None}
    ]
    assert render_table([]) == []
