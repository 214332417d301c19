"""client.search on the emulator: every query form, options, filters and paging, checked
both on the wire and in what comes back."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from search_emulator import Indexed, Scenes, Twin

from tl_integrations import InvalidRequestError, InvalidVideoError, SearchFilter, SearchImage


def moments(clips: list[Any]) -> list[tuple[str, float]]:
    return [(c.video_id, c.start_s) for c in clips]


def test_a_text_query_searches_spoken_words_by_default(twin: Twin, indexed: Indexed) -> None:
    clips = twin.collect(
        twin.client.search.query(index_id=indexed.index_id, query_text="sourdough bread")
    )
    (form,) = twin.wire.forms
    assert form.fields["search_options"] == ["visual", "audio", "transcription"]
    assert form.fields["query_text"] == ["sourdough bread"]
    assert "query_media_type" not in form.fields
    assert form.files == []
    best = clips[0]
    assert (best.video_id, best.rank) == (indexed.kitchen, 1)
    assert best.transcription
    assert "today we bake sourdough bread" in best.transcription
    assert best.start_s <= 3.5 < best.end_s
    assert best.thumbnail_url
    assert best.thumbnail_url.startswith(indexed.emulator.url + "/_emulator/thumbnails/")
    frame = httpx.get(best.thumbnail_url)
    assert (frame.status_code, frame.headers["content-type"]) == (200, "image/png")


def test_image_queries_send_files_urls_and_asset_images(twin: Twin, scenes: Scenes) -> None:
    photo = twin.run(twin.client.assets.upload(scenes.images["purple"]))
    url = photo.thumbnail["representative_url"]
    before = len(twin.wire.requests)
    clips = twin.collect(
        twin.client.search.query(
            index_id=scenes.index_id,
            images=[
                scenes.images["orange"],
                url,
                f"asset:{photo.id}",
                SearchImage.file(scenes.images["green"]),
            ],
        )
    )
    sent = twin.wire.requests[before:]
    assert [r.method for r in sent] == ["GET", "POST"]  # the asset, then the search
    form = twin.wire.forms[-1]
    assert form.fields["query_media_type"] == ["image"]
    assert "query_text" not in form.fields
    assert form.fields["query_media_url"] == [url, url]
    assert form.files == [
        ("query_media_file", "orange.png", scenes.images["orange"].read_bytes()),
        ("query_media_file", "green.png", scenes.images["green"].read_bytes()),
    ]
    # Orange, purple and green: the clips of those colours, not the cyan one.
    assert sorted(moments(clips)) == sorted(
        [(scenes.sunset, 0.0), (scenes.sunset, 4.0), (scenes.meadow, 0.0)]
    )


def test_a_composed_query_sends_text_and_image(twin: Twin, scenes: Scenes) -> None:
    clips = twin.collect(
        twin.client.search.query(
            index_id=scenes.index_id,
            query_text="cows graze",
            images=scenes.images["purple"],
            search_options=["visual"],
        )
    )
    (form,) = twin.wire.forms
    assert form.fields["query_text"] == ["cows graze"]
    assert form.fields["query_media_type"] == ["image"]
    assert [f[1] for f in form.files] == ["purple.png"]
    assert set(moments(clips)[:2]) == {(scenes.meadow, 0.0), (scenes.sunset, 4.0)}


def test_unusable_image_assets_are_refused_before_the_search(
    twin: Twin, scenes: Scenes, indexed: Indexed, tmp_path: Path
) -> None:
    client = twin.client
    # New bytes each run: an upload of bytes already held returns that (thumbnailed) asset.
    green, fresh = tmp_path / "green.png", tmp_path / "fresh.png"
    green.write_bytes(scenes.images["green"].read_bytes() + uuid.uuid4().bytes)
    fresh.write_bytes(scenes.images["orange"].read_bytes() + uuid.uuid4().bytes)
    bare = twin.run(client.assets.upload(green, enable_thumbnail=False))
    film = twin.run(client.assets.upload(indexed.media / "garden.mp4"))
    processing = twin.run(client.assets.create(fresh))  # no wait: the clock stays
    cases = [
        (processing.id, "is processing; wait for it"),
        (film.id, "video/mp4, not an image"),
        (bare.id, "no image URL"),
    ]
    searches = len(twin.wire.sent("POST", "/search"))
    for asset_id, message in cases:
        with pytest.raises(InvalidRequestError, match=message):
            twin.collect(client.search.query(index_id=scenes.index_id, images=f"asset:{asset_id}"))
    assert len(twin.wire.sent("POST", "/search")) == searches


def test_options_operator_grouping_and_metadata_go_on_the_wire(
    twin: Twin, indexed: Indexed
) -> None:
    flt = SearchFilter().duration(gte=5).where("topic", "cooking").where("views", gte=100)
    clips = twin.collect(
        twin.client.search.query(
            index_id=indexed.index_id,
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
    (form,) = twin.wire.forms
    assert form.fields["search_options"] == ["transcription", "visual"]
    assert form.fields["transcription_options"] == ["lexical"]
    assert form.one("operator") == "and"
    assert form.one("group_by") == "video"
    assert form.one("page_limit") == "50"
    assert orjson.loads(form.one("filter") or "") == {
        "duration": {"gte": 5},
        "topic": "cooking",
        "views": {"gte": 100},
    }
    assert form.one("include_user_metadata") == "true"
    assert moments(clips)[0][0] == indexed.kitchen
    assert {c.video_id for c in clips} == {indexed.kitchen}
    # The client's own upload token rides along in the metadata (lost-answer recovery).
    assert all(c.user_metadata["topic"] == "cooking" for c in clips)
    assert all(c.user_metadata["views"] == 120 for c in clips)


def test_pages_are_followed_lazily_and_keep_user_metadata(twin: Twin, scenes: Scenes) -> None:
    colours = [scenes.images[c] for c in ("orange", "purple", "green")]
    query = twin.client.search.query(
        index_id=scenes.index_id, images=colours, page_limit=2, include_user_metadata=True
    )
    clips = twin.collect(query)
    assert len(clips) == 3
    assert {c.video_id: c.user_metadata["team"] for c in clips} == {
        scenes.sunset: "blue",
        scenes.meadow: "green",
    }
    follows = [r for r in twin.wire.requests if r.method == "GET"]
    assert len(follows) == 1
    assert all(r.url.params["include_user_metadata"] == "true" for r in follows)


def test_a_silent_clip_has_no_transcription(twin: Twin, scenes: Scenes) -> None:
    (clip,) = twin.collect(
        twin.client.search.query(index_id=scenes.index_id, images=scenes.images["cyan"])
    )
    assert (clip.video_id, clip.start_s, clip.transcription) == (scenes.meadow, 4.0, None)


def test_max_results_stops_before_the_next_page(twin: Twin, indexed: Indexed) -> None:
    clips = twin.collect(
        twin.client.search.query(
            index_id=indexed.index_id,
            query_text="water the roses, knead the dough",
            page_limit=1,
            max_results=1,
        )
    )
    assert len(clips) == 1
    assert [r.method for r in twin.wire.requests] == ["POST"]


def test_group_by_video_yields_each_videos_clips_with_its_id(twin: Twin, scenes: Scenes) -> None:
    clips = twin.collect(
        twin.client.search.query(
            index_id=scenes.index_id,
            images=[scenes.images[c] for c in ("orange", "purple", "green")],
            group_by="video",
        )
    )
    by_video = [c.video_id for c in clips]  # each video's clips together
    assert by_video in (
        [scenes.sunset, scenes.sunset, scenes.meadow],
        [scenes.meadow, scenes.sunset, scenes.sunset],
    )
    assert sorted(c.rank or 0 for c in clips) == [1, 2, 3]
    assert all(c.thumbnail_url for c in clips)


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
    assert twin.wire.requests == []


def test_images_that_are_not_images_are_refused(twin: Twin, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    with pytest.raises(InvalidRequestError, match="is not an image"):
        twin.client.search.query(index_id="i1", images=notes)
    empty = tmp_path / "empty.jpg"
    empty.touch()
    with pytest.raises(InvalidVideoError, match="empty"):
        twin.client.search.query(index_id="i1", images=[empty])
    assert twin.wire.requests == []


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
