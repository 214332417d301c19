"""Folders as inputs, list, delete, cache: through the CLI's own entry point."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tl_integrations._cli import main
from tl_integrations.emulator import Emulator

CLI = Callable[..., Any]  # the `cli` fixture: (*argv) -> Run(code, out, err)


@pytest.fixture
def folder(tmp_path: Path, videos: dict[str, Path]) -> Path:
    """talks/pasta.mp4, talks/more/stars.mp4, and files that are not videos."""
    root = tmp_path / "talks"
    (root / "more").mkdir(parents=True)
    shutil.copy(videos["pasta.mp4"], root / "pasta.mp4")
    shutil.copy(videos["stars.mp4"], root / "more" / "stars.mp4")
    (root / "notes.txt").write_text("not a video")
    (root / ".hidden.mp4").write_bytes(b"skipped: hidden")
    return root


def test_a_folder_means_its_videos_and_recursive_its_subfolders(cli: CLI, folder: Path) -> None:
    flat = cli("index", str(folder), "--index", "talks", "--json")
    assert flat.code == 0, flat.err
    assert [r["input"] for r in json.loads(flat.out)["results"]] == [str(folder / "pasta.mp4")]

    deep = cli("index", str(folder), "--recursive", "--index", "talks", "--json")
    assert deep.code == 0, deep.err
    rows = json.loads(deep.out)["results"]
    assert [r["input"] for r in rows] == [str(folder / "more/stars.mp4"), str(folder / "pasta.mp4")]
    assert [r["status"] for r in rows] == ["indexed", "already indexed"]


def test_a_glob_means_its_matches_and_an_empty_folder_is_refused(
    cli: CLI, folder: Path, tmp_path: Path, data_dir: Path
) -> None:
    pattern = str(folder / "**" / "*.mp4")
    result = cli("index", pattern, "--index", "talks", "--json")
    assert result.code == 0, result.err
    assert len(json.loads(result.out)["results"]) == 2

    (tmp_path / "empty").mkdir()
    shutil.rmtree(data_dir)
    empty = cli("index", str(tmp_path / "empty"), "--index", "talks")
    assert empty.code == 1
    assert "holds no video files" in empty.err
    assert "Nothing was uploaded" in empty.err
    assert not data_dir.exists()  # refused before the emulator started


def test_list_shows_indexes_videos_and_assets(cli: CLI, videos: dict[str, Path]) -> None:
    assert cli("list", "indexes").err.endswith("No indexes.\n")
    paths = [str(p) for p in videos.values()]
    indexed = json.loads(cli("index", *paths, "--index", "talks", "--json").out)["results"]

    indexes = cli("list", "indexes")
    assert indexes.code == 0, indexes.err
    header, row = indexes.out.strip().splitlines()
    assert header.split() == ["NAME", "ID", "MODELS", "VIDEOS", "CREATED"]
    assert row.split()[0] == "talks"

    listed = json.loads(cli("list", "videos", "--index", "talks", "--json").out)
    assert sorted(v["id"] for v in listed["results"]) == sorted(r["video_id"] for r in indexed)
    assert {v["filename"] for v in listed["results"]} == {"pasta.mp4", "stars.mp4"}
    assert {v["status"] for v in listed["results"]} == {"ready"}

    assets = json.loads(cli("list", "assets", "--limit", "1", "--json").out)["results"]
    assert len(assets) == 1
    assert assets[0]["id"] in {r["asset_id"] for r in indexed}


def test_list_videos_needs_an_index_that_exists(cli: CLI) -> None:
    assert cli("list", "videos").code == 2
    missing = cli("list", "videos", "--index", "nope")
    assert missing.code == 1
    assert "no index named 'nope'" in missing.err


def test_delete_asks_or_takes_yes_and_removes_one_thing(cli: CLI, videos: dict[str, Path]) -> None:
    indexed = json.loads(cli("index", str(videos["pasta.mp4"]), "--index", "talks", "--json").out)
    video_id = indexed["results"][0]["video_id"]

    unasked = cli("delete", "video", video_id, "--index", "talks")  # stdin is not a terminal
    assert unasked.code == 2
    assert "pass --yes" in unasked.err
    assert json.loads(cli("list", "videos", "--index", "talks", "--json").out)["results"]

    deleted = cli("delete", "video", video_id, "--index", "talks", "--yes", "--json")
    assert deleted.code == 0, deleted.err
    assert json.loads(deleted.out)["results"] == [{"deleted": "video", "id": video_id}]
    assert json.loads(cli("list", "videos", "--index", "talks", "--json").out)["results"] == []

    gone = cli("delete", "video", video_id, "--index", "talks", "--yes", "--json")
    assert gone.code == 1
    (failure,) = json.loads(gone.out)["failed"]
    assert failure["error"] == "no such video in 'talks'"
    assert failure["code"]  # the API's error code

    assert cli("delete", "index", "talks", "--yes").code == 0
    assert cli("list", "indexes").err.endswith("No indexes.\n")


def test_cache_shows_its_size_and_clear_removes_only_emulator_state(
    cli: CLI, videos: dict[str, Path], data_dir: Path, tmp_path: Path
) -> None:
    first = cli("index", str(videos["pasta.mp4"]), "--index", "talks")
    notice = f"Offline mode keeps a copy of uploaded media in {data_dir} (now "
    assert notice in first.err
    assert "remove it with: tl-integrations cache clear" in first.err
    again = cli("index", str(videos["pasta.mp4"]), "--index", "talks")
    assert notice not in again.err  # said when it grows, not on every command

    shown = json.loads(cli("cache", "--json").out)["results"][0]
    assert shown["path"] == str(data_dir)
    assert shown["bytes"] > videos["pasta.mp4"].stat().st_size  # the copy is in there

    assert cli("cache", "clear").code == 2  # not a terminal: needs --yes
    cleared = cli("cache", "clear", "--yes")
    assert cleared.code == 0, cleared.err
    assert not data_dir.exists()

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("precious")
    refused = main(["--data-dir", str(mine), "cache", "clear", "--yes"])
    assert refused == 2
    assert (mine / "thesis.tex").exists()


def test_an_empty_search_is_a_usage_error(cli: CLI) -> None:
    for query in ("", "   "):
        result = cli("search", "--index", "talks", query)
        assert result.code == 2
        assert "the query is empty" in result.err


def test_errors_in_json_mode_carry_the_api_code(
    emulator_for: Callable[..., Emulator], capsys: pytest.CaptureFixture[str]
) -> None:
    emulator = emulator_for(speed=200.0, api_key="tlk_the_right_key")
    argv = ["--api-key", "tlk_a_wrong_key", "--base-url", emulator.base_url, "--json"]
    code = main([*argv, "list", "indexes"])
    assert code == 1
    captured = capsys.readouterr()
    error = json.loads(captured.out)
    assert error["ok"] is False
    assert error["code"] == "api_key_invalid"
    assert "API key was rejected" in error["error"]
    assert "tlk_a_wrong_key" not in captured.out + captured.err


def test_a_short_key_does_not_mangle_the_output(
    emulator_for: Callable[..., Emulator],
    videos: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TWELVELABS_API_KEY", "a")  # any key works on the emulator
    emulator = emulator_for(speed=200.0)
    argv = ["--base-url", emulator.base_url, "--json", "index", str(videos["pasta.mp4"])]
    assert main([*argv, "--index", "name"]) == 0
    report = json.loads(capsys.readouterr().out)
    (row,) = report["results"]
    assert row["filename"] == "pasta.mp4"  # not "p***st***.mp4"
    assert len(row["video_id"]) == 24
    assert "*" not in row["video_id"]
