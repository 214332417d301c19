"""client.search against the emulator: what it serves today (text, options, filters, paging)."""

from __future__ import annotations

import asyncio

from search_emulator import Indexed, emulator_async_client, emulator_client

from tl_integrations import SearchFilter


def test_spoken_words_are_found_by_default(indexed: Indexed) -> None:
    with emulator_client(indexed.emulator) as client:
        clips = list(
            client.search.query(
                index_id=indexed.index_id, query_text="sourdough bread", max_results=3
            )
        )
    best = clips[0]
    assert best.video_id == indexed.kitchen
    assert best.rank == 1
    assert best.transcription is not None
    assert "sourdough" in best.transcription
    assert best.start_s <= 3.5 < best.end_s


def test_filters_narrow_the_videos_searched(indexed: Indexed) -> None:
    # The query matches both videos; each filter keeps one. (The emulator does not serve
    # gte/lte on user-metadata numbers yet: the spec fake covers those.)
    query = "water the roses, knead the dough"
    filters = {
        indexed.garden: [
            SearchFilter().where("topic", "garden"),
            {"duration": {"lte": 13}},
            SearchFilter().filename("garden.mp4"),
            SearchFilter().videos(indexed.garden),
        ],
        indexed.kitchen: [SearchFilter().where("views", 120).duration(gte=15)],
    }
    with emulator_client(indexed.emulator) as client:
        unfiltered = {
            c.video_id for c in client.search.query(index_id=indexed.index_id, query_text=query)
        }
        assert unfiltered == {indexed.garden, indexed.kitchen}
        for expected, cases in filters.items():
            for flt in cases:
                clips = list(
                    client.search.query(index_id=indexed.index_id, query_text=query, filter=flt)
                )
                assert {c.video_id for c in clips} == {expected}, flt


def test_grouping_operator_options_and_user_metadata(indexed: Indexed) -> None:
    with emulator_client(indexed.emulator) as client:
        clips = list(
            client.search.query(
                index_id=indexed.index_id,
                query_text="water",
                search_options=["visual", "transcription"],
                transcription_options=["lexical", "semantic"],
                operator="or",
                group_by="video",
                page_limit=1,
                include_user_metadata=True,
            )
        )
    seen = [c.video_id for c in clips]
    assert len(set(seen)) == 2
    assert seen == sorted(seen, key=seen.index)  # one video's clips, then the other's
    topics = {c.video_id: (c.user_metadata or {}).get("topic") for c in clips}
    assert topics == {indexed.kitchen: "cooking", indexed.garden: "garden"}


def test_the_async_client_searches_the_same(indexed: Indexed) -> None:
    async def both() -> tuple[list[str], list[str]]:
        async with emulator_async_client(indexed.emulator) as client:
            got = [
                f"{c.video_id}@{c.start_s}"
                async for c in client.search.query(
                    index_id=indexed.index_id, query_text="roses at dawn", max_results=4
                )
            ]
        with emulator_client(indexed.emulator) as sync:
            want = [
                f"{c.video_id}@{c.start_s}"
                for c in sync.search.query(
                    index_id=indexed.index_id, query_text="roses at dawn", max_results=4
                )
            ]
        return got, want

    got, want = asyncio.run(both())
    assert got == want
    assert got[0].startswith(indexed.garden)
