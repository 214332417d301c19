"""Pure pieces of Marengo 3.5 and the new modalities: checked requests, wire bodies, the
decoding of every ``data[]`` field, saved files, and the space vectors belong to."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import orjson
import pytest

from tl_integrations import EmbeddingDecodeError, InvalidRequestError, MediaEmbedding
from tl_integrations._embed import wire
from tl_integrations._embed.decode import decode_media_v2
from tl_integrations._embed.params import media_ref, resolve_model, validate_multi, validate_task
from tl_integrations._embed.vectors import check_same_space
from tl_integrations._resources.embed import parse_task

M35 = resolve_model("marengo3.5")
M30 = resolve_model("marengo3.0")


def task(model: Any, media: str, **options: Any) -> Any:
    return validate_task(model, media_ref(media), options)


def test_a_35_audio_task_body_wraps_its_segmentation_and_sizes_its_vectors() -> None:
    req = task(
        M35,
        "https://x/a.mp3",
        segmentation="dynamic",
        min_clip_length_s=3,
        embedding_dimension=128,
        scopes="local",
    )
    body = wire.v2_task_body(req, {"url": "https://x/a.mp3"})
    assert body == {
        "input_type": "audio",
        "model_name": "marengo3.5",
        "embedding_dimension": 128,
        "audio": {
            "media_source": {"url": "https://x/a.mp3"},
            "segmentation": {
                "temporal": {"strategy": "dynamic", "dynamic": {"min_duration_sec": 3.0}}
            },
            "embedding_scope": ["clip"],
        },
    }


def test_document_and_image_bodies() -> None:
    pdf = task(M35, "https://x/r.pdf", spatial="quadrants")
    assert wire.v2_task_body(pdf, {"asset_id": "a"})["document"] == {
        "media_source": {"asset_id": "a"},
        "embedding_option": ["visual"],
        "embedding_scope": ["local"],
        "segmentation": {"spatial": {"strategy": "quadrants"}},
    }
    notes = task(M35, "https://x/n.md", scopes="local", max_sentences=3, overlap_sentences=1)
    assert wire.v2_task_body(notes, {"url": "u"})["document"]["segmentation"] == {
        "sequential": {"strategy": "sentence", "max_sentences": 3, "overlap_sentences": 1}
    }
    image = task(M35, "https://x/p.png")
    assert wire.v2_task_body(image, {"url": "u"})["image"] == {"media_source": {"url": "u"}}


def test_text_goes_through_multi_input_on_35() -> None:
    assert wire.v2_text_body("a kite", model=M35, dimension=64) == {
        "input_type": "multi_input",
        "model_name": "marengo3.5",
        "embedding_dimension": 64,
        "multi_input": {"input_text": "a kite"},
    }


@pytest.mark.parametrize(
    ("media", "options", "match"),
    [
        ("https://x/a.mp3", {"options": "visual"}, "not available for audio"),
        ("https://x/a.mp3", {"embedding_dimension": 0}, "1 to 512"),
        ("https://x/a.mp3", {"embedding_dimension": True}, "1 to 512"),
        ("https://x/a.mp3", {"segmentation": "dynamic", "clip_length_s": 4}, "fixed segmentation"),
        ("https://x/a.mp3", {"min_clip_length_s": 6}, "2 to 5"),
        ("https://x/p.png", {"scopes": "clip"}, "only the 'asset' scope"),
        ("https://x/p.png", {"clip_length_s": 4}, "not image"),
        (
            "https://x/r.pdf",
            {"options": ["visual", "text"], "scopes": ["local", "asset"]},
            "text/local",
        ),
        ("https://x/n.txt", {"overlap_sentences": 1}, "needs max_sentences"),
        (
            "https://x/n.txt",
            {"scopes": "local", "max_sentences": 2, "overlap_sentences": 2},
            "0 to",
        ),
        ("https://x/clip", {}, "input_type="),
        ("6711a0c2e4a1b37f8a9c5d00", {"input_type": "document"}, "PDF or a .txt"),
    ],
)
def test_task_rules(media: str, options: dict[str, Any], match: str) -> None:
    with pytest.raises(InvalidRequestError, match=match):
        task(M35, media, **options)


def test_multi_input_bodies_name_their_sources() -> None:
    req = validate_multi(
        M35,
        "<@a> beside <@b>",
        {"a": "https://x/a.png", "b": "https://x/b.png"},
        embedding_uncertainty=None,
        auto_truncate=True,
    )
    body = wire.v2_multi_body(req, [{"url": "https://x/a.png"}, {"url": "https://x/b.png"}])
    assert body["auto_truncate"] is True
    assert [s["name"] for s in body["multi_input"]["media_sources"]] == ["a", "b"]
    with pytest.raises(InvalidRequestError, match="up to 10"):
        validate_multi(M35, "x", ["https://x/a.png"] * 11)
    with pytest.raises(InvalidRequestError, match=r"marengo3\.5"):
        validate_multi(M30, None, ["https://x/a.mp4"])
    with pytest.raises(InvalidRequestError, match="text only or media only"):
        validate_multi(M35, "x", ["https://x/a.png"], embedding_uncertainty=True)


def _item(vector: list[float], **fields: Any) -> dict[str, Any]:
    return {"embedding": vector, **fields}


def test_every_field_of_data_is_decoded() -> None:
    body = orjson.dumps(
        {
            "_id": "t",
            "status": "ready",
            "metadata": {"input_type": "document", "embedding_dimension": 2},
            "usage": {"input_tokens": {"document": 774}, "truncated": False},
            "data": [
                _item(
                    [1.0, 0.0],
                    embedding_option="visual",
                    embedding_scope="page",
                    start_page_number=2,
                    end_page_number=2,
                    quadrant="top_left",
                    embedding_uncertainty=[0.1, 0.9],
                    start_sec=None,
                    end_sec=None,
                ),
                _item(
                    [0.0, 1.0],
                    embedding_option=None,
                    embedding_scope=None,
                    embedding_uncertainty=[0.5, 0.5],
                ),
            ],
        }
    )
    me = decode_media_v2(body, model_name="marengo3.5")
    assert (me.input_type, me.dim, me.space) == ("document", 2, "marengo3.5/2")
    assert me.start_page.tolist() == [2, 0]
    assert me.quadrants.tolist() == ["top_left", ""]
    assert me.options.tolist() == ["visual", ""]
    assert np.isnan(me.start_s).all()
    assert me.uncertainty is not None
    np.testing.assert_allclose(me.uncertainty, [[0.1, 0.9], [0.5, 0.5]], rtol=1e-6)
    assert me.usage == {"input_tokens": {"document": 774}, "truncated": False}


def test_uncertainty_must_cover_every_row() -> None:
    body = orjson.dumps({"data": [_item([1.0], embedding_uncertainty=[0.1]), _item([1.0])]})
    with pytest.raises(EmbeddingDecodeError):
        decode_media_v2(body)


def test_select_and_save_keep_every_column(tmp_path: Any) -> None:
    me = MediaEmbedding.from_arrays(
        np.eye(3, dtype=np.float32),
        start_s=[np.nan] * 3,
        end_s=[np.nan] * 3,
        options=["text"] * 3,
        scopes=["chunk", "chunk", "asset"],
        model_name="marengo3.5",
        input_type="document",
        chunk_index=[0, 1, -1],
        uncertainty=np.full((3, 3), 0.5, np.float32),
        usage={"input_tokens": {"document": 12}, "truncated": False},
    )
    chunks = me.select(scope="chunk")
    assert chunks.chunk_index.tolist() == [0, 1]
    assert chunks.uncertainty is not None
    assert chunks.uncertainty.shape == (2, 3)
    buffer = io.BytesIO()
    me.save(buffer)
    buffer.seek(0)
    back = MediaEmbedding.load(buffer)
    assert (back.input_type, back.usage, back.chunk_index.tolist()) == (
        "document",
        me.usage,
        [0, 1, -1],
    )
    assert back.uncertainty is not None


def test_files_saved_before_documents_still_load() -> None:
    buffer = io.BytesIO()
    np.savez(
        buffer,
        format_version=np.asarray(1),
        vectors=np.eye(2, dtype=np.float32),
        start_s=np.array([0.0, 6.0]),
        end_s=np.array([6.0, 12.0]),
        options=np.array(["visual", "visual"]),
        scopes=np.array(["clip", "clip"]),
        model_name=np.asarray("marengo3.0"),
        task_id=np.asarray("t1"),
        duration_s=np.asarray(12.0),
    )
    buffer.seek(0)
    old = MediaEmbedding.load(buffer)
    assert (old.input_type, old.start_page.tolist(), old.uncertainty) == ("video", [0, 0], None)


def test_spaces_never_mix() -> None:
    check_same_space("marengo3.5/256", "marengo3.5/256")
    with pytest.raises(InvalidRequestError, match="cannot be compared"):
        check_same_space("marengo3.5/256", "marengo3.5/512")


def test_a_retrieved_task_tells_its_model_and_input_type() -> None:
    known = parse_task(
        {"_id": "t", "metadata": {"input_type": "image"}}, protocol="v2", model_name="marengo3.5"
    )
    guessed = parse_task({"_id": "t", "usage": {}}, protocol="v2")
    listed = parse_task(
        {"_id": "t", "model_name": "marengo3.5", "document_embedding": {"metadata": {}}},
        protocol="v2",
    )
    assert (known.model_name, known.input_type) == ("marengo3.5", "image")
    assert guessed.model_name == "marengo3.5"
    assert (listed.input_type, listed.model_name) == ("document", "marengo3.5")
