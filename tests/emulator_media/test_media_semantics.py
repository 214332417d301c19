"""The model stand-ins: embeddings, ranking, scenes, chapters, summaries and free text."""

from __future__ import annotations

import doctest
import itertools
from pathlib import Path

import numpy as np
import pytest

from tl_integrations.emulator import _semantics as semantics
from tl_integrations.emulator import _vectors, make_sample_video
from tl_integrations.emulator._media import COLOURS, MediaInfo, Picture, probe
from tl_integrations.emulator._segments import build_segments
from tl_integrations.emulator._semantics import (
    analyze_text,
    chapters,
    colour_share,
    embed_picture,
    embed_segment,
    embed_text,
    keywords,
    scene_cuts,
    segment_colours,
    segment_text,
    summarize,
    tokenize,
)

LINES = [
    (0.5, 2.5, "A red kite flies over the hill."),
    (3.5, 5.5, "Grandma bakes bread in the kitchen."),
    (6.5, 8.5, "The blue whale swims deep."),
    (9.5, 11.5, "Fireworks light up the night sky."),
]
SPANS = [(0.0, 3.0), (3.0, 6.0), (6.0, 9.0), (9.0, 12.0)]


@pytest.fixture(scope="module")
def info(tmp_path_factory: pytest.TempPathFactory) -> MediaInfo:
    path = tmp_path_factory.mktemp("sem") / "story.mp4"
    return probe(make_sample_video(path, duration_s=12, subtitles=LINES))


def _segments(info: MediaInfo, dim: int) -> np.ndarray:
    rows = [
        embed_segment(
            text=segment_text(info, start_s=s, end_s=e),
            colours=segment_colours(info, start_s=s, end_s=e),
            dim=dim,
        )
        for s, e in SPANS
    ]
    return np.stack(rows)


@pytest.mark.parametrize("dim", [512, 1024])
def test_embeddings_are_unit_float32_and_deterministic(dim: int) -> None:
    for text in ["A red kite", "", "the of and", "🙂 ??", "x" * 5000]:
        v = embed_text(text, dim=dim)
        assert v.dtype == np.float32
        assert v.shape == (dim,)
        assert float(np.linalg.norm(v)) == pytest.approx(1.0, abs=1e-5)
        assert np.array_equal(v, embed_text(text, dim=dim))
    empty = embed_segment(text="", colours=np.zeros((0, 3), np.float32), dim=dim)
    assert float(np.linalg.norm(empty)) == pytest.approx(1.0, abs=1e-5)


def test_embeddings_are_stable_across_processes() -> None:
    # Pinned values: a change here changes every stored vector and search result.
    assert embed_text("kite", dim=512)[:3].tolist() == pytest.approx(
        embed_text("Kites!", dim=512)[:3].tolist()
    )
    pinned = [0.05529854, 0.79183459, 0.47758341, 0.37663528]
    assert embed_text("kite", dim=4).tolist() == pytest.approx(pinned, abs=1e-6)


def test_text_similarity_follows_shared_words() -> None:
    a, b, c = (embed_text(t, dim=1024) for t in ["red kite", "a red kite!", "blue whale"])
    assert float(a @ b) > 0.99
    assert abs(float(a @ c)) < 0.2


@pytest.mark.parametrize("dim", [512, 1024])
def test_query_naming_a_segments_words_ranks_it_first(info: MediaInfo, dim: int) -> None:
    matrix = _segments(info, dim)
    queries = ["kite on a hill", "what does grandma bake", "whales", "FIREWORKS at night"]
    for expected, query in enumerate(queries):
        scores = matrix @ embed_text(query, dim=dim)
        assert int(np.argmax(scores)) == expected, (query, scores)


def test_colour_alone_ranks_a_silent_segment(tmp_path: Path) -> None:
    silent = probe(make_sample_video(tmp_path / "s.mp4", duration_s=8, subtitles=()))
    spans = [(0.0, 2.0), (2.0, 4.0), (4.0, 6.0), (6.0, 8.0)]
    rows = [
        embed_segment(text="", colours=segment_colours(silent, start_s=s, end_s=e), dim=512)
        for s, e in spans
    ]
    assert int(np.argmax(np.stack(rows) @ embed_text("blue", dim=512))) == 2


def test_spoken_words_outweigh_colour() -> None:
    red = np.tile(np.array([[0.86, 0.16, 0.16]], np.float32), (3, 1))
    blue = np.tile(np.array([[0.16, 0.27, 0.86]], np.float32), (3, 1))
    says_blue = embed_segment(text="the blue whale", colours=red, dim=512)
    only_blue = embed_segment(text="a kitchen", colours=blue, dim=512)
    query = embed_text("blue whale", dim=512)
    assert float(says_blue @ query) > float(only_blue @ query)


def test_embedding_many_segments_is_cheap(info: MediaInfo) -> None:
    colours = segment_colours(info, start_s=0, end_s=6)
    vectors = [
        embed_segment(text=f"line {i} red kite", colours=colours, dim=1024) for i in range(1000)
    ]
    assert len({v.tobytes() for v in vectors}) == 1000


def test_tokenize_and_keywords() -> None:
    assert tokenize("The KITES, the kite's tail; boxes & flies.") == [
        "kite",
        "kite",
        "tail",
        "box",
        "fly",
    ]
    assert keywords("Kites fly. A kite! The kites.", limit=2) == ["kites", "fly"]


def test_scene_cuts_on_samples_and_on_video(info: MediaInfo) -> None:
    colours = np.array([[1, 0, 0], [0.98, 0, 0], [0, 0, 1], [0, 0, 1]], np.float32)
    assert scene_cuts(colours, sample_step_s=2.0) == [4.0]
    assert scene_cuts(np.zeros((0, 3), np.float32), sample_step_s=1.0) == []
    assert scene_cuts(info.colours, sample_step_s=info.sample_step_s) == [3.0, 6.0, 9.0]


def test_chapters_align_with_scenes(info: MediaInfo) -> None:
    found = chapters(info)
    assert [(c["start_s"], c["end_s"]) for c in found] == SPANS
    for chapter, colour, (_, _, line) in zip(
        found, ["red", "green", "blue", "yellow"], LINES, strict=True
    ):
        assert chapter["title"].lower().startswith(colour)
        assert line.rstrip(".") in chapter["summary"]


def test_flicker_does_not_make_hundreds_of_chapters() -> None:
    rng = np.random.default_rng(0)
    colours = rng.random((600, 3)).astype(np.float32)
    noisy = MediaInfo("n.mp4", 1, 600.0, 24.0, 640, 360, False, (), colours, 1.0)
    found = chapters(noisy)
    assert 1 < len(found) <= 21
    assert found[0]["start_s"] == 0.0
    assert found[-1]["end_s"] == 600.0
    assert all(a["end_s"] == b["start_s"] for a, b in itertools.pairwise(found))


def test_summarize_says_emulator_and_reflects_prompt(info: MediaInfo) -> None:
    plain = summarize(info, prompt=None)
    assert "emulator" in plain
    assert plain == summarize(info, prompt=None)
    asked = summarize(info, prompt="What does grandma bake?")
    assert "Grandma bakes bread" in asked
    assert "What does grandma bake" in asked


def test_summarize_without_speech() -> None:
    silent = MediaInfo("s.mp4", 1, 5.0, 24.0, 640, 360, False, (), np.zeros((5, 3), np.float32), 1)
    assert "no speech" in summarize(silent, prompt=None)


def test_analyze_text_quotes_matching_lines(info: MediaInfo) -> None:
    answer = analyze_text(info, prompt="Where is the whale?")
    assert "emulator" in answer
    assert "[6.5-8.5 s] The blue whale swims deep." in answer
    assert "Fireworks" not in answer
    assert "#kite" in analyze_text(info, prompt="Suggest hashtags")
    assert analyze_text(info, prompt="List the chapters").count("scene") == 4
    assert "emulator" in analyze_text(info, prompt="zzz unrelated")


def test_segment_helpers(info: MediaInfo) -> None:
    assert segment_text(info, start_s=2.0, end_s=4.0) == " ".join(t for _, _, t in LINES[:2])
    assert segment_text(info, start_s=2.6, end_s=3.4) == ""
    assert segment_colours(info, start_s=3.0, end_s=6.0).shape == (3, 3)
    assert segment_colours(info, start_s=3.1, end_s=3.2).shape == (1, 3)  # nearest sample


def test_a_picture_ranks_the_segments_of_its_colours_first(info: MediaInfo) -> None:
    # The default scenes: red, green, blue, yellow (3 s each), with a line spoken in each.
    segments = _segments(info, 512)
    for scene, colour in enumerate(("red", "green", "blue", "yellow")):
        rgb = np.asarray(COLOURS[colour], np.float32) / 255.0
        flat = Picture(f"{colour}.png", 1, 4, 4, np.tile(rgb, (16, 1)), np.zeros(64, np.float32))
        picture = embed_picture(flat, dim=512)
        sims = segments @ picture
        assert int(np.argmax(sims)) == scene
        assert sims[scene] > 0.15 > float(np.delete(sims, scene).max())


def test_colour_share_says_how_much_of_a_clip_has_a_colour(info: MediaInfo) -> None:
    red, blue = COLOURS["red"], COLOURS["blue"]
    first_half = segment_colours(info, start_s=0.0, end_s=6.0)
    assert colour_share(first_half, red) == pytest.approx(0.5)
    assert colour_share(first_half, (200, 60, 50)) == pytest.approx(0.5)  # nearest: red
    assert colour_share(first_half, blue) == 0.0
    assert colour_share(np.zeros((0, 3), np.float32), red) == 0.0


def test_audio_holds_sound_not_speech_except_on_marengo_27(info: MediaInfo) -> None:
    spans = [(0.0, 3.0)]
    said = embed_text(LINES[0][2], dim=512)

    def audio_row(audio: str) -> np.ndarray:
        rows = build_segments(
            info,
            dim=512,
            options=["audio"],
            scopes=["clip"],
            bounds=spans,
            window=(0, 12),
            audio=audio,
        )
        return rows.vectors[0]

    sound = _vectors.embed_sound(_vectors.segment_sounds(info, start_s=0.0, end_s=3.0), dim=512)
    assert float(audio_row("sound") @ sound) == pytest.approx(1.0, abs=1e-5)
    assert abs(float(audio_row("sound") @ said)) < 0.15  # Marengo 3.0: no words in audio
    assert float(audio_row("speech") @ said) > 0.5  # Marengo 2.7's audio is the speech


def test_docstring_examples_run() -> None:
    for module in (semantics, _vectors):
        assert doctest.testmod(module).failed == 0
