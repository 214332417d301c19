"""client.search: every query form, options, filters and paging, against the spec fake.

Image, composed and entity queries, thumbnails and page-token metadata are not served by
the emulator yet; the fake follows the wire spec (§8) for them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from search_fakes import FakeSearchAPI, Twin

from tl_integrations import InvalidRequestError, InvalidVideoError, SearchFilter, SearchImage

LINES = [(0.0, 4.0, "welcome to the kitchen"), (4.0, 8.0, "we bake sourdough bread")]


@pytest.fixture
def index_id(api: FakeSearchAPI) -> str:
    index = api.add_index("kitchen")
    api.add_video(index, "talk.mp4", LINES, user_metadata={"team": "blue"})
    return index


@pytest.fixture
def jpg(tmp_path: Path) -> Path:
    path = tmp_path / "face.jpg"
    path.write_bytes(b"\xff\xd8\xff fake jpeg")
    return path


def test_a_text_query_searches_spoken_words_by_default(twin: Twin, index_id: str) -> None:
    clips = twin.collect(twin.client.search.query(index_id=index_id, query_text="sourdough"))
    (form,) = twin.api.forms
    assert form.fields["search_options"] == ["visual", "audio", "transcription"]
    assert form.fields["query_text"] == ["sourdough"]
    assert "query_media_type" not in form.fields
    assert form.files == []
    best = clips[0]
    assert (best.start_s, best.end_s, best.rank) == (4.0, 8.0, 1)
    assert best.transcription == "we bake sourdough bread"
    assert best.thumbnail_url == f"https://thumbs.test/{best.video_id}/4.jpg"


def test_image_queries_send_files_urls_and_asset_images(
    twin: Twin, index_id: str, jpg: Path, tmp_path: Path
) -> None:
    other = tmp_path / "b.png"
    other.write_bytes(b"\x89PNG other")
    asset = twin.api.add_asset()
    clips = twin.collect(
        twin.client.search.query(
            index_id=index_id,
            images=[jpg, "https://img.test/car.jpg", f"asset:{asset}", SearchImage.file(other)],
        )
    )
    assert clips
    (form,) = twin.api.forms
    assert form.fields["query_media_type"] == ["image"]
    assert "query_text" not in form.fields
    assert form.fields["query_media_url"] == [
        "https://img.test/car.jpg",
        f"https://assets.test/{asset}.jpg",
    ]
    assert form.files == [
        ("query_media_file", "face.jpg", jpg.read_bytes()),
        ("query_media_file", "b.png", other.read_bytes()),
    ]
    assert [r.method for r in twin.api.requests] == ["GET", "POST"]  # the asset, then search


def test_a_composed_query_sends_text_and_image(twin: Twin, index_id: str, jpg: Path) -> None:
    twin.collect(twin.client.search.query(index_id=index_id, query_text="bread", images=jpg))
    (form,) = twin.api.forms
    assert form.fields["query_text"] == ["bread"]
    assert form.fields["query_media_type"] == ["image"]
    assert [f[1] for f in form.files] == ["face.jpg"]


@pytest.mark.parametrize(
    ("asset", "message"),
    [
        ({"status": "processing"}, "is processing; wait for it"),
        ({"file_type": "video/mp4"}, "not an image"),
        ({"thumbnail": False}, "no image URL"),
    ],
)
def test_unusable_image_assets_are_refused_before_the_search(
    twin: Twin, index_id: str, asset: dict[str, Any], message: str
) -> None:
    asset_id = twin.api.add_asset(**asset)
    with pytest.raises(InvalidRequestError, match=message):
        twin.collect(twin.client.search.query(index_id=index_id, images=f"asset:{asset_id}"))
    assert twin.api.forms == []


def test_entity_queries_find_the_moments_with_that_entity(twin: Twin, api: FakeSearchAPI) -> None:
    index = api.add_index("match")
    api.add_video(index, "game.mp4", [(0, 5, "kick off"), (5, 9, "a goal")], entities={5: {"e1"}})
    api.entities["e1"] = {"_id": "e1", "entity_collection_id": "c", "_ready_at": 0.0}
    clips = twin.collect(twin.client.search.query(index_id=index, query_text="<@e1> scores"))
    assert [(c.start_s, c.transcription) for c in clips] == [(5, "a goal")]


def test_options_operator_grouping_and_metadata_go_on_the_wire(twin: Twin, index_id: str) -> None:
    flt = SearchFilter().duration(gte=5).where("team", "blue")
    twin.collect(
        twin.client.search.query(
            index_id=index_id,
            query_text="bread",
            search_options=["transcription", "visual"],
            transcription_options=["lexical"],
            operator="and",
            group_by="video",
            page_limit=50,
            filter=flt,
            include_user_metadata=True,
        )
    )
    (form,) = twin.api.forms
    assert form.fields["search_options"] == ["transcription", "visual"]
    assert form.fields["transcription_options"] == ["lexical"]
    assert form.one("operator") == "and"
    assert form.one("group_by") == "video"
    assert form.one("page_limit") == "50"
    assert orjson.loads(form.one("filter") or "") == {"duration": {"gte": 5}, "team": "blue"}
    assert form.one("include_user_metadata") == "true"


def test_pages_are_followed_lazily_and_keep_user_metadata(twin: Twin, index_id: str) -> None:
    for n in range(3):
        twin.api.add_silent_clip(next(iter(twin.api.videos)), 10.0 + n, 11.0 + n)
    query = twin.client.search.query(
        index_id=index_id, query_text="q", page_limit=2, include_user_metadata=True
    )
    clips = twin.collect(query)
    assert len(clips) == 5
    assert all(c.user_metadata == {"team": "blue"} for c in clips)
    follows = [r for r in twin.api.requests if r.method == "GET"]
    assert len(follows) == 2
    assert all(r.url.params["include_user_metadata"] == "true" for r in follows)
    assert [c.transcription for c in clips[2:]] == [None, None, None]  # silence: no text


def test_max_results_stops_before_the_next_page(twin: Twin, index_id: str) -> None:
    for n in range(5):
        twin.api.add_silent_clip(next(iter(twin.api.videos)), 10.0 + n, 11.0 + n)
    clips = twin.collect(
        twin.client.search.query(index_id=index_id, query_text="q", page_limit=3, max_results=3)
    )
    assert len(clips) == 3
    assert [r.method for r in twin.api.requests] == ["POST"]


def test_group_by_video_yields_each_videos_clips_with_its_id(twin: Twin, index_id: str) -> None:
    clips = twin.collect(
        twin.client.search.query(index_id=index_id, query_text="bread", group_by="video")
    )
    assert {c.video_id for c in clips} == set(twin.api.videos)
    assert sorted(c.rank or 0 for c in clips) == [1, 2]


BAD_QUERIES: list[tuple[dict[str, Any], str]] = [
    ({}, "needs query_text, images, or both"),
    ({"query_text": "   "}, "non-empty string"),
    ({"query_text": "word " * 501}, "at most 500 tokens"),
    ({"query_text": "<@> is here"}, "malformed entity mention"),
    ({"query_text": "<@e1 walking"}, "malformed entity mention"),
    ({"query_text": "q", "search_options": "visual"}, "non-empty list"),
    ({"query_text": "q", "search_options": []}, "non-empty list"),
    ({"query_text": "q", "search_options": ["speech"]}, "unknown"),
    ({"query_text": "q", "transcription_options": ["fuzzy"]}, "unknown"),
    (
        {"query_text": "q", "search_options": ["visual"], "transcription_options": ["lexical"]},
        "apply to the 'transcription' search option",
    ),
    ({"query_text": "q", "operator": "xor"}, "operator"),
    ({"query_text": "q", "group_by": "scene"}, "group_by"),
    ({"query_text": "q", "page_limit": 51}, "page_limit"),
    ({"query_text": "q", "max_results": 0}, "max_results"),
    ({"query_text": "q", "include_user_metadata": "yes"}, "True or False"),
    ({"images": ["https://i.test/x.jpg"] * 11}, "at most 10 images"),
    ({"images": ["ftp://i.test/x.jpg"]}, "http"),
    ({"images": [3]}, "an image is a local path"),
    ({"images": ["/no/such/image.jpg"]}, "not found"),
    ({"query_text": "q", "filter": {"id": "v1"}}, "list of video ids"),
    ({"query_text": "q", "filter": {"duration": {"gte": 9, "lte": 3}}}, "nothing could match"),
    ({"query_text": "q", "filter": {"duration": {"gt": 3}}}, "'gte' and/or 'lte'"),
    ({"query_text": "q", "filter": {"width": -1}}, ">= 0"),
    ({"query_text": "q", "filter": {"tags": ["a", "b"]}}, "lists work only for 'id'"),
    ({"query_text": "q", "filter": {"views": float("nan")}}, "finite number"),
    ({"query_text": "q", "filter": ["team"]}, "SearchFilter or a dict"),
]


@pytest.mark.parametrize(("kwargs", "message"), BAD_QUERIES)
def test_bad_queries_fail_before_any_request(
    twin: Twin, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidRequestError, match=message):
        twin.collect(twin.client.search.query(index_id="i1", **kwargs))
    assert twin.api.requests == []


def test_images_that_are_not_images_are_refused(twin: Twin, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    with pytest.raises(InvalidRequestError, match="is not an image"):
        twin.client.search.query(index_id="i1", images=notes)
    empty = tmp_path / "empty.jpg"
    empty.touch()
    with pytest.raises(InvalidVideoError, match="empty"):
        twin.client.search.query(index_id="i1", images=[empty])


def test_the_filter_builder_and_dicts_agree() -> None:
    built = (
        SearchFilter()
        .videos("v1", "v2")
        .duration(gte=10, lte=60)
        .width(1920)
        .height(lte=1080)
        .size(gte=1)
        .filename("talk.mp4")
        .where("needs_review", True)
        .where("views", gte=100)
    )
    as_dict = {
        "id": ["v1", "v2"],
        "duration": {"gte": 10, "lte": 60},
        "width": 1920,
        "height": {"lte": 1080},
        "size": {"gte": 1},
        "filename": "talk.mp4",
        "needs_review": True,
        "views": {"gte": 100},
    }
    assert built.to_dict() == as_dict
    assert SearchFilter(as_dict) == built
    assert hash(SearchFilter(as_dict)) == hash(built)
    assert built.duration(5).to_dict()["duration"] == 5  # a later call replaces the field
    assert not SearchFilter()


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda f: f.where("duration", 3), r"use SearchFilter\(\).duration"),
        (lambda f: f.where("id", "v"), r"use SearchFilter\(\).videos"),
        (lambda f: f.duration(3, gte=1), "not both"),
        (lambda f: f.width(), "give a value"),
        (lambda f: f.filename(""), "exact name"),
        (lambda f: f.videos(), "non-empty list"),
        (lambda f: f.where("flag", True).where("", 1), "non-empty strings"),
    ],
)
def test_the_filter_builder_names_the_fix(build: Any, message: str) -> None:
    with pytest.raises(InvalidRequestError, match=message):
        build(SearchFilter())
