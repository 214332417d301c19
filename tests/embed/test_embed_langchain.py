"""LangChain: TwelveLabsEmbeddings (standard tests, unit and against the emulator), stores."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from embed_support import SCENES, EmulatorHarness
from langchain_core.embeddings import FakeEmbeddings
from langchain_core.vectorstores import InMemoryVectorStore
from langchain_tests.integration_tests import EmbeddingsIntegrationTests
from langchain_tests.unit_tests import EmbeddingsUnitTests

from tl_integrations import InvalidRequestError, VideoEmbedding
from tl_integrations.langchain import (
    TwelveLabsEmbeddings,
    add_video_embedding,
    qdrant_vector_store,
    video_segments_to_documents,
)

OFFLINE = "http://127.0.0.1:9/v1.3"  # nothing listens there; unit tests never send


class TestTwelveLabsEmbeddingsUnit(EmbeddingsUnitTests):
    @property
    def embeddings_class(self) -> type[TwelveLabsEmbeddings]:
        return TwelveLabsEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"api_key": "unit-test-key", "base_url": OFFLINE}

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        env = {"TWELVELABS_API_KEY": "env-key", "TWELVELABS_BASE_URL": OFFLINE}
        return env, {"model": "Marengo-retrieval-2.7"}, {"api_key": "env-key", "base_url": OFFLINE}


class TestTwelveLabsEmbeddingsIntegration(EmbeddingsIntegrationTests):
    """The standard integration suite, against the emulator."""

    @pytest.fixture(autouse=True)
    def _point_at_the_emulator(self, emu: EmulatorHarness) -> None:
        self._params = {"api_key": emu.emulator.api_key, "base_url": emu.emulator.base_url}

    @property
    def embeddings_class(self) -> type[TwelveLabsEmbeddings]:
        return TwelveLabsEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return self._params


def test_the_key_stays_secret_and_clients_are_not_serialised(emu: EmulatorHarness) -> None:
    with emu.client() as client:
        emb = TwelveLabsEmbeddings(api_key="very-secret", base_url=OFFLINE, client=client)
        assert "very-secret" not in repr(emb)
        assert "very-secret" not in str(emb.model_dump())
        dumped = emb.model_dump()
        assert "client" not in dumped
        assert "async_client" not in dumped
        assert dumped["model"] == "marengo3.0"
        assert emb.dim == 512


def test_unknown_models_are_refused() -> None:
    with pytest.raises(InvalidRequestError, match="unknown embedding model"):
        TwelveLabsEmbeddings(api_key="k", model="text-embedding-3-small")


def test_missing_key_is_a_clear_error_at_first_use(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TWELVELABS_API_KEY", raising=False)
    emb = TwelveLabsEmbeddings(base_url=OFFLINE)
    with pytest.raises(InvalidRequestError, match="TWELVELABS_API_KEY"):
        emb.embed_query("hello")


@pytest.fixture
def scenes_embedding(emu: EmulatorHarness) -> Iterator[tuple[TwelveLabsEmbeddings, VideoEmbedding]]:
    with emu.client() as client:
        emb = TwelveLabsEmbeddings(
            api_key=emu.emulator.api_key, base_url=emu.emulator.base_url, client=client
        )
        yield emb, emb.embed_video(emu.videos["scenes"], clip_length_s=6)


def test_embed_video_and_documents(
    scenes_embedding: tuple[TwelveLabsEmbeddings, VideoEmbedding],
) -> None:
    emb, ve = scenes_embedding
    assert ve.dim == 512
    assert set(ve.scopes.tolist()) == {"clip"}
    docs = video_segments_to_documents(ve, source="scenes.mp4")
    assert len(docs) == len(ve)
    first = docs[0]
    assert first.metadata == {
        "source": "scenes.mp4",
        "task_id": ve.task_id,
        "model_name": "marengo3.0",
        "start_s": 0.0,
        "end_s": 6.0,
        "option": "visual",
        "scope": "clip",
        "segment": 0,
        "embedding_space": "marengo3.0/512",
        "input_type": "video",
    }
    assert first.page_content == "scenes.mp4, 0:00.0-0:06.0 (visual, clip)"
    assert len({d.id for d in docs}) == len(docs)
    query = emb.embed_query("hello")
    assert isinstance(query, list)
    assert isinstance(query[0], float)
    assert len(query) == 512


def _store(kind: str, emb: TwelveLabsEmbeddings, tmp_path: Path) -> Any:
    if kind == "in-memory":
        return InMemoryVectorStore(emb)
    if kind == "chroma":
        import chromadb
        from langchain_chroma import Chroma

        client = chromadb.PersistentClient(path=str(tmp_path / "chroma"))
        return Chroma(
            client=client,
            collection_name="segments",
            embedding_function=emb,
            collection_metadata={"hnsw:space": "cosine"},
        )
    location = {"path": tmp_path / "qdrant"} if kind == "qdrant-path" else {}
    return qdrant_vector_store(emb, collection_name="segments", **location)


@pytest.mark.parametrize("kind", ["in-memory", "qdrant-memory", "qdrant-path", "chroma"])
def test_a_text_query_finds_the_right_segment_and_what_was_said_in_it(
    scenes_embedding: tuple[TwelveLabsEmbeddings, VideoEmbedding], kind: str, tmp_path: Path
) -> None:
    emb, ve = scenes_embedding
    store = _store(kind, emb, tmp_path)
    ids = add_video_embedding(store, ve, source="scenes.mp4", transcript=SCENES)
    again = add_video_embedding(store, ve, source="scenes.mp4", transcript=SCENES)
    assert again == ids  # upsert, no duplicates
    assert len(store.similarity_search_by_vector(emb.embed_query("x"), k=50)) == len(ve)
    for start, _end, text in SCENES:
        (hit,) = store.similarity_search_by_vector(emb.embed_query(text), k=1)
        assert hit.metadata["start_s"] == pytest.approx(start)
        assert hit.metadata["source"] == "scenes.mp4"
        assert hit.metadata["task_id"] == ve.task_id
        assert hit.page_content == text  # the segment's words, not a label
    if kind.startswith("qdrant"):
        store.client.close()


def test_segment_text_comes_from_the_indexed_videos_transcript(
    scenes_embedding: tuple[TwelveLabsEmbeddings, VideoEmbedding], emu: EmulatorHarness
) -> None:
    # The whole path a user takes: index the video, read its transcript, store the segments.
    _, ve = scenes_embedding
    with emu.client() as client:
        index = client.indexes.create("segment-text")
        task = client.tasks.create_and_wait(index_id=index.id, file=emu.videos["scenes"])
        video = client.videos.retrieve(index.id, str(task.video_id), transcription=True)
    assert video.transcription
    docs = video_segments_to_documents(ve, source="scenes.mp4", transcript=video.transcription)
    said = {start: text for start, _, text in SCENES}
    assert len(docs) == len(ve)
    assert all(d.page_content == said[d.metadata["start_s"]] for d in docs)
    silent = video_segments_to_documents(ve, transcript=[])
    assert silent[0].page_content.endswith("0:00.0-0:06.0 (visual, clip)")


async def test_async_paths(emu: EmulatorHarness) -> None:
    async with emu.aclient() as aclient:
        emb = TwelveLabsEmbeddings(
            api_key=emu.emulator.api_key, base_url=emu.emulator.base_url, async_client=aclient
        )
        ve = await emb.aembed_video(emu.videos["short"], clip_length_s=4, options=["audio"])
        docs = await emb.aembed_documents(["one", "two", "three"])
    assert ve.options.tolist() == ["audio", "audio"]
    assert len(docs) == 3
    assert all(len(d) == 512 for d in docs)


async def test_async_paths_with_only_a_sync_client_use_its_key_and_server(
    emu: EmulatorHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The async calls run on the injected client's twin; they used to build a keyless client
    # (failing here, or silently calling the real API when a key was in the environment).
    monkeypatch.delenv("TWELVELABS_API_KEY", raising=False)
    monkeypatch.delenv("TWELVELABS_BASE_URL", raising=False)
    with emu.client() as client:
        emb = TwelveLabsEmbeddings(client=client)
        docs = await emb.aembed_documents(["one", "two"])
        query = await emb.aembed_query("one")
    assert [len(d) for d in docs] == [512, 512]
    assert np.allclose(docs[0], query)


def test_stores_with_add_embeddings_and_unsupported_stores() -> None:
    ve = VideoEmbedding.from_arrays(
        np.eye(2, dtype=np.float32),
        start_s=[0, 6],
        end_s=[6, 12],
        options=["visual"] * 2,
        scopes=["clip"] * 2,
        model_name="marengo3.0",
        task_id="t1",
    )

    class FaissLike:
        def add_embeddings(self, *, text_embeddings: Any, metadatas: Any, ids: Any) -> None:
            self.got = (text_embeddings, metadatas, ids)

    store = FaissLike()
    ids = add_video_embedding(store, ve, source="a.mp4")  # type: ignore[arg-type]
    texts, metas, got_ids = store.got
    assert got_ids == ids
    assert [m["end_s"] for m in metas] == [6.0, 12.0]
    assert texts[1][1] == [0.0, 1.0]
    with pytest.raises(InvalidRequestError, match="cannot add precomputed vectors"):
        add_video_embedding(object(), ve)  # type: ignore[arg-type]


def test_in_memory_store_without_calling_the_embedder() -> None:
    ve = VideoEmbedding.from_arrays(
        np.eye(3, dtype=np.float32),
        start_s=[0, 6, 12],
        end_s=[6, 12, 18],
        options=["audio"] * 3,
        scopes=["clip"] * 3,
        model_name="marengo3.0",
    )
    store = InMemoryVectorStore(FakeEmbeddings(size=3))
    add_video_embedding(store, ve)
    (hit,) = store.similarity_search_by_vector([0.0, 0.0, 1.0], k=1)
    assert hit.metadata["start_s"] == 12.0
    assert hit.metadata["source"] == "twelvelabs-embedding-task:unknown"


# --- media of every kind, and one space per store ------------------------------------------


@pytest.fixture(scope="module")
def media_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from tl_integrations.emulator import (
        make_sample_audio,
        make_sample_image,
        make_sample_pdf,
    )

    root = tmp_path_factory.mktemp("lc-media")
    return {
        "mp3": make_sample_audio(root / "tones.mp3", duration_s=8.0),
        "png": make_sample_image(root / "red.png", ["red"]),
        "pdf": make_sample_pdf(root / "report.pdf", ["A red kite flies.", "Penguins march."]),
    }


def test_audio_image_and_document_embeddings_share_the_query_space(
    emu: EmulatorHarness, media_files: dict[str, Path]
) -> None:
    with emu.client() as client:
        emb = TwelveLabsEmbeddings(model="marengo3.5", embedding_dimension=256, client=client)
        sound = emb.embed_audio(media_files["mp3"], clip_length_s=4)
        image = emb.embed_image(media_files["png"])
        pages = emb.embed_document(media_files["pdf"])
        query = emb.embed_query("penguins march")
    assert (sound.dim, len(image), pages.dim, len(query), emb.dim) == (256, 256, 256, 256, 256)
    assert emb.space == sound.space == pages.space == "marengo3.5/256"
    docs = video_segments_to_documents(pages, source="report.pdf")
    assert [d.page_content for d in docs] == [
        "report.pdf, page 1 (visual, page)",
        "report.pdf, page 2 (visual, page)",
    ]
    assert "start_s" not in docs[0].metadata  # no NaN in a store's metadata
    assert docs[1].metadata["start_page"] == 2
    store = InMemoryVectorStore(emb)
    add_video_embedding(store, pages, source="report.pdf")
    (hit,) = store.similarity_search_by_vector(query, k=1)
    assert hit.metadata["start_page"] == 2


async def test_native_async_media_embeddings(
    emu: EmulatorHarness, media_files: dict[str, Path]
) -> None:
    async with emu.aclient() as aclient:
        emb = TwelveLabsEmbeddings(model="marengo3.5", async_client=aclient)
        sound = await emb.aembed_audio(media_files["mp3"])
        image = await emb.aembed_image(media_files["png"])
        pages = await emb.aembed_document(media_files["pdf"])
    assert (sound.input_type, len(image), len(pages)) == ("audio", 512, 2)


def test_stores_never_mix_spaces(emu: EmulatorHarness, tmp_path: Path) -> None:
    def fake(model: str, dim: int) -> VideoEmbedding:
        return VideoEmbedding.from_arrays(
            np.eye(2, dim, dtype=np.float32),
            start_s=[0, 6],
            end_s=[6, 12],
            options=["visual"] * 2,
            scopes=["clip"] * 2,
            model_name=model,
            task_id=model,
        )

    old, new = fake("marengo3.0", 512), fake("marengo3.5", 512)
    query_model = TwelveLabsEmbeddings(api_key="k", base_url=OFFLINE)
    with pytest.raises(
        InvalidRequestError, match=r"marengo3\.0/512 and these vectors are marengo3\.5"
    ):
        add_video_embedding(InMemoryVectorStore(query_model), new)
    store = InMemoryVectorStore(FakeEmbeddings(size=512))
    add_video_embedding(store, old)
    with pytest.raises(InvalidRequestError, match="cannot be compared"):
        add_video_embedding(store, new)
    with pytest.raises(InvalidRequestError, match="cannot be compared"):
        add_video_embedding(store, fake("marengo3.0", 256))
    qdrant = qdrant_vector_store(FakeEmbeddings(size=512), collection_name="s", location=":memory:")
    add_video_embedding(qdrant, old)
    with pytest.raises(InvalidRequestError, match="cannot be compared"):
        add_video_embedding(qdrant, new)
    with pytest.raises(InvalidRequestError, match="512-d vectors"):
        add_video_embedding(qdrant, fake("marengo3.5", 256))
    qdrant.client.close()


def test_a_dimension_needs_marengo35() -> None:
    with pytest.raises(InvalidRequestError, match=r"needs marengo3\.5"):
        TwelveLabsEmbeddings(api_key="k", embedding_dimension=256)
    with pytest.raises(InvalidRequestError):
        TwelveLabsEmbeddings(api_key="k", model="marengo3.5", embedding_dimension=600)
