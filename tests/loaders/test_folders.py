"""Folders and glob patterns as inputs, and the reader as a SimpleDirectoryReader extractor."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from llama_index.core import SimpleDirectoryReader

from tl_integrations import InvalidVideoError, TwelveLabs
from tl_integrations._ingest import resolve_inputs
from tl_integrations.langchain import TwelveLabsVideoLoader
from tl_integrations.llama_index import TwelveLabsVideoReader

from .conftest import Media


@pytest.fixture
def folder(tmp_path: Path, media: Media) -> Path:
    """talk.mp4 and garden.mp4 at the top, silent.mp4 below, plus files to be skipped."""
    shutil.copy(media.talk, tmp_path / "talk.mp4")
    # Other bytes than the session's garden.mp4: the account reuses an asset holding the
    # same bytes, name included, and the other tests expect the lower-case name.
    (tmp_path / "garden.MP4").write_bytes(media.garden.read_bytes() + b"\0")
    (tmp_path / "notes.txt").write_text("not a video")
    (tmp_path / ".hidden.mp4").write_bytes(media.silent.read_bytes())
    (tmp_path / "more").mkdir()
    shutil.copy(media.silent, tmp_path / "more" / "silent.mp4")
    (tmp_path / ".cache").mkdir()
    shutil.copy(media.short, tmp_path / ".cache" / "short.mp4")
    return tmp_path


def test_a_folder_means_its_videos_sorted_and_hidden_ones_skipped(folder: Path) -> None:
    names = [Path(s.source).relative_to(folder).as_posix() for s in resolve_inputs(folder)]
    assert names == ["garden.MP4", "talk.mp4"]
    deep = [
        Path(s.source).relative_to(folder).as_posix()
        for s in resolve_inputs(str(folder), recursive=True)
    ]
    assert deep == ["garden.MP4", "more/silent.mp4", "talk.mp4"]


def test_glob_patterns_and_their_failures(folder: Path) -> None:
    found = resolve_inputs(f"{folder}/**/*.mp4")
    assert [Path(s.source).name for s in found] == ["silent.mp4", "talk.mp4"]
    with pytest.raises(InvalidVideoError, match="no video files match"):
        resolve_inputs(f"{folder}/*.mkv")
    empty = folder / "empty"
    empty.mkdir()
    with pytest.raises(InvalidVideoError, match="recursive=True"):
        resolve_inputs(empty)


def test_the_loader_takes_a_folder(
    client: TwelveLabs, folder: Path, index_name: str, uploads: Callable[[], int]
) -> None:
    loader = TwelveLabsVideoLoader(
        [folder], index_name=index_name, content=("transcript",), client=client
    )
    docs = loader.load()
    assert {d.metadata["filename"] for d in docs} == {"talk.mp4", "garden.MP4"}
    assert len({d.metadata["video_id"] for d in docs}) == 2
    before = uploads()
    again = loader.load()  # a second run finds both videos by their content hash
    assert uploads() == before
    assert {d.id for d in again} == {d.id for d in docs}


def test_the_reader_works_as_a_simple_directory_reader_extractor(
    client: TwelveLabs, folder: Path, index_name: str
) -> None:
    reader = TwelveLabsVideoReader(index_name=index_name, content=("transcript",), client=client)
    directory = SimpleDirectoryReader(
        input_dir=str(folder),
        file_extractor={".mp4": reader, ".MP4": reader},
        required_exts=[".mp4", ".MP4"],
    )
    docs = directory.load_data()
    assert docs, "the extractor gave Documents"
    assert {d.metadata["file_name"] for d in docs} == {"talk.mp4", "garden.MP4"}
    for doc in docs:
        assert doc.metadata["content_kind"] == "transcript"
        assert doc.metadata["video_id"]
        assert "file_path" in doc.excluded_embed_metadata_keys
        assert doc.metadata["file_path"] not in doc.get_content(metadata_mode="embed")
