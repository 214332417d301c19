"""The official SDK (twelvelabs 1.3.6) on image assets, entity collections and entities."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from twelvelabs import TwelveLabs
from twelvelabs.core.api_error import ApiError as SdkApiError
from twelvelabs.errors import BadRequestError

from tl_integrations.emulator import Emulator, ManualClock

from .conftest import make_png, unique

ORANGE = (245, 140, 30)
PURPLE = (140, 60, 180)


def image_asset(client: TwelveLabs, clock: ManualClock, path: Path, *, ready: bool = True) -> str:
    """Upload an image with the SDK; wait (on the manual clock) until it is ready."""
    with path.open("rb") as handle:
        asset = client.assets.create(method="direct", file=handle)
    assert asset.id
    if ready:
        clock.advance(5.0)
        assert client.assets.retrieve(asset.id).status == "ready"
    return asset.id


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("photos")
    return {
        "orange": make_png(root / "orange.png", ORANGE),
        "purple": make_png(root / "purple.png", PURPLE),
    }


def test_an_image_asset_has_its_type_status_and_picture(
    emu: Emulator, client: TwelveLabs, clock: ManualClock, photos: dict[str, Path]
) -> None:
    with photos["orange"].open("rb") as handle:
        made = client.assets.create(method="direct", file=handle)
    assert made.id
    assert (made.status, made.file_type) == ("processing", "image/png")
    clock.advance(5.0)
    detail = client.assets.retrieve(made.id)
    assert (detail.status, detail.file_type, detail.filename) == (
        "ready",
        "image/png",
        "orange.png",
    )
    assert detail.thumbnail
    assert detail.thumbnail.status == "ready"
    assert detail.thumbnail.representative_url
    assert detail.technical_metadata
    assert (detail.technical_metadata.image_width, detail.technical_metadata.image_height) == (
        64,
        48,
    )
    picture = httpx.get(detail.thumbnail.representative_url)
    assert picture.headers["content-type"] == "image/png"
    # An image asset can be made from a URL too (here: the emulator's own picture of it).
    by_url = client.assets.create(method="url", url=detail.thumbnail.representative_url)
    assert by_url.id
    clock.advance(5.0)
    again = client.assets.retrieve(by_url.id)
    assert (again.status, again.file_type) == ("ready", "image/png")


def test_collections_are_created_listed_renamed_and_deleted(client: TwelveLabs) -> None:
    name = unique("players")
    made = client.entity_collections.create(name=name, description="the squad")
    assert made.id
    assert (made.name, made.description) == (name, "the squad")
    assert made.created_at is not None
    other = client.entity_collections.create(name=unique("coaches"))
    assert [c.id for c in client.entity_collections.list(name=name)] == [made.id]
    by_name = [c.id for c in client.entity_collections.list(sort_by="name", sort_option="asc")]
    assert by_name.index(other.id) < by_name.index(made.id)  # "coaches-" before "players-"
    renamed = client.entity_collections.update(made.id, name=name + "-renamed")
    assert (renamed.name, renamed.description) == (name + "-renamed", "the squad")
    assert client.entity_collections.retrieve(made.id).name == name + "-renamed"
    client.entity_collections.delete(made.id)
    with pytest.raises(BadRequestError) as info:
        client.entity_collections.retrieve(made.id)
    assert info.value.body["code"] == "resource_not_exist"
    assert list(client.entity_collections.list(name=name + "-renamed")) == []


def test_an_entity_processes_then_is_ready_on_the_clock(
    client: TwelveLabs, clock: ManualClock, photos: dict[str, Path]
) -> None:
    photo = image_asset(client, clock, photos["orange"])
    collection = client.entity_collections.create(name=unique("cast"))
    assert collection.id
    ada = client.entity_collections.entities.create(
        collection.id, name="Ada", asset_ids=[photo], description="lead", metadata={"n": 9}
    )
    assert ada.id
    assert (ada.status, ada.name, ada.asset_ids, ada.metadata) == (
        "processing",
        "Ada",
        [photo],
        {"n": 9},
    )
    assert ada.entity_collection_id == collection.id
    entities = client.entity_collections.entities
    assert entities.retrieve(collection.id, ada.id).status == "processing"
    clock.advance(1.0)
    assert entities.retrieve(collection.id, ada.id).status == "processing"
    clock.advance(2.0)  # the default entity stage: 2 s, +/- 20 %
    ready = entities.retrieve(collection.id, ada.id)
    assert ready.status == "ready"
    assert ready.updated_at is not None
    assert ada.updated_at is not None
    assert ready.updated_at > ada.updated_at  # becoming ready is a change


def test_entities_are_listed_filtered_sorted_updated_and_deleted(
    client: TwelveLabs, clock: ManualClock, photos: dict[str, Path]
) -> None:
    photo = image_asset(client, clock, photos["purple"])
    collection = client.entity_collections.create(name=unique("crew"))
    assert collection.id
    entities = client.entity_collections.entities
    first = entities.create(collection.id, name="Bea", asset_ids=[photo])
    clock.advance(10.0)
    second = entities.create(collection.id, name="Cy", asset_ids=[photo])
    assert first.id
    assert second.id
    assert [e.name for e in entities.list(collection.id, status="processing")] == ["Cy"]
    assert [e.name for e in entities.list(collection.id, status="ready")] == ["Bea"]
    assert [e.name for e in entities.list(collection.id, name="Bea")] == ["Bea"]
    clock.advance(10.0)
    changed = entities.update(collection.id, first.id, metadata={"role": "pilot"})
    assert (changed.name, changed.metadata) == ("Bea", {"role": "pilot"})
    newest = [e.name for e in entities.list(collection.id, sort_by="updated_at")]
    assert newest == ["Bea", "Cy"]  # the edit made Bea the latest change
    assert [e.name for e in entities.list(collection.id, sort_option="asc")] == ["Bea", "Cy"]
    renamed = entities.update(collection.id, first.id, name="Bea L.")
    assert (renamed.name, renamed.metadata) == ("Bea L.", {"role": "pilot"})
    assert {e.id for e in entities.list_by_asset(photo)} == {first.id, second.id}
    entities.delete(collection.id, second.id)
    assert [e.id for e in entities.list(collection.id)] == [first.id]
    with pytest.raises(BadRequestError):
        entities.retrieve(collection.id, second.id)
    client.entity_collections.delete(collection.id)  # its entities go with it
    assert list(entities.list_by_asset(photo)) == []


def test_bulk_create_makes_the_good_ones_and_says_why_not_the_others(
    client: TwelveLabs, clock: ManualClock, photos: dict[str, Path], tmp_path: Path
) -> None:
    photo = image_asset(client, clock, photos["orange"])
    pending = image_asset(client, clock, photos["purple"], ready=False)
    collection = client.entity_collections.create(name=unique("roster"))
    assert collection.id
    result = client.entity_collections.entities.create_bulk(
        collection.id,
        entities=[
            {"name": "Ada", "asset_ids": [photo]},
            {"name": "Ghost", "asset_ids": ["0" * 24]},
            {"name": "Early", "asset_ids": [pending]},
            {"name": "", "asset_ids": [photo]},
            {"name": "Bob", "asset_ids": [photo], "description": "the coach"},
        ],
    )
    assert (result.success_count, result.failed_count) == (2, 3)
    assert result.entities
    assert [(e.name, e.status) for e in result.entities] == [
        ("Ada", "processing"),
        ("Bob", "processing"),
    ]
    assert result.errors
    assert [(e.entity_index, e.entity_name) for e in result.errors] == [
        (1, "Ghost"),
        (2, "Early"),
        (3, ""),
    ]
    reasons = [e.error_reason or "" for e in result.errors]
    assert "does not exist" in reasons[0]
    assert "processing" in reasons[1]
    assert "name" in reasons[2]


def test_images_are_added_and_removed_but_one_always_stays(
    client: TwelveLabs, clock: ManualClock, photos: dict[str, Path]
) -> None:
    a = image_asset(client, clock, photos["orange"])
    b = image_asset(client, clock, photos["purple"])
    collection = client.entity_collections.create(name=unique("duo"))
    assert collection.id
    entities = client.entity_collections.entities
    made = entities.create(collection.id, name="Dee", asset_ids=[a])
    assert made.id
    clock.advance(5.0)
    assert entities.retrieve(collection.id, made.id).status == "ready"
    grown = entities.create_assets(collection.id, made.id, asset_ids=[b, a])
    assert (grown.status, grown.asset_ids) == ("processing", [a, b])  # processing again
    clock.advance(5.0)
    same = entities.create_assets(collection.id, made.id, asset_ids=[b])  # nothing new
    assert (same.status, same.asset_ids) == ("ready", [a, b])
    shrunk = entities.delete_assets(collection.id, made.id, asset_ids=[a, "f" * 24])
    assert (shrunk.status, shrunk.asset_ids) == ("processing", [b])
    with pytest.raises(BadRequestError) as info:
        entities.delete_assets(collection.id, made.id, asset_ids=[b])
    assert "at least one asset" in info.value.body["message"]
    assert [e.id for e in entities.list_by_asset(b)] == [made.id]
    assert list(entities.list_by_asset(a)) == []


def test_bad_entity_requests_are_400s_that_name_the_problem(
    client: TwelveLabs, clock: ManualClock, videos: dict[str, Path]
) -> None:
    with videos["beach"].open("rb") as handle:
        film = client.assets.create(method="direct", file=handle).id
    assert film
    clock.advance(60.0)
    collection = client.entity_collections.create(name=unique("bad"))
    assert collection.id
    entities = client.entity_collections.entities
    cases = [
        (lambda: entities.create(collection.id, name="X", asset_ids=[]), "asset_ids"),
        (lambda: entities.create(collection.id, name="X", asset_ids=[film]), "image assets"),
        (lambda: entities.create("0" * 24, name="X", asset_ids=["a"]), "entity collection"),
        (
            lambda: entities.create(collection.id, name="X", asset_ids=["a"], metadata={"k": [1]}),
            "metadata.k",
        ),
        (lambda: entities.list(collection.id, status="failed"), "status"),
        (lambda: entities.list(collection.id, sort_by="size"), "sort_by"),
        (lambda: client.entity_collections.create(name=""), "name"),
        (lambda: entities.retrieve(collection.id, "0" * 24), "entity"),
    ]
    for call, words in cases:
        with pytest.raises(BadRequestError) as info:
            call()
        assert words in info.value.body["message"]
    with pytest.raises(SdkApiError) as missing:
        list(entities.list_by_asset("0" * 24))
    assert missing.value.status_code == 404  # an asset path: unknown assets are 404s
