"""Parameter checks made before any upload, and the model -> protocol mapping."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from tl_integrations import InvalidRequestError, InvalidVideoError
from tl_integrations._embed.params import (
    MODELS,
    normalize_options,
    normalize_scopes,
    resolve_model,
    validate_video_task,
)

V1 = "Marengo-retrieval-2.7"
V2 = "marengo3.0"


def check(**kwargs: Any) -> Any:
    kwargs.setdefault("video_url", "https://example.org/a.mp4")
    return validate_video_task(**kwargs)


def test_models_map_to_protocols_and_dimensions() -> None:
    assert (resolve_model(V1).protocol, resolve_model(V1).dim) == ("v1", 1024)
    assert (resolve_model(V2).protocol, resolve_model(V2).dim) == ("v2", 512)
    assert resolve_model("marengo2.7") is MODELS[V1]
    assert resolve_model(" MARENGO3.0 ") is MODELS[V2]


def test_unknown_model_names_the_known_ones() -> None:
    with pytest.raises(
        InvalidRequestError, match=r"unknown embedding model 'pegasus1.2'.*marengo3\.0"
    ):
        resolve_model("pegasus1.2")


@pytest.mark.parametrize("model", [V1, V2])
@pytest.mark.parametrize("clip", [1, 11, 0, -3, 2.5, True, "6"])
def test_clip_length_must_be_whole_2_to_10(model: str, clip: Any) -> None:
    with pytest.raises(InvalidRequestError, match="video_clip_length"):
        check(model_name=model, video_clip_length=clip)


@pytest.mark.parametrize("clip", [2, 10, 6.0])
def test_clip_length_bounds_are_inclusive(clip: float) -> None:
    assert check(model_name=V2, video_clip_length=clip).clip_length_s == int(clip)


def test_default_clip_length_and_scope() -> None:
    req = check(model_name=V1)
    assert (req.clip_length_s, req.scopes, req.options) == (6, ("clip",), None)


@pytest.mark.parametrize(
    ("start", "end", "pattern"),
    [
        (-1, 10, "video_start_offset_sec must be >= 0"),
        (0, -5, "video_end_offset_sec must be >= 0"),
        (10, 10, "must be greater than"),
        (12, 4, "must be greater than"),
        (0, 5, "shorter than video_clip_length"),
        (float("nan"), 10, "must be a number"),
        ("1", 10, "must be a number"),
    ],
)
@pytest.mark.parametrize("model", [V1, V2])
def test_offsets_are_checked(model: str, start: Any, end: Any, pattern: str) -> None:
    with pytest.raises(InvalidRequestError, match=pattern):
        check(model_name=model, video_start_offset_sec=start, video_end_offset_sec=end)


def test_v1_needs_both_offsets_or_neither() -> None:
    with pytest.raises(InvalidRequestError, match="both"):
        check(model_name=V1, video_start_offset_sec=2)
    with pytest.raises(InvalidRequestError, match="both"):
        check(model_name=V1, video_end_offset_sec=20)


def test_v2_accepts_one_offset() -> None:
    assert check(model_name=V2, video_start_offset_sec=2).start_s == 2.0
    assert check(model_name=V2, video_end_offset_sec=20).end_s == 20.0
    with pytest.raises(InvalidRequestError, match="shorter than"):
        check(model_name=V2, video_end_offset_sec=4)


def test_scopes_accept_both_spellings() -> None:
    assert normalize_scopes(["clip", "video"], model=MODELS[V2]) == ("clip", "asset")
    assert normalize_scopes(["asset"], model=MODELS[V1]) == ("video",)
    assert normalize_scopes("CLIP", model=MODELS[V1]) == ("clip",)
    assert normalize_scopes(["video", "asset"], model=MODELS[V1]) == ("video",)


@pytest.mark.parametrize("scopes", [[], ["frame"], [3], "segment"])
def test_bad_scopes(scopes: Any) -> None:
    with pytest.raises(InvalidRequestError):
        check(model_name=V2, video_embedding_scope=scopes)


@pytest.mark.parametrize(
    ("model", "options"),
    [(V1, ["visual"]), (V1, "transcription"), (V2, ["visual-text"]), (V2, []), (V2, [1])],
)
def test_options_must_fit_the_model(model: str, options: Any) -> None:
    with pytest.raises(InvalidRequestError):
        check(model_name=model, embedding_options=options)


def test_options_are_deduplicated_in_order() -> None:
    got = normalize_options(["audio", "visual", "audio"], model=MODELS[V2])
    assert got == ("audio", "visual")


def test_exactly_one_source() -> None:
    with pytest.raises(InvalidRequestError, match="exactly one"):
        validate_video_task(model_name=V2)
    with pytest.raises(InvalidRequestError, match="exactly one"):
        validate_video_task(model_name=V2, video_url="u", video_file="a.mp4")
    with pytest.raises(InvalidRequestError, match="video_url"):
        validate_video_task(model_name=V2, video_url="  ")


def test_file_checks(tmp_path: Path) -> None:
    with pytest.raises(InvalidVideoError, match="not found") as missing:
        validate_video_task(model_name=V1, video_file=tmp_path / "nope.mp4")
    assert missing.value.path == str(tmp_path / "nope.mp4")
    with pytest.raises(InvalidVideoError, match="directory"):
        validate_video_task(model_name=V1, video_file=tmp_path)
    empty = tmp_path / "empty.mp4"
    empty.touch()
    with pytest.raises(InvalidVideoError, match="empty"):
        validate_video_task(model_name=V1, video_file=empty)


def test_v2_takes_local_files_of_any_size_as_assets(tmp_path: Path) -> None:
    big = tmp_path / "big.mp4"
    with big.open("wb") as f:
        f.truncate(37 * 1024**2)  # sparse: no 37 MB written
    # Over the old 36 MB inline limit: the path goes up as an asset, nothing is sent inline.
    req = validate_video_task(model_name=V2, video_file=big)
    assert (req.source.kind, req.file) == ("path", None)
    # An open file of that size would have to go inline: refused, naming the fix.
    with big.open("rb") as handle, pytest.raises(InvalidVideoError) as info:
        validate_video_task(model_name=V2, video_file=handle)
    assert "36 MB" in str(info.value)
    assert "Pass its path" in str(info.value)
    # Marengo 2.7 streams uploads with the task.
    assert validate_video_task(model_name=V1, video_file=big).video_file is not None


def test_open_binary_files_are_accepted() -> None:
    req = validate_video_task(model_name=V1, video_file=io.BytesIO(b"abc"))
    assert req.video_file is not None
    assert req.video_file.size_bytes == 3
