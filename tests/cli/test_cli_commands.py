"""index, wait, embed and search against the embedded emulator, in-process."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

CLI = Callable[..., Any]  # the `cli` fixture: (*argv) -> Run(code, out, err)


def test_index_prints_video_ids_and_rerun_skips(cli: CLI, videos: dict[str, Path]) -> None:
    paths = [str(p) for p in videos.values()]
    first = cli("index", *paths, "--index", "talks", "--json")
    assert first.code == 0, first.err
    assert "embedded emulator" in first.err
    report = json.loads(first.out)
    assert report["ok"] is True
    assert [r["input"] for r in report["results"]] == paths  # in input order
    assert all(r["status"] == "indexed" and r["video_id"] for r in report["results"])

    again = cli("index", *paths, "--index", "talks", "--json")
    assert again.code == 0, again.err
    rerun = json.loads(again.out)["results"]
    assert [r["status"] for r in rerun] == ["already indexed"] * 2
    assert [r["video_id"] for r in rerun] == [r["video_id"] for r in report["results"]]


def test_index_human_output_is_a_table(cli: CLI, videos: dict[str, Path]) -> None:
    result = cli("index", str(videos["pasta.mp4"]), "--index", "talks")
    assert result.code == 0, result.err
    header, row = result.out.strip().splitlines()
    assert header.split() == ["INPUT", "STATUS", "VIDEO", "ASSET"]
    assert row.split()[:2] == [str(videos["pasta.mp4"]), "indexed"]
    # The status board: one line per input, its task stages, then the video id.
    video_id = row.split()[2]
    (line,) = [line for line in result.err.splitlines() if "pasta.mp4" in line]
    assert re.search(r"validating( → \w+)* → ready\s+\d+\.\d s\s+video ", line), line
    assert line.endswith(f"video {video_id}")
    assert "uploading" not in line
    assert re.search(r"\n1 indexed in \d+\.\d s\.\n$", result.err)


def test_cli_and_demo_use_no_private_client_members() -> None:
    # They follow ingestion through IngestOptions.on_status, not by swapping client.tasks.
    import tl_integrations._cli
    import tl_integrations._cli.demo

    private = re.compile(r"_tasks_(sync|async)|\bclient\._|\.tasks\s*=|_observe")
    for package in (tl_integrations._cli, tl_integrations._cli.demo):
        for path in Path(str(package.__file__)).parent.glob("*.py"):
            assert not private.search(path.read_text()), path


def test_missing_file_exits_1_naming_it_before_any_upload(
    cli: CLI, videos: dict[str, Path], tmp_path: Path, data_dir: Path
) -> None:
    missing = tmp_path / "nope.mp4"
    result = cli("index", str(videos["pasta.mp4"]), str(missing), "--index", "talks")
    assert result.code == 1
    failures = [line for line in result.err.splitlines() if "failed:" in line]
    assert len(failures) == 1
    assert str(missing) in failures[0]
    assert "Nothing was uploaded" in result.err
    assert not data_dir.exists()  # the emulator was never even started


def test_wait_reports_ready_and_unknown_videos(cli: CLI, videos: dict[str, Path]) -> None:
    indexed = cli("index", str(videos["stars.mp4"]), "--index", "talks", "--json")
    video_id = json.loads(indexed.out)["results"][0]["video_id"]
    unknown = "0123456789abcdef01234567"
    result = cli("wait", "--index", "talks", video_id, unknown, "--json")
    assert result.code == 1
    report = json.loads(result.out)
    assert [r["id"] for r in report["results"]] == [video_id]
    assert report["results"][0]["filename"] == "stars.mp4"
    (failure,) = report["failed"]
    assert failure["input"] == unknown
    assert failure["error"] == "no such video in that index"
    assert failure["code"]  # the API's error code, for scripts
    assert f"failed: {unknown}: no such video in that index" in result.err


def test_wait_on_only_unknown_ids_exits_1(cli: CLI) -> None:
    result = cli("wait", "aaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbb")
    assert result.code == 1
    assert result.out == ""
    assert result.err.count("no such indexing task (for a video made by `index`, add --index") == 2


def test_wait_on_a_missing_index_names_it(cli: CLI) -> None:
    result = cli("wait", "--index", "nope", "aaaaaaaaaaaaaaaaaaaaaaaa")
    assert result.code == 1
    assert "no index named 'nope'; list them with: tl-integrations list indexes" in result.err


def test_embed_writes_an_npz_that_loads(cli: CLI, videos: dict[str, Path], tmp_path: Path) -> None:
    from tl_integrations import VideoEmbedding

    out = tmp_path / "pasta.vectors"  # no .npz suffix: the exact name is kept
    result = cli("embed", str(videos["pasta.mp4"]), "--clip-length", "3", "-o", str(out))
    assert result.code == 0, result.err
    assert f"Wrote {out}" in result.out
    ve = VideoEmbedding.load(out)
    assert ve.model_name == "marengo3.0"
    assert ve.dim == 512
    assert ve.vectors.dtype == np.float32
    assert sorted(set(ve.start_s.tolist())) == [0.0, 3.0]


def test_embed_json_and_missing_input(cli: CLI, videos: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "stars.npz"
    ok = cli("embed", str(videos["stars.mp4"]), "--model", "marengo2.7", "-o", str(out), "--json")
    assert ok.code == 0, ok.err
    row = json.loads(ok.out)["results"][0]
    assert (row["model"], row["dim"], row["output"]) == ("Marengo-retrieval-2.7", 1024, str(out))
    missing = cli("embed", str(tmp_path / "gone.mp4"), "-o", str(tmp_path / "x.npz"))
    assert missing.code == 1
    assert "gone.mp4" in missing.err
    assert not (tmp_path / "x.npz").exists()


def test_embed_into_missing_directory_is_a_usage_error(
    cli: CLI, videos: dict[str, Path], tmp_path: Path
) -> None:
    result = cli("embed", str(videos["stars.mp4"]), "-o", str(tmp_path / "no" / "x.npz"))
    assert result.code == 2
    assert "does not exist" in result.err


def test_search_finds_the_right_video(cli: CLI, videos: dict[str, Path]) -> None:
    paths = [str(p) for p in videos.values()]
    assert cli("index", *paths, "--index", "talks").code == 0
    result = cli("search", "--index", "talks", "Saturn rings of ice", "--limit", "3", "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["query"] == "Saturn rings of ice"
    best = report["results"][0]
    assert best["filename"] == "stars.mp4"
    assert best["start_s"] < 3.0

    human = cli("search", "--index", "talks", "boil the pasta", "--limit", "1")
    assert human.code == 0
    assert "pasta.mp4" in human.out.splitlines()[1]


def test_search_unknown_index_exits_1(cli: CLI) -> None:
    result = cli("search", "--index", "nothing-here", "anything")
    assert result.code == 1
    assert "nothing-here" in result.err
    assert "no index" in result.err


def test_embed_with_an_option_the_model_lacks_is_a_usage_error(
    cli: CLI, videos: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "x.npz"
    result = cli("embed", str(videos["stars.mp4"]), "-o", str(out), "--option", "smell")
    assert result.code == 2
    assert "smell" in result.err
    assert not out.exists()


def test_embed_takes_sound_pictures_and_documents(cli: CLI, tmp_path: Path) -> None:
    from tl_integrations import MediaEmbedding
    from tl_integrations.emulator import make_sample_audio, make_sample_image, make_sample_pdf

    sound = make_sample_audio(tmp_path / "tones.mp3", duration_s=8.0)
    picture = make_sample_image(tmp_path / "flag.png", ["red", "blue"])
    pages = make_sample_pdf(tmp_path / "slides.pdf", ["Saturn has rings.", "Jupiter has moons."])
    expected = {sound: ("audio", 512), picture: ("image", 256), pages: ("document", 512)}
    for source, (media, dim) in expected.items():
        out = tmp_path / f"{source.stem}.npz"
        sized = ["--model", "marengo3.5", "--dimension", "256"] if media == "image" else []
        result = cli("embed", str(source), "-o", str(out), *sized, "--json")
        assert result.code == 0, result.err
        row = json.loads(result.out)["results"][0]
        assert (row["media"], row["dim"]) == (media, dim)
        loaded = MediaEmbedding.load(out)
        assert loaded.input_type == media
        assert loaded.vectors.shape[1] == dim
    assert json.loads(cli("list", "assets", "--json").out)["results"] == []  # none left behind


def test_embed_refuses_what_it_cannot_tell_or_use(cli: CLI, tmp_path: Path) -> None:
    from tl_integrations.emulator import make_sample_image

    odd = tmp_path / "data.bin"
    odd.write_bytes(b"\0" * 16)
    unknown = cli("embed", str(odd), "-o", str(tmp_path / "x.npz"))
    assert unknown.code == 2
    assert "add --media" in unknown.err
    picture = make_sample_image(tmp_path / "flag.png", ["red"])
    clipped = cli("embed", str(picture), "--clip-length", "4", "-o", str(tmp_path / "x.npz"))
    assert clipped.code == 2
    assert "a picture gives one vector" in clipped.err
    sized = cli("embed", str(picture), "--dimension", "256", "-o", str(tmp_path / "x.npz"))
    assert sized.code == 2  # marengo3.0 has one size
    assert "marengo3.5" in sized.err
