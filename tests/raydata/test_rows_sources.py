"""Rows in and out of the callables, and sources: paths, URLs, object-store URIs (no Ray)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

from tl_integrations import InvalidVideoError
from tl_integrations._ingest.inputs import upload_limit
from tl_integrations.ray._rows import rows_of, source_column, table_of
from tl_integrations.ray._sources import is_object_uri, staged

# Ray Data's own settings object warns about its own deprecated defaults when first made.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:ray")


def test_declared_columns_keep_their_type_when_a_batch_holds_only_none() -> None:
    rows = [{"title": None, "start_s": None}]
    table = table_of(rows, types={"start_s": "float"}, order=["title"])
    assert [str(t) for t in table.schema.types] == ["string", "double"]


def test_vectors_are_a_fixed_size_float32_column_with_nan_for_missing_rows() -> None:
    rows = [{"vector": np.ones(3)}, {"vector": None}]
    column = table_of(rows, types={"vector": "vector:3"}).column("vector")
    matrix = column.chunk(0).to_numpy()
    assert matrix.shape == (2, 3)
    assert matrix.dtype == np.float32
    assert np.isnan(matrix[1]).all()


def test_undeclared_columns_are_inferred_and_all_none_is_a_string() -> None:
    table = table_of([{"n": 1, "empty": None}])
    assert [str(t) for t in table.schema.types] == ["int64", "string"]


def test_rows_come_from_numpy_pandas_or_arrow_batches_and_nan_is_none() -> None:
    numpy_batch = {"source": np.array(["a.mp4"]), "d": np.array([np.nan])}
    assert rows_of(numpy_batch) == [{"source": "a.mp4", "d": None}]
    table = table_of([{"source": "a.mp4"}])
    assert rows_of(table) == [{"source": "a.mp4"}]
    assert rows_of(table.to_pandas()) == [{"source": "a.mp4"}]
    assert rows_of({}) == []
    with pytest.raises(TypeError, match="mapping of columns"):
        rows_of(42)


def test_a_missing_source_column_names_the_columns_there_are() -> None:
    with pytest.raises(KeyError, match=r"no 'source' column \(it has \['path'\]\)"):
        source_column([{"path": "a.mp4"}], "source")


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("s3://bucket/a.mp4", True),
        ("gs://bucket/a.mp4", True),
        ("file:///data/a.mp4", True),
        ("https://cdn.example.com/a.mp4", False),
        ("video:65f0a1", False),
        ("clips/a.mp4", False),
        ("C:\\clips\\a.mp4", False),
    ],
)
def test_object_store_uris_are_told_from_urls_paths_and_ids(source: str, expected: bool) -> None:
    assert is_object_uri(source) is expected


def test_an_object_store_file_is_copied_hashed_and_removed(tmp_path: Path) -> None:
    bucket = tmp_path / "bucket"
    bucket.mkdir()
    (bucket / "talk.mp4").write_bytes(b"not really a video, but bytes all the same")
    uri = (bucket / "talk.mp4").as_uri()
    with staged(uri, scratch_dir=str(tmp_path)) as media:
        assert media.kind == "file"
        assert media.path is not None
        assert media.path.name == "talk.mp4"  # the server records the object's own name
        assert media.path.parent != bucket
        copied = media.path
        assert media.digest == hashlib.sha256(copied.read_bytes()).hexdigest()
        assert media.key == ("tl_sha256", media.digest)
    assert not copied.exists()


def test_a_missing_object_is_refused_naming_the_uri(tmp_path: Path) -> None:
    uri = (tmp_path / "nope.mp4").as_uri()
    with pytest.raises(InvalidVideoError, match=r"nope\.mp4"), staged(uri):
        pass


@pytest.mark.parametrize("as_object", [False, True])
def test_a_file_over_its_upload_paths_limit_is_refused_before_it_is_copied(
    tmp_path: Path, as_object: bool
) -> None:
    """3 GB (sparse) passes as an asset (10 GB) and is refused on /tasks (2 GB); an
    object-store copy is judged by the store's size, before a byte is copied."""
    path = tmp_path / "big.mp4"
    with open(path, "wb") as handle:
        os.truncate(handle.fileno(), 3 * 1024**3)
    source = path.as_uri() if as_object else str(path)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with (
        pytest.raises(InvalidVideoError, match=r"over the 2 GB upload limit"),
        staged(source, scratch_dir=scratch, max_bytes=upload_limit("tasks")),
    ):
        pass
    assert list(scratch.iterdir()) == []
    if not as_object:  # copying 3 GB of a sparse file is not worth a test's time
        with staged(source, max_bytes=upload_limit("assets")) as media:
            assert media.path == path


def test_local_files_urls_and_video_ids_have_their_keys(tmp_path: Path) -> None:
    path = tmp_path / "a.mp4"
    path.write_bytes(b"abc")
    with staged(str(path)) as media:
        assert media.key == ("tl_sha256", hashlib.sha256(b"abc").hexdigest())
        assert media.path == path  # a local file is used where it is
    with staged("https://cdn.example.com/a.mp4?sig=secret") as media:
        assert media.key is not None
        assert media.key[0] == "tl_url_sha256"
    with staged("video:65f0a1") as media:
        assert (media.kind, media.video_id, media.key) == ("video", "65f0a1", None)
