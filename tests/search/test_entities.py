"""client.entity_collections (and .entities) on the emulator: entities made of image
assets, waited for on its clock, and searched with their mention."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from search_emulator import Scenes, Twin

from tl_integrations import BadRequestError, Entity, InvalidRequestError


def photo(twin: Twin, path: Path) -> str:
    """The id of a ready image asset holding ``path``."""
    asset = twin.run(twin.client.assets.upload(path))
    assert asset.status == "ready"
    return str(asset.id)


def test_collections_are_created_found_listed_renamed_and_deleted(twin: Twin) -> None:
    collections = twin.client.entity_collections
    made = twin.run(collections.create("players", description="the squad"))
    assert (made.name, made.description) == ("players", "the squad")
    again = twin.run(collections.get_or_create("players"))
    assert again.id == made.id
    other = twin.run(collections.get_or_create("coaches"))
    assert other.id != made.id
    assert [c.name for c in twin.collect(collections.list(name="players"))] == ["players"]
    renamed = twin.run(collections.update(made.id, name="squad"))
    assert renamed.name == "squad"
    assert twin.run(collections.retrieve(made.id)).name == "squad"
    twin.run(collections.delete(made.id))
    with pytest.raises(BadRequestError, match="does not exist"):
        twin.run(collections.retrieve(made.id))


def test_an_entity_is_made_from_image_assets_waited_for_and_searched(
    twin: Twin, scenes: Scenes
) -> None:
    purple = photo(twin, scenes.images["purple"])
    collection = twin.run(twin.client.entity_collections.create("players"))
    entities = twin.client.entity_collections.entities
    ada = twin.run(
        entities.create(collection.id, name="Ada", asset_ids=[purple], metadata={"number": 9})
    )
    assert isinstance(ada, Entity)
    assert (ada.status, ada.name, ada.asset_ids) == ("processing", "Ada", [purple])
    assert ada.metadata["number"] == 9
    seen: list[str] = []
    clock = twin.wire.emulator.clock
    assert clock is not None
    started = clock()
    ready = twin.run(entities.wait(ada, timeout_s=60, on_update=lambda e: seen.append(e.status)))
    assert ready is ada  # updated in place
    assert ada.status == "ready"
    assert seen == ["processing", "ready"]
    assert clock() > started  # waited on the emulator's clock, not the wall
    query = twin.client.search.query(index_id=scenes.index_id, query_text=f"{ada.mention} walks")
    clips = twin.collect(query)
    assert [(c.video_id, c.start_s) for c in clips] == [(scenes.sunset, 4.0)]  # the purple scene


def test_bulk_create_reports_refusals_and_wait_many_polls_per_collection(
    twin: Twin, scenes: Scenes
) -> None:
    a, b = photo(twin, scenes.images["orange"]), photo(twin, scenes.images["green"])
    collection = twin.run(twin.client.entity_collections.create("cast"))
    entities = twin.client.entity_collections.entities
    result = twin.run(
        entities.create_many(
            collection.id,
            [
                {"name": "Ada", "asset_ids": [a]},
                {"name": "Ghost", "asset_ids": ["0" * 24]},
                {"name": "Bob", "asset_ids": [b], "description": "the coach"},
            ],
        )
    )
    assert [e.name for e in result.entities] == ["Ada", "Bob"]
    assert [(e.index, e.name) for e in result.errors] == [(1, "Ghost")]
    assert "does not exist" in (result.errors[0].reason or "")
    before = len(twin.wire.requests)
    done = twin.collect(entities.wait_many(result.entities, timeout_s=60))
    assert sorted(e.name or "" for e in done) == ["Ada", "Bob"]
    assert all(e.status == "ready" for e in done)
    reads = twin.wire.requests[before:]
    # Two entities of one collection: each round is one list request, never one per entity.
    assert all(r.url.path.endswith("/entities") for r in reads)
    assert reads[0].url.params["status"] == "processing"


def test_assets_are_added_and_removed_and_the_entity_updated_and_deleted(
    twin: Twin, scenes: Scenes
) -> None:
    a, b = photo(twin, scenes.images["orange"]), photo(twin, scenes.images["cyan"])
    collection = twin.run(twin.client.entity_collections.create("cast"))
    entities = twin.client.entity_collections.entities
    ada = twin.run(entities.create(collection.id, name="Ada", asset_ids=a))
    twin.run(entities.wait(ada))
    grown = twin.run(entities.add_assets(collection.id, ada.id, [b]))
    assert (grown.status, grown.asset_ids) == ("processing", [a, b])
    assert twin.run(entities.wait(ada.id, collection_id=collection.id)).status == "ready"
    shrunk = twin.run(entities.remove_assets(collection.id, ada.id, a))
    assert shrunk.asset_ids == [b]
    with pytest.raises(BadRequestError, match="at least one asset"):
        twin.run(entities.remove_assets(collection.id, ada.id, [b]))
    renamed = twin.run(entities.update(collection.id, ada.id, name="Ada L.", metadata={"x": 1}))
    assert (renamed.name, renamed.metadata) == ("Ada L.", {"x": 1})
    assert [e.name for e in twin.collect(entities.list(collection.id, name="Ada L."))] == ["Ada L."]
    assert [e.id for e in twin.collect(entities.list_by_asset(b))] == [ada.id]
    assert twin.collect(entities.list(collection.id, status="processing")) != []
    twin.run(entities.delete(collection.id, ada.id))
    assert twin.collect(entities.list(collection.id)) == []


def test_a_create_whose_answer_was_lost_is_found_not_made_twice(twin: Twin, scenes: Scenes) -> None:
    orange = photo(twin, scenes.images["orange"])
    collection = twin.run(twin.client.entity_collections.create("cast"))
    path = f"/entity-collections/{collection.id}/entities"
    twin.wire.lose_answers.append(("POST", path))
    entities = twin.client.entity_collections.entities
    ada = twin.run(entities.create(collection.id, name="Ada", asset_ids=[orange]))
    assert ada.name == "Ada"
    assert len(twin.wire.sent("POST", path)) == 1  # found by the lookup, not sent again
    assert [e.id for e in twin.collect(entities.list(collection.id))] == [ada.id]


BAD: list[tuple[str, dict[str, Any], str]] = [
    ("create", {"name": "", "asset_ids": ["a"]}, "name must be a non-empty string"),
    ("create", {"name": "Ada", "asset_ids": []}, "at least one image asset"),
    ("create", {"name": "Ada", "asset_ids": ["a"], "metadata": {"k": [1]}}, "strings, numbers"),
    ("create_many", {"entities": []}, "non-empty list"),
    ("create_many", {"entities": [{"name": "Ada"}]}, "'name' and 'asset_ids'"),
    ("create_many", {"entities": [{"name": "A", "asset_ids": ["a"], "x": 1}]}, "unknown keys"),
    ("update", {"entity_id": "e1"}, "give name, description or metadata"),
    ("list", {"status": "failed"}, "status must be"),
    ("list", {"sort_by": "size"}, "sort_by must be"),
]


@pytest.mark.parametrize(("method", "kwargs", "message"), BAD)
def test_bad_entity_calls_fail_before_any_request(
    twin: Twin, method: str, kwargs: dict[str, Any], message: str
) -> None:
    entities = twin.client.entity_collections.entities

    def call() -> None:
        if method == "create_many":
            twin.run(entities.create_many("c1", kwargs["entities"]))
        elif method == "list":
            twin.collect(entities.list("c1", **kwargs))
        else:
            twin.run(getattr(entities, method)("c1", **kwargs))

    with pytest.raises(InvalidRequestError, match=message):
        call()
    with pytest.raises(InvalidRequestError, match="collection_id"):
        twin.run(entities.wait("e1"))
    assert twin.wire.requests == []


def test_entity_mentions_in_queries_are_checked(twin: Twin) -> None:
    with pytest.raises(InvalidRequestError, match=r"Entity\.mention"):
        twin.collect(twin.client.search.query(index_id="i1", query_text="<@ada is here"))
    assert twin.wire.requests == []
