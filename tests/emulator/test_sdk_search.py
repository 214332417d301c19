"""The official SDK (twelvelabs 1.3.6) searching with images, composed queries and entities,
and the rest of today's search: thumbnails, metadata ranges, transcription options, paging
with user metadata, and ``audio`` meaning sound that is not speech."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import pytest
from twelvelabs import TwelveLabs
from twelvelabs.errors import BadRequestError

from tl_integrations.emulator import Emulator, ManualClock, make_sample_video

from .conftest import Indexed, make_audio, make_png, unique, upload, wait_task

COLOURS = {
    "orange": (245, 140, 30),
    "purple": (140, 60, 180),
    "green": (40, 180, 60),
    "cyan": (40, 200, 210),
}
SUNSET = [(0.5, 3.5, "The sun sets over the sea."), (4.5, 7.5, "Night falls on the quiet town.")]
MEADOW = [(0.5, 3.5, "Cows graze in the meadow."), (4.5, 7.5, "A river runs past the farm.")]


@dataclass(frozen=True)
class Scenes:
    """An index of two 8 s videos, each two coloured scenes of 4 s with one line each:
    sunset (orange, purple; with sound) and meadow (green, cyan; silent)."""

    index_id: str
    sunset: str
    meadow: str
    images: dict[str, Path]


@pytest.fixture(scope="module")
def scenes(client: TwelveLabs, clock: ManualClock, media_dir: Path) -> Scenes:
    root = media_dir / "scenes"  # where the emulator may read query_media_url files
    root.mkdir()
    sunset = make_sample_video(
        root / "sunset.mp4", duration_s=8.0, fps=8, scenes=["orange", "purple"], subtitles=SUNSET
    )
    meadow = make_sample_video(
        root / "meadow.mp4",
        duration_s=8.0,
        fps=8,
        scenes=["green", "cyan"],
        subtitles=MEADOW,
        audio=False,
    )
    index = client.indexes.create(
        index_name=unique("scenes"),
        models=[{"model_name": "marengo3.0", "model_options": ["visual", "audio"]}],
    )
    assert index.id
    tasks, ids = {}, {}
    for name, path, views in (("sunset", sunset, 250), ("meadow", meadow, 40)):
        tasks[name], ids[name] = upload(client, index.id, path, views=views, topic=name)
    for task_id in tasks.values():
        assert wait_task(client, clock, task_id) == "ready"
    images = {name: make_png(root / f"{name}.png", rgb) for name, rgb in COLOURS.items()}
    return Scenes(index.id, ids["sunset"], ids["meadow"], images)


def clips(found: Any) -> list[tuple[str | None, float | None]]:
    """(video_id, start) of each clip, in rank order."""
    return [(c.video_id, c.start) for c in found]


def test_the_readme_image_query_finds_the_clips_of_its_colour(
    client: TwelveLabs, scenes: Scenes
) -> None:
    with scenes.images["purple"].open("rb") as image:
        search_results = client.search.query(
            index_id=scenes.index_id,
            query_media_type="image",
            query_media_file=image,
            search_options=["visual"],
        )
        found = list(search_results)
    assert clips(found)[0] == (scenes.sunset, 4.0)
    assert [c.rank for c in found] == list(range(1, len(found) + 1))
    by_url = client.search.query(
        index_id=scenes.index_id,
        query_media_type="image",
        query_media_url=scenes.images["orange"].as_uri(),
        search_options=["visual"],
    )
    assert clips(by_url)[0] == (scenes.sunset, 0.0)


def test_several_images_find_each_of_their_colours(client: TwelveLabs, scenes: Scenes) -> None:
    with ExitStack() as stack:
        files = [stack.enter_context(scenes.images[c].open("rb")) for c in ("green", "cyan")]
        found = client.search.query(
            index_id=scenes.index_id,
            query_media_type="image",
            query_media_files=files,
            search_options=["visual", "audio", "transcription"],  # only visual applies
        )
        assert sorted(clips(found)) == [(scenes.meadow, 0.0), (scenes.meadow, 4.0)]


def test_a_composed_query_ranks_by_text_and_image_together(
    client: TwelveLabs, scenes: Scenes
) -> None:
    def found(**query: Any) -> list[tuple[str | None, float | None]]:
        return clips(
            client.search.query(index_id=scenes.index_id, search_options=["visual"], **query)
        )

    orange = {"query_media_type": "image", "query_media_url": scenes.images["orange"].as_uri()}
    river = (scenes.meadow, 4.0)  # "A river runs past the farm." (cyan)
    sun = (scenes.sunset, 0.0)  # the orange scene
    assert found(query_text="runs past") == [river]
    assert found(**orange) == [sun]
    composed = found(query_text="runs past", **orange)
    assert set(composed[:2]) == {river, sun}  # each half of the query finds its clip


def test_composed_queries_need_marengo_30(client: TwelveLabs, indexed27: Indexed) -> None:
    with pytest.raises(BadRequestError) as info:
        client.search.create(
            index_id=indexed27.index_id,
            query_text="penguins",
            query_media_type="image",
            query_media_url=Path(__file__).with_name("missing.png").as_uri(),
            search_options=["visual"],
        )
    assert "Marengo 3.0" in info.value.body["message"]


def test_every_clip_has_a_thumbnail_of_its_moment(
    emu: Emulator, client: TwelveLabs, scenes: Scenes
) -> None:
    page = client.search.create(
        index_id=scenes.index_id, query_text="night falls", search_options=["transcription"]
    )
    assert page.data
    best = page.data[0]
    assert (best.video_id, best.start) == (scenes.sunset, 4.0)
    assert best.thumbnail_url
    assert best.thumbnail_url.startswith(emu.url)
    grouped = client.search.create(
        index_id=scenes.index_id, query_text="night", search_options=["visual"], group_by="video"
    )
    assert grouped.data
    nested = [c for group in grouped.data for c in group.clips or []]
    assert nested
    assert all(c.thumbnail_url for c in nested)
    picture = httpx.get(best.thumbnail_url)  # signed: no key needed, as the API's links
    assert picture.headers["content-type"] == "image/png"
    with av.open(io.BytesIO(picture.content)) as image:
        frame = next(image.decode(video=0)).to_ndarray(format="rgb24")
    assert frame.shape[1] == 320
    mean = frame.reshape(-1, 3).mean(axis=0)
    assert np.abs(mean - COLOURS["purple"]).max() < 25  # the purple scene, at 6 s


def test_entity_search_finds_the_clips_showing_the_entity(
    client: TwelveLabs, clock: ManualClock, scenes: Scenes
) -> None:
    with scenes.images["orange"].open("rb") as handle:
        photo = client.assets.create(method="direct", file=handle).id
    assert photo
    clock.advance(5.0)
    collection = client.entity_collections.create(name=unique("sky"))
    assert collection.id
    entities = client.entity_collections.entities
    sun = entities.create(collection.id, name="Sun", asset_ids=[photo])
    assert sun.id

    def search(text: str) -> list[tuple[str | None, float | None]]:
        found = client.search.query(
            index_id=scenes.index_id, query_text=text, search_options=["visual", "audio"]
        )
        return clips(found)

    with pytest.raises(BadRequestError) as early:
        search(f"<@{sun.id}> at dusk")
    assert "processing" in early.value.body["message"]
    clock.advance(5.0)
    assert search(f"<@{sun.id}>") == [(scenes.sunset, 0.0)]
    assert search(f"<@{sun.id}> night falls") == [(scenes.sunset, 0.0)]  # the entity decides
    with pytest.raises(BadRequestError) as unknown:
        search(f"<@{'0' * 24}> is walking")
    assert unknown.value.body["code"] == "parameter_invalid"
    assert "does not exist" in unknown.value.body["message"]


def test_user_metadata_numbers_filter_by_range(client: TwelveLabs, scenes: Scenes) -> None:
    def videos(flt: dict[str, Any]) -> set[str | None]:
        found = client.search.query(
            index_id=scenes.index_id,
            query_text="the sun sets, cows graze",
            search_options=["transcription"],
            filter=json.dumps(flt),
        )
        return {c.video_id for c in found}

    assert videos({}) == {scenes.sunset, scenes.meadow}
    assert videos({"views": {"gte": 100}}) == {scenes.sunset}
    assert videos({"views": {"lte": 100}}) == {scenes.meadow}
    assert videos({"views": {"gte": 40, "lte": 40}, "topic": "meadow"}) == {scenes.meadow}
    assert videos({"views": {"gte": 1000}}) == set()
    assert videos({"topic": {"gte": 1}}) == set()  # a string is in no number range
    with pytest.raises(BadRequestError) as info:
        videos({"views": {"gt": 100}})
    assert info.value.body["code"] == "search_filter_invalid"


def test_transcription_options_match_words_as_said_or_by_meaning(
    client: TwelveLabs, scenes: Scenes
) -> None:
    def found(options: list[str] | None) -> list[tuple[str | None, float | None]]:
        extra = {} if options is None else {"transcription_options": options}
        return clips(
            client.search.query(
                index_id=scenes.index_id,
                query_text="cow",
                search_options=["transcription"],
                **extra,
            )
        )

    said = (scenes.meadow, 0.0)  # "Cows graze in the meadow."
    assert said not in found(["lexical"])  # "cow" is not said as written
    assert found(["semantic"])[0] == said
    assert found(None)[0] == said  # both by default
    assert found(["lexical", "semantic"])[0] == said
    exact = client.search.query(
        index_id=scenes.index_id,
        query_text="cows",
        search_options=["transcription"],
        transcription_options=["lexical"],
    )
    assert clips(exact) == [said]
    with pytest.raises(BadRequestError) as info:
        client.search.create(
            index_id=scenes.index_id,
            query_text="cow",
            search_options=["visual"],
            transcription_options=["lexical"],
        )
    assert info.value.body["code"] == "search_option_combination_not_supported"


def test_audio_is_the_sound_besides_speech(client: TwelveLabs, scenes: Scenes) -> None:
    def heard(text: str) -> set[tuple[str | None, float | None]]:
        found = client.search.query(
            index_id=scenes.index_id, query_text=text, search_options=["audio"]
        )
        return set(clips(found))

    assert heard("night falls on the town") == set()  # speech is not audio
    # The sample videos' tone: loud, its pitch changing with the scene.
    assert heard("loud") == {(scenes.sunset, 0.0), (scenes.sunset, 4.0)}
    assert heard("silence") == {(scenes.meadow, 0.0), (scenes.meadow, 4.0)}
    spoken = client.search.query(
        index_id=scenes.index_id, query_text="night falls", search_options=["transcription"]
    )
    assert clips(spoken)[0] == (scenes.sunset, 4.0)


def test_later_pages_say_themselves_whether_to_include_user_metadata(
    emu: Emulator, client: TwelveLabs, scenes: Scenes
) -> None:
    first = client.search.create(
        index_id=scenes.index_id,
        query_text="the sun sets, cows graze",
        search_options=["transcription"],
        page_limit=1,
    )
    assert first.data
    assert first.data[0].user_metadata is None
    assert first.page_info
    token = first.page_info.next_page_token
    assert token
    asked = client.search.retrieve(token, include_user_metadata=True)
    assert asked.data
    assert asked.data[0].user_metadata == {"views": 40, "topic": "meadow"}
    with httpx.Client(base_url=emu.base_url, headers={"x-api-key": "k"}) as http:
        form = {
            "index_id": scenes.index_id,
            "query_text": "the sun sets, cows graze",
            "search_options": "transcription",
            "page_limit": "1",
            "include_user_metadata": "true",
        }
        with_meta = http.post("/search", data=form, files={"_": ("", b"")}).json()
        assert "user_metadata" in with_meta["data"][0]
        nxt = with_meta["page_info"]["next_page_token"]
        assert "user_metadata" in http.get(f"/search/{nxt}").json()["data"][0]  # as first said
        off = http.get(f"/search/{nxt}", params={"include_user_metadata": "false"}).json()
        assert "user_metadata" not in off["data"][0]


def test_bad_image_queries_are_refused_saying_why(
    emulator_for: Callable[..., Emulator], scenes: Scenes, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.jpg"
    notes.write_text("not a picture")
    red = scenes.images["orange"].read_bytes()
    data = tmp_path / "data"
    emu = emulator_for(data_dir=data)
    with httpx.Client(base_url=emu.base_url, headers={"x-api-key": "k"}) as raw:
        models = [{"model_name": "marengo3.0", "model_options": ["visual", "audio"]}]
        index = raw.post("/indexes", json={"index_name": "empty", "models": models}).json()
        base = {"index_id": index["_id"], "search_options": "visual"}

        def post(
            data: dict[str, Any], files: list[tuple[str, tuple[str, bytes]]]
        ) -> dict[str, Any]:
            answer = raw.post("/search", data=data, files=files or {"_": ("", b"")})
            assert answer.status_code == 400, answer.text
            body: dict[str, Any] = answer.json()
            return body

        image = {**base, "query_media_type": "image"}
        not_image = post(image, [("query_media_file", ("notes.jpg", notes.read_bytes()))])
        assert "not an image" in not_image["message"]
        film = make_sample_video(tmp_path / "film.mp4", duration_s=2.0, fps=4)
        moving = post(image, [("query_media_file", ("film.mp4", film.read_bytes()))])
        assert "not a still image" in moving["message"]  # not its first frame, silently
        sound = make_audio(tmp_path / "tone.m4a")
        heard = post(image, [("query_media_file", ("tone.m4a", sound.read_bytes()))])
        assert "not an image" in heard["message"]
        eleven = [("query_media_file", (f"{n}.png", red)) for n in range(11)]
        assert "at most 10 images" in post(image, eleven)["message"]
        untyped = post(base, [("query_media_file", ("a.png", red))])
        assert untyped["code"] == "parameter_not_provided"
        assert "query_media_type" in untyped["message"]
        assert post(image, [])["code"] == "parameter_not_provided"
        sound_only = {**image, "search_options": "audio"}
        refused = post(sound_only, [("query_media_file", ("a.png", red))])
        assert "add visual" in refused["message"]
        far = post({**image, "query_media_url": "https://example.com/a.png"}, [])
        assert "no internet access" in far["message"]
        fine = raw.post("/search", data=image, files=[("query_media_file", ("a.png", red))])
        assert fine.status_code == 200
        assert list((data / "uploads").iterdir()) == []  # no query image is left behind
