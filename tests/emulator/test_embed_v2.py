"""``/embed-v2`` and ``/embed-v2/tasks`` over raw HTTP: Marengo 3.5 and 3.0, every input type,
the rules of §7, Matryoshka prefixes, uncertainty, usage, documents and sound files."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from testkit import start_emulator
from tl_integrations.emulator import (
    Emulator,
    ManualClock,
    make_sample_audio,
    make_sample_image,
    make_sample_pdf,
    make_sample_video,
)

THREE_FIVE, THREE_O = "marengo3.5", "marengo3.0"
SPOKEN = [(0.5, 2.5, "Penguins march across the ice."), (3.5, 5.5, "A soprano sings an aria.")]


@pytest.fixture(scope="module")
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest, clock: ManualClock) -> Emulator:
    return start_emulator(request, clock=clock, seed=11)


@pytest.fixture(scope="module")
def http(server: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, headers={"x-api-key": "k"}) as client:
        yield client


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("embed-v2")
    notes = root / "notes.md"
    notes.write_text("# Kites\nA red kite flies. It is windy!\n\nPenguins march. The ice is thick.")
    (root / "other.txt").write_text("Seals rest on the rocks.")
    return {
        "mp3": make_sample_audio(root / "tones.mp3", duration_s=12.0),
        "wav": make_sample_audio(root / "tones.wav", duration_s=8.0, tones=[440.0, 0.0]),
        "red": make_sample_image(root / "red.png", ["red"]),
        "blue": make_sample_image(root / "blue.png", ["blue"]),
        "pdf": make_sample_pdf(root / "report.pdf", ["A red kite flies.", "Penguins march.", ""]),
        "long_pdf": make_sample_pdf(root / "long.pdf", [f"Page {n}." for n in range(65)]),
        "pages17": make_sample_pdf(root / "p17.pdf", [f"Page {n}." for n in range(17)]),
        "md": notes,
        "txt": root / "other.txt",
        "video": make_sample_video(root / "talk.mp4", duration_s=6.0, subtitles=SPOKEN),
    }


def b64(path: Path) -> dict[str, str]:
    return {"base64_string": base64.b64encode(path.read_bytes()).decode()}


def sync(http: httpx.Client, **body: Any) -> httpx.Response:
    return http.post("/embed-v2", json=body)


def multi(http: httpx.Client, model: str = THREE_FIVE, **fields: Any) -> httpx.Response:
    top = {k: fields.pop(k) for k in list(fields) if k.startswith(("embedding_", "auto_"))}
    return sync(http, input_type="multi_input", model_name=model, multi_input=fields, **top)


def vector(answer: httpx.Response, row: int = 0) -> np.ndarray:
    assert answer.status_code == 200, answer.text
    return np.asarray(answer.json()["data"][row]["embedding"], np.float32)


def task(
    http: httpx.Client, clock: ManualClock, kind: str, spec: dict[str, Any], **top: Any
) -> dict[str, Any]:
    """Create a task, let its processing time pass, and read it."""
    model = top.pop("model_name", THREE_FIVE)
    created = http.post(
        "/embed-v2/tasks", json={"input_type": kind, "model_name": model, kind: spec, **top}
    )
    assert created.status_code == 202, created.text
    clock.advance(120.0)
    body: dict[str, Any] = http.get(f"/embed-v2/tasks/{created.json()['_id']}").json()
    return body


def refused(response: httpx.Response, status: int = 400) -> str:
    assert response.status_code == status, response.text
    message: str = response.json()["error"]["message"]
    return message


# --- the synchronous endpoint ---------------------------------------------------------------


def test_marengo35_takes_only_multi_input_and_reports_usage(http: httpx.Client) -> None:
    text = sync(http, input_type="text", model_name=THREE_FIVE, text={"input_text": "a kite"})
    assert "multi_input" in refused(text)
    answer = multi(http, input_text="a red kite over the beach")
    body = answer.json()
    assert len(body["data"]) == 1
    assert body["usage"] == {"input_tokens": {"text": 6}, "truncated": False}
    assert body["metadata"] == {"input_type": "multi_input", "embedding_dimension": 512}
    item = body["data"][0]
    assert (item["embedding_option"], item["embedding_scope"], item["start_sec"]) == (
        None,
        None,
        None,
    )


def test_a_shorter_dimension_is_the_prefix_of_the_full_vector(http: httpx.Client) -> None:
    full = multi(http, input_text="penguins on ice", embedding_uncertainty=True)
    short = multi(
        http, input_text="penguins on ice", embedding_uncertainty=True, embedding_dimension=256
    )
    np.testing.assert_array_equal(vector(short), vector(full)[:256])
    doubt = [np.asarray(a.json()["data"][0]["embedding_uncertainty"]) for a in (full, short)]
    np.testing.assert_array_equal(doubt[1], doubt[0][:256])
    assert doubt[0].shape == (512,)
    assert ((doubt[0] > 0) & (doubt[0] <= 1)).all()


@pytest.mark.parametrize("dimension", [0, 513, 256.0, True])
def test_out_of_range_dimensions_are_refused(http: httpx.Client, dimension: Any) -> None:
    refused(multi(http, input_text="x", embedding_dimension=dimension))


def test_marengo30_refuses_the_options_of_35(http: httpx.Client) -> None:
    body = {"input_type": "text", "model_name": THREE_O, "text": {"input_text": "a kite"}}
    assert "marengo3.5" in refused(sync(http, **body, embedding_dimension=256))
    refused(sync(http, **body, embedding_uncertainty=True))
    assert vector(sync(http, **body)).shape == (512,)


def test_long_text_needs_auto_truncate_on_35(http: httpx.Client) -> None:
    long = " ".join(["kite"] * 2100)
    assert "auto_truncate" in refused(multi(http, input_text=long))
    answer = multi(http, input_text=long, auto_truncate=True)
    usage = answer.json()["usage"]
    assert usage["truncated"] is True
    assert usage["truncation_reason"] == "model_context_window"
    assert usage["input_tokens"]["text"] == 2000


def test_media_sources_and_references(http: httpx.Client, media: dict[str, Path]) -> None:
    answer = multi(
        http,
        input_text="a flag like <@flag> with this sound",
        media_sources=[
            {"name": "flag", "media_type": "image", **b64(media["red"])},
            {"media_type": "audio", **b64(media["wav"])},
        ],
    )
    tokens = answer.json()["usage"]["input_tokens"]
    assert tokens["image"] == 256
    assert tokens["audio"] == 80  # 8 s of sound
    assert tokens["text"] == 6  # the reference is not a word of the text
    assert vector(answer).shape == (512,)


def test_sound_and_video_sources_last_30_s_at_most(
    http: httpx.Client, media: dict[str, Path]
) -> None:
    assert vector(multi(http, media_sources=[{"media_type": "video", **b64(media["video"])}])).any()


BAD_MULTI: dict[str, dict[str, Any]] = {
    "nothing": {},
    "eleven sources": {"media_sources": [{"media_type": "image", "url": "file:///x.png"}] * 11},
    "unknown reference": {"input_text": "like <@hat>"},
    "mixed types without text": {
        "media_sources": [{"media_type": "image", "url": "u"}, {"media_type": "audio", "url": "u"}]
    },
    "uncertainty with text and media": {
        "input_text": "x",
        "media_sources": [{"media_type": "image", "url": "u"}],
        "embedding_uncertainty": True,
    },
    "uncertainty with a document": {
        "media_sources": [{"media_type": "document", "url": "u"}],
        "embedding_uncertainty": True,
    },
    "duplicate names": {
        "input_text": "x",
        "media_sources": [
            {"name": "a", "media_type": "image", "url": "u"},
            {"name": "a", "media_type": "image", "url": "u"},
        ],
    },
}


@pytest.mark.parametrize("fields", BAD_MULTI.values(), ids=BAD_MULTI.keys())
def test_multi_input_rules(http: httpx.Client, fields: dict[str, Any]) -> None:
    refused(multi(http, **dict(fields)))


def test_documents_in_multi_input(http: httpx.Client, media: dict[str, Path]) -> None:
    pdf = {"media_type": "document", **b64(media["pdf"])}
    text_doc = {"media_type": "document", **b64(media["txt"])}
    image = {"media_type": "image", **b64(media["red"])}
    assert vector(multi(http, media_sources=[pdf])).shape == (512,)
    assert "only source" in refused(multi(http, input_text="x", media_sources=[pdf]))
    assert "all text" in refused(multi(http, input_text="x", media_sources=[text_doc]))
    assert "all text" in refused(multi(http, media_sources=[text_doc, text_doc]))
    assert vector(multi(http, media_sources=[text_doc])).any()  # one text document alone
    assert vector(multi(http, input_text="x", media_sources=[text_doc, image])).any()


def test_a_pdf_over_its_page_allowance_is_413_in_the_wrapped_shape(
    http: httpx.Client, media: dict[str, Path]
) -> None:
    answer = multi(http, media_sources=[{"media_type": "document", **b64(media["pages17"])}])
    assert answer.status_code == 413
    error = answer.json()["error"]
    assert error["code"] == "CONTENT_TOO_LARGE"
    assert "Document (17 pages) exceeds maximum limit of 16 pages" in error["message"]


def test_marengo30_sync_single_inputs(http: httpx.Client, media: dict[str, Path]) -> None:
    red = vector(
        sync(
            http, input_type="image", model_name=THREE_O, image={"media_source": b64(media["red"])}
        )
    )
    blue = vector(
        sync(
            http, input_type="image", model_name=THREE_O, image={"media_source": b64(media["blue"])}
        )
    )
    word = vector(sync(http, input_type="text", model_name=THREE_O, text={"input_text": "red"}))
    assert red @ word > blue @ word  # vectors from the pixels
    both = sync(
        http,
        input_type="text_image",
        model_name=THREE_O,
        text_image={"input_text": "a red flag", "media_source": b64(media["red"])},
    )
    assert vector(both).shape == (512,)
    sound = sync(
        http,
        input_type="audio",
        model_name=THREE_O,
        audio={
            "media_source": b64(media["wav"]),
            "segmentation": {"strategy": "fixed", "fixed": {"duration_sec": 4}},
        },
    )
    rows = sound.json()["data"]
    assert [
        (r["embedding_scope"], r["start_sec"]) for r in rows if r["embedding_option"] == "audio"
    ] == [
        ("clip", 0.0),
        ("clip", 4.0),
        ("asset", 0.0),
    ]
    refused(multi(http, THREE_O, media_sources=[{"media_type": "video", **b64(media["video"])}]))


# --- tasks ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["mp3", "wav"])
def test_audio_only_files_embed_with_both_models(
    http: httpx.Client, clock: ManualClock, media: dict[str, Path], name: str
) -> None:
    spec = {"media_source": b64(media[name]), "embedding_scope": ["clip"]}
    fixed = {"strategy": "fixed", "fixed": {"duration_sec": 4}}
    old = task(http, clock, "audio", {**spec, "segmentation": fixed}, model_name=THREE_O)
    new = task(http, clock, "audio", {**spec, "segmentation": {"temporal": fixed}})
    assert (old["status"], new["status"]) == ("ready", "ready")
    assert {r["embedding_option"] for r in old["data"]} == {"audio", "transcription"}
    assert {r["embedding_option"] for r in new["data"]} == {"audio"}
    assert new["metadata"]["embedding_dimension"] == 512
    assert "usage" in new
    assert "usage" not in old
    starts = [r["start_sec"] for r in new["data"]]
    assert starts == [4.0 * i for i in range(len(starts))]


def test_the_segmentation_shape_follows_the_model(
    http: httpx.Client, media: dict[str, Path]
) -> None:
    fixed = {"strategy": "fixed", "fixed": {"duration_sec": 4}}
    for model, seg in ((THREE_FIVE, fixed), (THREE_O, {"temporal": fixed})):
        answer = http.post(
            "/embed-v2/tasks",
            json={
                "input_type": "audio",
                "model_name": model,
                "audio": {"media_source": b64(media["wav"]), "segmentation": seg},
            },
        )
        assert "temporal" in refused(answer)


def test_transcription_is_30_only_and_uncertainty_needs_clip_scopes(
    http: httpx.Client, clock: ManualClock, media: dict[str, Path]
) -> None:
    source = {"media_source": b64(media["video"])}
    bad = http.post(
        "/embed-v2/tasks",
        json={
            "input_type": "video",
            "model_name": THREE_FIVE,
            "video": {**source, "embedding_option": ["transcription"]},
        },
    )
    refused(bad)
    no_asset = http.post(
        "/embed-v2/tasks",
        json={
            "input_type": "video",
            "model_name": THREE_FIVE,
            "embedding_uncertainty": True,
            "video": source,
        },
    )
    assert "asset" in refused(no_asset)
    done = task(
        http,
        clock,
        "video",
        {**source, "embedding_scope": ["clip"]},
        embedding_uncertainty=True,
        embedding_dimension=64,
    )
    assert all(len(r["embedding"]) == len(r["embedding_uncertainty"]) == 64 for r in done["data"])


def test_audio_means_sound_on_30_and_speech_is_transcription(
    http: httpx.Client, clock: ManualClock, media: dict[str, Path]
) -> None:
    spec = {"media_source": b64(media["video"]), "embedding_scope": ["asset"]}
    old = task(http, clock, "video", spec, model_name=THREE_O)
    new = task(http, clock, "video", spec)
    query = vector(
        sync(
            http,
            input_type="text",
            model_name=THREE_O,
            text={"input_text": "penguins march across the ice"},
        )
    )
    rows = {r["embedding_option"]: np.asarray(r["embedding"]) for r in old["data"]}
    assert rows["transcription"] @ query > 0.5  # the speech
    assert rows["audio"] @ query < 0.2  # the sound, without the speech
    sound = {r["embedding_option"]: np.asarray(r["embedding"]) for r in new["data"]}["audio"]
    assert sound @ query > rows["audio"] @ query  # 3.5's audio holds the speech too


def test_pdf_pages_quadrants_and_whole_file(
    http: httpx.Client, clock: ManualClock, media: dict[str, Path]
) -> None:
    source = {"media_source": b64(media["pdf"])}
    pages = task(http, clock, "document", source, embedding_dimension=256)
    assert [
        (r["start_page_number"], r["end_page_number"], r["embedding_scope"]) for r in pages["data"]
    ] == [
        (1, 1, "page"),
        (2, 2, "page"),
        (3, 3, "page"),
    ]
    assert {len(r["embedding"]) for r in pages["data"]} == {256}
    quads = task(
        http, clock, "document", {**source, "segmentation": {"spatial": {"strategy": "quadrants"}}}
    )
    assert len(quads["data"]) == 15
    assert [r["quadrant"] for r in quads["data"][:5]] == [
        None,
        "top_left",
        "top_right",
        "bottom_left",
        "bottom_right",
    ]
    whole = task(
        http,
        clock,
        "document",
        {**source, "embedding_option": ["visual", "text"], "embedding_scope": ["asset"]},
    )
    assert [(r["embedding_option"], r["embedding_scope"]) for r in whole["data"]] == [
        ("visual", "asset"),
        ("text", "asset"),
    ]
    kite = vector(multi(http, input_text="a red kite"))
    assert (
        int(np.argmax([np.asarray(r["embedding"])[:256] @ kite[:256] for r in pages["data"]])) == 0
    )


def test_text_chunks_come_in_any_order_with_their_index(
    http: httpx.Client, clock: ManualClock, media: dict[str, Path]
) -> None:
    local = {"media_source": b64(media["md"]), "embedding_scope": ["local"]}
    assert "sequential" in refused(
        http.post(
            "/embed-v2/tasks",
            json={"input_type": "document", "model_name": THREE_FIVE, "document": local},
        )
    )
    seq = {"sequential": {"strategy": "sentence", "max_sentences": 2, "overlap_sentences": 1}}
    done = task(http, clock, "document", {**local, "segmentation": seq}, embedding_uncertainty=True)
    index = [r["chunk_index"] for r in done["data"]]
    assert sorted(index) == list(range(4))  # 5 sentences, 2 a chunk, 1 shared
    assert index != sorted(index)  # the API does not promise an order: nor does the emulator
    assert all(r["embedding_scope"] == "chunk" and r["embedding_uncertainty"] for r in done["data"])


@pytest.mark.parametrize(
    ("name", "spec"),
    [
        ("pdf", {"embedding_option": ["text"], "embedding_scope": ["local"]}),
        ("md", {"embedding_option": ["visual"]}),
        ("pdf", {"segmentation": {"sequential": {"strategy": "sentence", "max_sentences": 2}}}),
        ("md", {"embedding_type": ["fused_embedding"], "segmentation": {"spatial": {}}}),
    ],
)
def test_document_pairs_outside_the_table_are_refused(
    http: httpx.Client, media: dict[str, Path], name: str, spec: dict[str, Any]
) -> None:
    body = {"media_source": b64(media[name]), **spec}
    refused(
        http.post(
            "/embed-v2/tasks",
            json={"input_type": "document", "model_name": THREE_FIVE, "document": body},
        )
    )


def test_a_pdf_over_its_allowance_fails_the_task(
    http: httpx.Client, clock: ManualClock, media: dict[str, Path]
) -> None:
    done = task(http, clock, "document", {"media_source": b64(media["long_pdf"])})
    assert done["status"] == "failed"
    assert done["error"]["message"] == "Document (65 pages) exceeds maximum limit of 64 pages"


def test_image_tasks_and_their_listing(
    http: httpx.Client, clock: ManualClock, media: dict[str, Path]
) -> None:
    done = task(http, clock, "image", {"media_source": b64(media["blue"])})
    (row,) = done["data"]
    assert (row["embedding_option"], row["embedding_scope"], row["start_sec"]) == (
        "visual",
        "asset",
        None,
    )
    refused(
        http.post(
            "/embed-v2/tasks",
            json={
                "input_type": "image",
                "model_name": THREE_O,
                "image": {"media_source": b64(media["blue"])},
            },
        )
    )
    listed = next(t for t in http.get("/embed-v2/tasks").json()["data"] if t["_id"] == done["_id"])
    assert listed["model_name"] == THREE_FIVE
    assert listed["image_embedding"]["metadata"]["image_embedding_option"] == ["visual"]


def test_asset_sources_must_be_ready(
    http: httpx.Client, clock: ManualClock, media: dict[str, Path]
) -> None:
    with media["mp3"].open("rb") as handle:
        asset = http.post(
            "/assets", data={"method": "direct"}, files={"file": ("tones.mp3", handle)}
        )
    asset_id = asset.json()["_id"]
    spec = {"media_source": {"asset_id": asset_id}}
    early = http.post(
        "/embed-v2/tasks", json={"input_type": "audio", "model_name": THREE_FIVE, "audio": spec}
    )
    assert "processing" in refused(early)
    clock.advance(600.0)
    done = task(http, clock, "audio", spec)
    assert done["status"] == "ready"
    assert done["metadata"]["input_filename"] == "tones.mp3"
    wrong = http.post(
        "/embed-v2/tasks", json={"input_type": "image", "model_name": THREE_FIVE, "image": spec}
    )
    assert "holds audio" in refused(wrong)


def test_document_vectors_survive_a_restart(tmp_path: Path, media: dict[str, Path]) -> None:
    clock = ManualClock()
    seq = {"sequential": {"strategy": "sentence", "max_sentences": 1}}
    body = {"media_source": b64(media["md"]), "embedding_scope": ["local"], "segmentation": seq}
    with (
        Emulator(clock=clock, data_dir=tmp_path) as emu,
        httpx.Client(base_url=emu.base_url, headers={"x-api-key": "k"}) as http,
    ):
        before = task(http, clock, "document", body)
    with (
        Emulator(clock=clock, data_dir=tmp_path) as emu,
        httpx.Client(base_url=emu.base_url, headers={"x-api-key": "k"}) as http,
    ):
        after = http.get(f"/embed-v2/tasks/{before['_id']}").json()
    assert after["data"] == before["data"]


def test_async_validation_fails_tasks_instead_of_refusing_them(
    emulator_for: Callable[..., Emulator], tmp_path: Path, media: dict[str, Path]
) -> None:
    clock = ManualClock()
    broken = tmp_path / "broken.mp3"
    broken.write_bytes(b"not a sound at all" * 100)
    short = make_sample_audio(tmp_path / "short.wav", duration_s=2.0)
    emu = emulator_for(clock=clock, media_validation="async")
    with httpx.Client(base_url=emu.base_url, headers={"x-api-key": "k"}) as http:
        failed = [
            task(http, clock, "audio", {"media_source": b64(path)}) for path in (broken, short)
        ]
        strict = http.post(
            "/embed-v2/tasks",
            json={
                "input_type": "audio",
                "model_name": THREE_FIVE,
                "audio": {"media_source": {"asset_id": "0" * 24}},
            },
        )
    assert [t["status"] for t in failed] == ["failed", "failed"]
    assert "cannot be read" in failed[0]["error"]["message"]
    assert "too short" in failed[1]["error"]["message"]
    assert strict.status_code == 404  # an unknown asset is still refused at once
