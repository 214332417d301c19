"""The status board and tables, without a server."""

from __future__ import annotations

import io
import itertools

from tl_integrations._cli.output import Console, StatusBoard, render_table
from tl_integrations._cli.report import Report


def _clock() -> itertools.count[float]:
    return itertools.count(0.0, 0.5)


def test_live_board_redraws_rows_in_place() -> None:
    err = io.StringIO()
    ticks = _clock()
    board = StatusBoard(
        ["a.mp4", "bb.mp4"], console=Console(stderr=err), live=True, clock=lambda: next(ticks)
    )
    board.update("a.mp4", "validating")
    board.update("a.mp4", "validating")  # no change: no redraw
    board.update("bb.mp4", "indexing")
    board.update("a.mp4", "ready", detail="video v1")
    board.close()
    frames = err.getvalue().split("\x1b[2F")
    assert len(frames) == 4  # the first drawing, then one redraw per change
    last = frames[-1]
    assert "a.mp4   [■■■■■] ready" in last
    assert "video v1" in last
    assert "bb.mp4  [■■■■□] indexing" in last


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
    frames = live.getvalue().split("\x1b[1F")
    assert "[□□□□□] uploading" in frames[2]
    assert "[■■■■□] reading" in frames[5]
    assert "[■■■■■] ready" in frames[-1]
    assert plain.getvalue() == "  a.mp4  validating → indexing → ready  0.0 s\n"


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
    assert report.to_json()["failed"] == [{"input": "b.mp4", "error": "no such file"}]
    assert render_table([]) == []
