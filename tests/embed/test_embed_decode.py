"""Decoding embedding responses into numpy, VideoEmbedding selection and .npz round trips."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tl_integrations import EmbeddingDecodeError, TwelveLabsError, VideoEmbedding
from tl_integrations._embed.decode import (
    decode_text_v1,
    decode_text_v2,
    decode_video_v1,
    decode_video_v2,
)
from tl_integrations._embed.vectors import same_scope


def v1_body(segments: list[Any], **extra: Any) -> bytes:
    doc = {
        "_id": "t1",
        "model_name": "Marengo-retrieval-2.7",
        "status": "ready",
        "video_embedding": {"metadata": {"duration": 14.5}, "segments": segments},
        **extra,
    }
    return orjson.dumps(doc)


def v1_segment(
    start: float, end: float, *, option: str = "visual-text", scope: str = "clip", vec: Any = None
) -> dict[str, Any]:
    return {
        "start_offset_sec": start,
        "end_offset_sec": end,
        "embedding_scope": scope,
        "embedding_option": option,
        "float": [0.5, -0.25, 1.0] if vec is None else vec,
    }


def v2_body(data: Any) -> bytes:
    return orjson.dumps(
        {"_id": "t2", "status": "ready", "metadata": {"duration": 8.0}, "data": data}
    )


def test_v1_decodes_the_documented_example() -> None:
    segments = [
        v1_segment(0, 6),
        v1_segment(6, 12),
        v1_segment(12, 14.5),
        v1_segment(0, 14.5, scope="video"),
        v1_segment(0, 6, option="audio"),
    ]
    ve = decode_video_v1(v1_body(segments))
    assert ve.vectors.dtype == np.float32
    assert ve.vectors.shape == (5, 3)
    assert ve.start_s.dtype == np.float64
    assert ve.end_s.tolist() == [6, 12, 14.5, 14.5, 6]
    assert ve.options.tolist() == ["visual-text"] * 4 + ["audio"]
    assert ve.scopes.tolist() == ["clip"] * 3 + ["video", "clip"]
    assert (ve.task_id, ve.model_name, ve.duration_s) == ("t1", "Marengo-retrieval-2.7", 14.5)


def test_v2_decodes_its_field_names() -> None:
    item = {
        "embedding": [1, 2],
        "embedding_option": "visual",
        "embedding_scope": "asset",
        "start_sec": 0,
        "end_sec": 8.0,
    }
    ve = decode_video_v2(v2_body([item]))
    assert ve.vectors.tolist() == [[1.0, 2.0]]
    assert ve.scopes.tolist() == ["asset"]
    assert (ve.task_id, ve.model_name, ve.duration_s) == ("t2", "marengo3.0", 8.0)


def test_no_segments_keep_the_dimension() -> None:
    assert decode_video_v1(v1_body([]), dim_hint=1024).vectors.shape == (0, 1024)
    assert decode_video_v2(v2_body([]), dim_hint=512).vectors.shape == (0, 512)


BAD_V1 = {
    "truncated": v1_body([v1_segment(0, 6)])[:-20],
    "not an object": b"[1, 2]",
    "empty": b"",
    "no video_embedding": orjson.dumps({"_id": "t"}),
    "segments not a list": v1_body({"a": 1}),  # type: ignore[arg-type]
    "segment not an object": v1_body([[1, 2]]),
    "missing float": v1_body([{k: v for k, v in v1_segment(0, 6).items() if k != "float"}]),
    "missing start": v1_body(
        [{k: v for k, v in v1_segment(0, 6).items() if k != "start_offset_sec"}]
    ),
    "ragged": v1_body([v1_segment(0, 6), v1_segment(6, 12, vec=[1.0])]),
    "string value": v1_body([v1_segment(0, 6, vec=[0.5, "0.5", 1.0])]),
    "null value": v1_body([v1_segment(0, 6, vec=[0.5, None, 1.0])]),
    "nested": v1_body([v1_segment(0, 6, vec=[[0.5]])]),
    "empty vector": v1_body([v1_segment(0, 6, vec=[])]),
    "vector is a string": v1_body([v1_segment(0, 6, vec="0.5,1.0")]),
    "overflows float32": v1_body([v1_segment(0, 6, vec=[1e308, 0.0, 0.0])]),
    "NaN literal": v1_body([v1_segment(0, 6)]).replace(b"0.5", b"NaN", 1),
    "start is a string": v1_body([v1_segment("0", 6)]),  # type: ignore[arg-type]
    "option not a string": v1_body([v1_segment(0, 6, option=None)]),  # type: ignore[arg-type]
}


@pytest.mark.parametrize("body", BAD_V1.values(), ids=BAD_V1.keys())
def test_v1_malformed_bodies_raise_a_twelvelabs_error(body: bytes) -> None:
    with pytest.raises(EmbeddingDecodeError) as info:
        decode_video_v1(body)
    assert isinstance(info.value, TwelveLabsError)


@pytest.mark.parametrize(
    "data",
    [
        None,
        {"x": 1},
        [{"vector": [1.0]}],
        [{"embedding": [1.0], "chunk_index": "0"}],
        [{"embedding": [1.0], "embedding_uncertainty": [0.1, 0.2]}],
        [
            {
                "embedding": [1.0],
                "embedding_option": "visual",
                "embedding_scope": "clip",
                "start_sec": 0,
                "end_sec": True,
            }
        ],
    ],
)
def test_v2_malformed_bodies_raise(data: Any) -> None:
    with pytest.raises(EmbeddingDecodeError):
        decode_video_v2(v2_body(data))


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.floats() | st.integers() | st.text(),
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "_id",
                        "video_embedding",
                        "segments",
                        "data",
                        "float",
                        "embedding",
                        "start_sec",
                        "start_offset_sec",
                        "metadata",
                    ]
                ),
                inner,
                max_size=4,
            )
        ),
        max_leaves=20,
    )
)
def test_arbitrary_json_never_raises_anything_but_decode_errors(doc: Any) -> None:
    try:
        body = orjson.dumps(doc)
    except (TypeError, orjson.JSONEncodeError):
        return
    for decode in (decode_video_v1, decode_video_v2, decode_text_v1, decode_text_v2):
        with contextlib.suppress(EmbeddingDecodeError):
            decode(body)


def test_text_decoders() -> None:
    v1 = decode_text_v1(b'{"model_name": "m", "text_embedding": {"segments": [{"float": [3, 4]}]}}')
    assert v1.dtype == np.float32
    assert v1.tolist() == [3.0, 4.0]
    assert decode_text_v2(b'{"data": [{"embedding": [0.5], "embedding_option": null}]}').shape == (
        1,
    )
    with pytest.raises(EmbeddingDecodeError, match="too long"):
        decode_text_v1(b'{"text_embedding": {"error_message": "too long"}}')
    with pytest.raises(EmbeddingDecodeError):
        decode_text_v2(b'{"data": []}')


def sample() -> VideoEmbedding:
    return VideoEmbedding.from_arrays(
        np.arange(12, dtype=np.float32).reshape(4, 3),
        start_s=[0, 6, 0, 0],
        end_s=[6, 12, 12, 6],
        options=["visual", "visual", "visual", "audio"],
        scopes=["clip", "clip", "asset", "clip"],
        model_name="marengo3.0",
        task_id="t9",
        duration_s=12.0,
    )


def test_select_by_option_and_scope_spellings() -> None:
    ve = sample()
    assert len(ve) == 4
    assert ve.dim == 3
    assert ve.select(option="visual").start_s.tolist() == [0, 6, 0]
    assert ve.select(scope="clip", option="audio").vectors.tolist() == [[9, 10, 11]]
    assert ve.select(scope="video").scopes.tolist() == ["asset"]
    assert ve.select(scope="asset").end_s.tolist() == [12]
    assert len(ve.select(option=["visual", "audio"], scope=["clip"])) == 3
    assert len(ve.select(option="transcription")) == 0
    assert ve.select().vectors is not ve.vectors
    assert len(ve.select()) == 4
    assert same_scope("video", "asset")
    assert not same_scope("clip", "video")


def test_repr_is_a_summary() -> None:
    text = repr(sample())
    assert "rows=4" in text
    assert "dim=3" in text
    assert "0." not in text


@pytest.mark.parametrize("duration", [12.0, None])
def test_npz_round_trip(tmp_path: Path, duration: float | None) -> None:
    ve = sample()
    ve = VideoEmbedding.from_arrays(
        ve.vectors,
        start_s=ve.start_s,
        end_s=ve.end_s,
        options=ve.options,
        scopes=ve.scopes,
        model_name=ve.model_name,
        task_id=ve.task_id,
        duration_s=duration,
    )
    path = tmp_path / "ve.npz"
    ve.save(path)
    back = VideoEmbedding.load(path)
    for name in ("vectors", "start_s", "end_s", "options", "scopes"):
        np.testing.assert_array_equal(getattr(back, name), getattr(ve, name))
        assert getattr(back, name).dtype == getattr(ve, name).dtype
    assert (back.model_name, back.task_id, back.duration_s) == ("marengo3.0", "t9", duration)


def test_npz_from_a_buffer_and_refusing_foreign_files() -> None:
    buffer = io.BytesIO()
    sample().save(buffer)
    buffer.seek(0)
    assert len(VideoEmbedding.load(buffer)) == 4
    foreign = io.BytesIO()
    np.savez(foreign, vectors=np.zeros((1, 2)))
    foreign.seek(0)
    with pytest.raises(EmbeddingDecodeError, match="not a saved MediaEmbedding"):
        VideoEmbedding.load(foreign)
    pickled = io.BytesIO()
    np.savez(pickled, vectors=np.array([object()], dtype=object))
    pickled.seek(0)
    with pytest.raises(EmbeddingDecodeError, match="pickle"):
        VideoEmbedding.load(pickled)


def test_from_arrays_checks_lengths_and_values() -> None:
    with pytest.raises(EmbeddingDecodeError, match="start_s"):
        VideoEmbedding.from_arrays(
            [[1.0]], start_s=[0, 1], end_s=[1], options=["a"], scopes=["clip"], model_name="m"
        )
    with pytest.raises(EmbeddingDecodeError, match="2-D"):
        VideoEmbedding.from_arrays(
            [1.0], start_s=[0], end_s=[1], options=["a"], scopes=["clip"], model_name="m"
        )
    with pytest.raises(EmbeddingDecodeError, match="NaN"):
        VideoEmbedding.from_arrays(
            [[np.nan]], start_s=[0], end_s=[1], options=["a"], scopes=["clip"], model_name="m"
        )
