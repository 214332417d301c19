"""LlamaIndex: TwelveLabsEmbedding and video segments as nodes in a VectorStoreIndex."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from embed_support import SCENES, EmulatorHarness
from llama_index.core import VectorStoreIndex

from tl_integrations import InvalidRequestError, VideoEmbedding
from tl_integrations.llama_index import TwelveLabsEmbedding, video_segments_to_nodes

OFFLINE = "http://127.0.0.1:9/v1.3"


def test_the_key_is_never_serialised_or_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    model = TwelveLabsEmbedding(api_key="very-secret", base_url=OFFLINE)
    for text in (
        repr(model),
        str(model),
        model.to_json(),
        str(model.to_dict()),
        str(model.to_payload()),
    ):
        assert "very-secret" not in text
    data = model.to_dict()
    assert data["class_name"] == "TwelveLabsEmbedding"
    assert data["model_name"] == "marengo3.0"
    assert "api_key" not in data
    assert "client" not in data
    monkeypatch.setenv("TWELVELABS_API_KEY", "from-env")
    restored = TwelveLabsEmbedding.from_dict(data)
    assert restored.api_key is not None
    assert restored.api_key.get_secret_value() == "from-env"
    assert restored.base_url == OFFLINE


def test_pickling_drops_clients_but_keeps_settings() -> None:
    model = TwelveLabsEmbedding(api_key="k", base_url=OFFLINE, max_concurrency=3)
    model._clients().sync()
    copy = pickle.loads(pickle.dumps(model))
    assert copy.max_concurrency == 3
    assert copy._holder is None
    model.close()


def test_unknown_model_is_refused() -> None:
    with pytest.raises(InvalidRequestError, match="unknown embedding model"):
        TwelveLabsEmbedding(api_key="k", model_name="bge-small")


def test_text_and_query_embeddings(emu: EmulatorHarness) -> None:
    model = TwelveLabsEmbedding(
        api_key=emu.emulator.api_key,
        base_url=emu.emulator.base_url,
        model_name="Marengo-retrieval-2.7",
    )
    query = model.get_query_embedding("hello")
    texts = model.get_text_embedding_batch(["a", "b", "c"])
    assert len(query) == 1024
    assert isinstance(query[0], float)
    assert len(texts) == 3
    assert all(len(t) == 1024 for t in texts)
    assert model.get_text_embedding("hello") == pytest.approx(query)
    model.close()


async def test_async_embeddings(emu: EmulatorHarness) -> None:
    model = TwelveLabsEmbedding(api_key=emu.emulator.api_key, base_url=emu.emulator.base_url)
    query = await model.aget_query_embedding("hello")
    texts = await model.aget_text_embedding_batch(["a", "b"])
    assert len(query) == 512
    assert len(texts) == 2


def test_retriever_finds_the_segment_named_by_a_query(emu: EmulatorHarness) -> None:
    with emu.client() as client:
        ve = client.embed.video(
            emu.videos["scenes"], model_name="marengo3.0", clip_length_s=6, options="transcription"
        )
    nodes = video_segments_to_nodes(ve, source="scenes.mp4")
    assert [n.metadata["start_s"] for n in nodes] == [0.0, 6.0, 12.0]
    assert all(n.embedding is not None and len(n.embedding) == 512 for n in nodes)
    embed_model = TwelveLabsEmbedding(api_key=emu.emulator.api_key, base_url=emu.emulator.base_url)
    index = VectorStoreIndex(nodes, embed_model=embed_model)
    retriever = index.as_retriever(similarity_top_k=1)
    for start, _end, text in SCENES:
        (hit,) = retriever.retrieve(text)
        assert hit.node.metadata["start_s"] == pytest.approx(start)
        assert hit.node.node_id == nodes[int(start // 6)].node_id
    embed_model.close()


def test_nodes_hide_bookkeeping_from_the_llm() -> None:
    ve = VideoEmbedding.from_arrays(
        [[1.0, 0.0]],
        start_s=[0],
        end_s=[6],
        options=["audio"],
        scopes=["clip"],
        model_name="marengo3.0",
        task_id="t1",
    )
    (node,) = video_segments_to_nodes(ve)
    assert node.metadata["source"] == "twelvelabs-embedding-task:t1"
    assert "task_id" in node.excluded_llm_metadata_keys
    assert video_segments_to_nodes(ve)[0].node_id == node.node_id  # stable ids


def test_node_text_is_what_was_said_in_the_segment() -> None:
    ve = VideoEmbedding.from_arrays(
        [[1.0, 0.0], [0.0, 1.0]],
        start_s=[0, 6],
        end_s=[6, 12],
        options=["visual", "visual"],
        scopes=["clip", "clip"],
        model_name="marengo3.0",
        task_id="t1",
    )
    nodes = video_segments_to_nodes(ve, source="a.mp4", transcript=SCENES[:1])
    assert nodes[0].text == SCENES[0][2]
    assert nodes[1].text == "a.mp4, 0:06.0-0:12.0 (visual, clip)"  # no speech: the label


def test_a_multimodal_index_finds_images_by_text(emu: EmulatorHarness, tmp_path: Path) -> None:
    from llama_index.core.indices import MultiModalVectorStoreIndex
    from llama_index.core.schema import ImageNode, TextNode

    from tl_integrations.emulator import make_sample_image

    red = make_sample_image(tmp_path / "red.png", ["red"])
    blue = make_sample_image(tmp_path / "blue.png", ["blue"])
    with emu.client() as client:
        model = TwelveLabsEmbedding(model_name="marengo3.5", embedding_dimension=128, client=client)
        # As SimpleDirectoryReader makes them: a path, and the file's name as metadata
        # (LlamaIndex skips nodes with no content at all).
        nodes = [
            ImageNode(image_path=str(red), metadata={"file_name": "a.png"}),
            ImageNode(image_path=str(blue), metadata={"file_name": "b.png"}),
            TextNode(text="A note about the sea."),
        ]
        index = MultiModalVectorStoreIndex(nodes, embed_model=model, image_embed_model=model)
        retriever = index.as_retriever(similarity_top_k=1, image_similarity_top_k=1)
        hits = [retriever.text_to_image_retrieve(word)[0] for word in ("red", "blue")]
        assert len(model.get_image_embedding(str(blue))) == 128
    assert [h.node.image_path for h in hits] == [str(red), str(blue)]  # type: ignore[attr-defined]


async def test_async_image_embeddings_and_embed_video(emu: EmulatorHarness, tmp_path: Path) -> None:
    from tl_integrations.emulator import make_sample_image

    red = make_sample_image(tmp_path / "red.png", ["red"])
    async with emu.aclient() as aclient:
        model = TwelveLabsEmbedding(async_client=aclient)
        vector = await model.aget_image_embedding(str(red))
        ve = await model.aembed_video(emu.videos["short"], clip_length_s=4, options="visual")
    assert len(vector) == 512
    assert (ve.model_name, len(ve)) == ("marengo3.0", 2)


def test_nodes_refuse_an_embed_model_of_another_space(emu: EmulatorHarness) -> None:
    with emu.client() as client:
        model = TwelveLabsEmbedding(client=client)
        ve = model.embed_video(emu.videos["short"], clip_length_s=4, options="visual")
    assert len(video_segments_to_nodes(ve, embed_model=model)) == 2
    other = TwelveLabsEmbedding(
        api_key="k", base_url=OFFLINE, model_name="marengo3.5", embedding_dimension=256
    )
    with pytest.raises(InvalidRequestError, match=r"marengo3\.5/256"):
        video_segments_to_nodes(ve, embed_model=other)
    assert "embedding_space" in video_segments_to_nodes(ve)[0].excluded_llm_metadata_keys
