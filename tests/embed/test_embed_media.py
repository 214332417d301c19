"""client.embed for every modality against the emulator: Marengo 3.5 sizes, sound files,
images, documents, multi_input, and local files through assets (deleted after, or not)."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
import pytest
from embed_support import EmulatorHarness

from tl_integrations import (
    InvalidRequestError,
    InvalidVideoError,
    MediaEmbedding,
    TaskFailedError,
    TwelveLabs,
    VideoEmbedding,
)
from tl_integrations.emulator import (
    make_sample_audio,
    make_sample_image,
    make_sample_pdf,
    make_sample_video,
)

M35, M30 = "marengo3.5", "marengo3.0"
PAGES = ["A red kite flies over the beach.", "Penguins march across the ice.", "Boil the pasta."]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("media")
    notes = root / "notes.md"
    notes.write_text("# Kites\nA red kite flies. It is windy!\n\nPenguins march. The ice is thick.")
    return {
        "mp3": make_sample_audio(root / "tones.mp3", duration_s=12.0),
        "png": make_sample_image(root / "flag.png", ["red", "blue"]),
        "pdf": make_sample_pdf(root / "report.pdf", PAGES),
        "md": notes,
    }


def asset_names(client: TwelveLabs, *files: Path) -> list[str]:
    """The names of this module's files that are assets (the emulator is shared)."""
    names = {f.name for f in files}
    return sorted(a.filename or "" for a in client.assets.list() if a.filename in names)


def test_an_mp3_a_png_and_a_pdf_at_256_are_prefixes_of_the_512_vectors(
    emu_client: TwelveLabs, files: dict[str, Path]
) -> None:
    helpers = {"mp3": emu_client.embed.audio, "png": emu_client.embed.image}
    helpers["pdf"] = emu_client.embed.document
    for name, embed in helpers.items():
        full = embed(files[name], model_name=M35)
        short = embed(files[name], model_name=M35, embedding_dimension=256)
        assert (full.dim, short.dim, len(short)) == (512, 256, len(full)), name
        np.testing.assert_array_equal(short.vectors, full.vectors[:, :256])
        assert (short.model_name, short.space) == (M35, "marengo3.5/256")
        assert short.usage is not None
    pages = emu_client.embed.document(files["pdf"], embedding_dimension=256)
    assert pages.start_page.tolist() == [1, 2, 3]
    assert np.isnan(pages.start_s).all()
    query = emu_client.embed.text("penguins on the ice", model_name=M35, embedding_dimension=256)
    assert int(np.argmax(pages.vectors @ query)) == 1
    assert asset_names(emu_client, *files.values()) == []  # every asset made here is gone


def test_a_60_mb_local_file_embeds_with_marengo30_through_an_asset_deleted_after(
    emu: EmulatorHarness, emu_client: TwelveLabs, tmp_path: Path
) -> None:
    big = make_sample_video(tmp_path / "big.mp4", duration_s=8.0, seed=7)
    size = 60 * 1024**2
    with big.open("ab") as handle:  # a top-level "free" box: valid MP4, zeros, sparse
        handle.write(struct.pack(">I", size - big.stat().st_size) + b"free")
        handle.truncate(size)
    seen: list[str] = []
    me = emu_client.embed.video(
        big, model_name=M30, clip_length_s=4, on_update=lambda t: seen.append(str(t.asset_id))
    )
    assert big.stat().st_size == size
    assert (me.model_name, me.dim, len(me.select(option="visual"))) == (M30, 512, 2)
    assert seen
    assert seen[0] not in ("", "None")  # the task read an asset
    assert asset_names(emu_client, big) == []


def test_keep_asset_and_a_reused_asset_are_never_deleted(
    emu_client: TwelveLabs, files: dict[str, Path]
) -> None:
    emu_client.embed.audio(files["mp3"], keep_asset=True)
    assert asset_names(emu_client, files["mp3"]) == ["tones.mp3"]
    # Found by its bytes this time: someone else's asset, so it stays.
    emu_client.embed.audio(files["mp3"], model_name=M35)
    (kept,) = emu_client.assets.list(filename="tones.mp3")
    assert kept.filename == "tones.mp3"
    by_id = emu_client.embed.audio(kept.id, model_name=M35, embedding_dimension=64)
    assert by_id.dim == 64  # a bare asset id: its type is looked up first
    emu_client.assets.delete(kept.id)


def test_tasks_create_keeps_its_asset_and_serves_every_input_type(
    emu: EmulatorHarness, emu_client: TwelveLabs, files: dict[str, Path]
) -> None:
    tasks = [
        emu_client.embed.tasks.create(files["png"], model_name=M35),
        emu_client.embed.tasks.create(
            files["md"], model_name=M35, max_sentences=2, embedding_scope="local"
        ),
        emu_client.embed.tasks.create(files["mp3"], model_name=M30, embedding_options="audio"),
    ]
    done = {t.id: t for t in emu_client.embed.tasks.wait_many(tasks, timeout_s=600)}
    image, chunks, sound = (emu_client.embed.tasks.vectors(done[t.id]) for t in tasks)
    assert (image.input_type, image.scopes.tolist()) == ("image", ["asset"])
    assert chunks.chunk_index.tolist() == [0, 1, 2]  # sorted, whatever order they came in
    assert set(sound.options.tolist()) == {"audio"}
    assert {t.asset_id for t in tasks} <= {a.id for a in emu_client.assets.list()}
    for made in {t.asset_id for t in tasks}:
        emu_client.assets.delete(str(made))


def test_images_from_an_open_file_and_the_pixels_matter(
    emu_client: TwelveLabs, tmp_path: Path
) -> None:
    red = make_sample_image(tmp_path / "red.png", ["red"])
    blue = make_sample_image(tmp_path / "blue.png", ["blue"])
    word = emu_client.embed.text("red", model_name=M30)
    from_file = emu_client.embed.image(io.BytesIO(red.read_bytes()))
    assert isinstance(from_file, MediaEmbedding)
    assert VideoEmbedding is MediaEmbedding
    assert from_file.vectors[0] @ word > emu_client.embed.image(blue).vectors[0] @ word


def test_multi_input_with_named_sources(emu_client: TwelveLabs, files: dict[str, Path]) -> None:
    me = emu_client.embed.multi(
        "a flag like <@flag> and this tune", media={"flag": files["png"], "tune": files["mp3"]}
    )
    assert (me.input_type, len(me), me.dim) == ("multi_input", 1, 512)
    assert me.usage is not None
    assert set(me.usage["input_tokens"]) == {"text", "image", "audio"}


MULTI_REFUSED: dict[str, tuple[str | None, object, str]] = {
    "unknown reference": ("like <@hat>", {"flag": "png"}, "no media source"),
    "mixed without text": (None, ["png", "mp3"], "need a text"),
    "a pdf with text": ("about this", ["pdf"], "only source"),
    "text with a text document": ("more", ["md"], "all text"),
    "3.0 with sound": ("x", ["mp3"], "not audio"),
}


@pytest.mark.parametrize(("text", "media", "match"), MULTI_REFUSED.values(), ids=MULTI_REFUSED)
def test_multi_input_rules_are_checked_before_anything_is_sent(
    emu: EmulatorHarness,
    emu_client: TwelveLabs,
    files: dict[str, Path],
    text: str | None,
    media: object,
    match: str,
) -> None:
    model = M30 if "3.0" in match or match == "not audio" else M35
    if isinstance(media, dict):
        given: object = {k: files[v] for k, v in media.items()}
    else:
        given = [files[name] for name in media]  # type: ignore[attr-defined]
    before = emu.posts()
    with pytest.raises(InvalidRequestError, match=match):
        emu_client.embed.multi(text, media=given, model_name=model)  # type: ignore[arg-type]
    assert emu.posts() == before


TASK_REFUSED: dict[str, tuple[str, dict[str, object], str]] = {
    "transcription on 3.5": ("mp3", {"options": "transcription"}, "covers speech"),
    "image on 3.0": ("png", {"model_name": M30}, "marengo3.5"),
    "dimension on 3.0": (
        "mp3",
        {"model_name": M30, "embedding_dimension": 256},
        "needs marengo3.5",
    ),
    "a pdf text chunk": ("pdf", {"options": "text", "scopes": "local"}, "not allowed"),
    "chunks without a size": ("md", {"scopes": "local"}, "max_sentences"),
    "quadrants of text": ("md", {"spatial": "quadrants"}, "PDF pages only"),
    "uncertainty on a pdf": ("pdf", {"embedding_uncertainty": True}, "PDF"),
    "uncertainty with asset scope": (
        "mp3",
        {"embedding_uncertainty": True, "scopes": "asset"},
        "without 'asset'",
    ),
    "dynamic audio on 3.0": ("mp3", {"model_name": M30, "segmentation": "dynamic"}, "fixed"),
}


@pytest.mark.parametrize(("name", "kwargs", "match"), TASK_REFUSED.values(), ids=TASK_REFUSED)
def test_task_rules_are_checked_before_anything_is_sent(
    emu: EmulatorHarness,
    emu_client: TwelveLabs,
    files: dict[str, Path],
    name: str,
    kwargs: dict[str, object],
    match: str,
) -> None:
    args = {"model_name": M35, **kwargs}
    model = str(args.pop("model_name"))
    before = emu.posts()
    with pytest.raises(InvalidRequestError, match=match):
        emu_client.embed.tasks.create(files[name], model_name=model, **_sdk_names(args))
    assert emu.posts() == before


def _sdk_names(args: dict[str, object]) -> dict[str, object]:
    names = {"options": "embedding_options", "scopes": "embedding_scope"}
    return {names.get(k, k): v for k, v in args.items()}


def test_a_failed_document_task_deletes_its_asset(emu_client: TwelveLabs, tmp_path: Path) -> None:
    long = make_sample_pdf(tmp_path / "long.pdf", [f"Page {n}." for n in range(65)])
    with pytest.raises(TaskFailedError, match="65 pages"):
        emu_client.embed.document(long)
    assert "long.pdf" not in asset_names(emu_client)


def test_files_too_large_for_an_asset_are_refused_first(
    emu: EmulatorHarness, emu_client: TwelveLabs, tmp_path: Path
) -> None:
    huge = tmp_path / "huge.png"
    with huge.open("wb") as handle:
        handle.truncate(33 * 1024**2)
    before = emu.posts()
    with pytest.raises(InvalidVideoError, match="32 MB"):
        emu_client.embed.image(huge)
    assert emu.posts() == before


async def test_the_async_client_embeds_media_too(
    emu: EmulatorHarness, files: dict[str, Path]
) -> None:
    async with emu.aclient() as client:
        pages = await client.embed.document(files["pdf"], embedding_dimension=128)
        image = await client.embed.image(files["png"], model_name=M35)
        mixed = await client.embed.multi("red <@f>", media={"f": files["png"]})
        left = [a.filename async for a in client.assets.list() if a.filename == "report.pdf"]
    assert (pages.dim, len(pages)) == (128, 3)
    assert (image.dim, mixed.dim) == (512, 512)
    assert left == []
