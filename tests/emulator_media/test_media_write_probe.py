"""make_sample_video writes what probe reads back; probe rejects anything that is not a video."""

from __future__ import annotations

import doctest
import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from tl_integrations.emulator import _media as media
from tl_integrations.emulator import _media_types, _probe, _sample_video, make_sample_video
from tl_integrations.emulator._media import (
    COLOURS,
    MediaError,
    MediaInfo,
    Utterance,
    frame_at,
    png_from_pixels,
    probe,
    probe_picture,
)

LINES = [
    (0.5, 2.0, "A red kite, high up."),
    (3.25, 5.5, "Grandma bakes bread.\nIt smells good."),
    (6.0, 8.0, "Ünïcödé — «quotes» & <angle> too"),
    (9.5, 11.999, "The last line."),
]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("media") / "sample.mp4"
    return make_sample_video(path, duration_s=12.0, fps=24, subtitles=LINES)


@pytest.fixture(scope="module")
def info(sample: Path) -> MediaInfo:
    return probe(sample)


def _rgb(name: str) -> np.ndarray:
    return np.asarray(COLOURS[name], dtype=np.float32) / 255


def test_probe_reads_container_metadata(sample: Path, info: MediaInfo) -> None:
    assert info.filename == "sample.mp4"
    assert info.size_bytes == os.stat(sample).st_size
    assert info.duration_s == pytest.approx(12.0, abs=2 / 24)
    assert info.fps == pytest.approx(24.0)
    assert (info.width, info.height) == (640, 360)
    assert info.has_audio is True


def test_probe_streams_are_h264_aac_mov_text(sample: Path) -> None:
    with av.open(str(sample)) as container:
        codecs = sorted(s.codec_context.name for s in container.streams)
    assert codecs == ["aac", "h264", "mov_text"]


def test_utterances_come_back_exactly_as_written(info: MediaInfo) -> None:
    assert info.utterances == tuple(Utterance(s, e, t) for s, e, t in LINES)
    assert info.transcript.startswith("A red kite, high up. Grandma")


def test_colours_follow_the_default_scenes(info: MediaInfo) -> None:
    assert info.colours.shape == (12, 3)
    assert info.colours.dtype == np.float32
    assert info.sample_step_s == 1.0
    for i, name in enumerate(["red", "green", "blue", "yellow"]):
        scene = info.colours[3 * i : 3 * i + 3]
        assert np.abs(scene - _rgb(name)).max() < 0.06, name


def test_default_subtitles_name_each_scene(tmp_path: Path) -> None:
    path = make_sample_video(tmp_path / "d.mp4", duration_s=8, scenes=["purple", "orange"])
    texts = [u.text for u in probe(path).utterances]
    assert texts == ["This is the purple scene.", "This is the orange scene."]


def test_no_audio_and_no_subtitles(tmp_path: Path) -> None:
    info = probe(make_sample_video(tmp_path / "q.mp4", duration_s=4, audio=False, subtitles=()))
    assert info.has_audio is False
    assert info.utterances == ()


def test_timed_scenes_with_rgb_and_a_black_gap(tmp_path: Path) -> None:
    scenes = [(0.0, 2.0, (1.0, 1.0, 1.0)), (4.0, 6.0, (0, 0, 255))]
    info = probe(
        make_sample_video(tmp_path / "t.mp4", duration_s=6, scenes=scenes, size=(360, 360))
    )
    assert (info.width, info.height) == (360, 360)
    assert info.colours[0].min() > 0.9  # white
    assert info.colours[2].max() < 0.12  # the uncovered gap is black
    assert info.colours[5][2] > 0.9 > 0.2 > info.colours[5][0]


def test_same_seed_writes_the_same_bytes(tmp_path: Path) -> None:
    a = make_sample_video(tmp_path / "a.mp4", duration_s=4, seed=3).read_bytes()
    b = make_sample_video(tmp_path / "b.mp4", duration_s=4, seed=3).read_bytes()
    assert a == b


@pytest.mark.parametrize(
    "kwargs",
    [
        {"size": (641, 360)},
        {"duration_s": 0},
        {"scenes": ["mauve"]},
        {"subtitles": [(0.0, 2.0, "a"), (1.0, 3.0, "overlaps")]},
        {"subtitles": [(3.0, 9.0, "past the end")]},
        {"scenes": [(3.0, 1.0, "red")]},
    ],
)
def test_bad_arguments_are_rejected(tmp_path: Path, kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - every case has its own message
        make_sample_video(tmp_path / "x.mp4", duration_s=kwargs.pop("duration_s", 4), **kwargs)  # type: ignore[arg-type]


def test_max_samples_widens_the_step(sample: Path) -> None:
    info = probe(sample, max_samples=4)
    assert info.colours.shape == (4, 3)
    assert info.sample_step_s == pytest.approx(3.0)
    assert np.abs(info.colours[2] - _rgb("blue")).max() < 0.06


def test_keyframe_sampling_for_long_files(sample: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_probe, "_SEQUENTIAL_PIXEL_BUDGET", 0)
    info = probe(sample, sample_step_s=3.0)
    assert info.colours.shape == (4, 3)
    for i, name in enumerate(["red", "green", "blue", "yellow"]):
        assert np.abs(info.colours[i] - _rgb(name)).max() < 0.06, name


def _write_text_subtitles(path: Path, codec: str, lines: list[tuple[int, int, str]]) -> None:
    """An MKV with a tiny video and a subtitle stream of ``codec`` (ASS event text in)."""
    with av.open(str(path), "w", format="matroska") as out:
        video = out.add_stream("libx264", rate=12)
        video.width = video.height = 64
        video.pix_fmt = "yuv420p"
        subs = out.add_stream(codec)
        subs.codec_context.subtitle_header = _sample_video._ASS_HEADER
        subs.codec_context.time_base = Fraction(1, 1000)
        for start_ms, end_ms, text in lines:
            event = av.subtitles.subtitle.SubtitleSet.create(
                f"0,0,Default,,0,0,0,,{text}".encode(), 0, end_ms - start_ms, start_ms
            )
            packet = subs.codec_context.encode_subtitle(event)
            packet.stream, packet.time_base = subs, Fraction(1, 1000)
            out.mux(packet)
        frame = av.VideoFrame.from_ndarray(np.zeros((64, 64, 3), np.uint8), format="rgb24")
        for i in range(60):
            frame.pts = i
            out.mux(video.encode(frame))
        out.mux(video.encode(None))


@pytest.mark.parametrize("codec", ["subrip", "webvtt", "ass"])
def test_subtitles_from_mkv_streams(tmp_path: Path, codec: str) -> None:
    lines = [(500, 1500, "{\\i1}Styled{\\i0} words"), (2000, 3250, "two\\Nlines, with commas")]
    _write_text_subtitles(tmp_path / "s.mkv", codec, lines)
    info = probe(tmp_path / "s.mkv", filename="talk.mkv")
    assert info.filename == "talk.mkv"
    assert info.utterances == (
        Utterance(0.5, 1.5, "Styled words"),
        Utterance(2.0, 3.25, "two\nlines, with commas"),
    )


def _broken_files(tmp: Path, good: bytes) -> dict[str, Path]:
    files = {
        "text": b"this is not a video\n" * 500,
        "empty": b"",
        "half": good[: len(good) // 2],
        "head": good[:2000],
        "random": np.random.default_rng(0).bytes(300_000),
        "header_then_noise": good[:64] + np.random.default_rng(1).bytes(100_000),
    }
    paths = {}
    for name, data in files.items():
        paths[name] = tmp / f"{name}.mp4"
        paths[name].write_bytes(data)
    paths["zeros"] = tmp / "zeros.mp4"
    with open(paths["zeros"], "wb") as handle:
        handle.truncate(64 * 1024 * 1024)  # sparse: no real disk use
    return paths


def test_broken_inputs_raise_media_error(tmp_path: Path, sample: Path) -> None:
    for name, path in _broken_files(tmp_path, sample.read_bytes()).items():
        with pytest.raises(MediaError) as caught:
            probe(path)
        assert caught.value.code == "video_file_broken", name
        assert path.name in str(caught.value)


def test_audio_only_file_is_not_a_video(tmp_path: Path) -> None:
    path = tmp_path / "song.mp4"
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("aac", rate=24_000)
        frame = av.AudioFrame.from_ndarray(np.zeros((2, 1024), np.float32), format="fltp")
        frame.sample_rate = 24_000
        for i in range(30):
            frame.pts = i * 1024
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    with pytest.raises(MediaError, match="no video stream"):
        probe(path)


def test_missing_file_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        probe(tmp_path / "nope.mp4")


def test_media_info_dict_round_trip(info: MediaInfo) -> None:
    again = MediaInfo.from_dict(info.to_dict())
    assert again.utterances == info.utterances
    assert np.array_equal(again.colours, info.colours)
    assert (again.duration_s, again.sample_step_s) == (info.duration_s, info.sample_step_s)


def test_media_error_defaults() -> None:
    assert MediaError("video_file_broken").code == "video_file_broken"
    assert MediaError("too short", code="video_duration_too_short").code == (
        "video_duration_too_short"
    )


@pytest.mark.parametrize("module", [media, _media_types, _probe, _sample_video])
def test_docstring_examples_run(module: object) -> None:
    assert doctest.testmod(module, optionflags=doctest.ELLIPSIS).failed == 0


def test_damaged_copies_give_info_or_media_error(tmp_path: Path, sample: Path) -> None:
    good = sample.read_bytes()
    rng = np.random.default_rng(7)
    target = tmp_path / "damaged.mp4"
    for k in range(24):
        data = bytearray(good[: int(rng.integers(100, len(good)))] if k % 2 else good)
        for at in rng.integers(0, len(data), size=int(rng.integers(1, 40))):
            data[int(at)] = int(rng.integers(0, 256))
        target.write_bytes(bytes(data))
        try:
            outcome: object = probe(target).colours.shape[1]
        except MediaError as exc:
            outcome = exc.code
        assert outcome in (3, "video_file_broken")


def test_a_still_picture_is_read_and_a_video_or_garbage_refused(
    tmp_path: Path, sample: Path
) -> None:
    png = tmp_path / "half.png"
    pixels = np.zeros((40, 64, 3), np.uint8)
    pixels[:, :32] = COLOURS["red"]
    pixels[:, 32:] = COLOURS["blue"]
    png.write_bytes(png_from_pixels(pixels))
    cells = probe_picture(png, still=True).cells
    assert cells.shape == (16, 3)
    left, right = cells.reshape(4, 4, 3)[:, :2], cells.reshape(4, 4, 3)[:, 2:]
    assert np.allclose(left * 255, COLOURS["red"], atol=2)
    assert np.allclose(right * 255, COLOURS["blue"], atol=2)
    jpeg = tmp_path / "green.jpg"
    with av.open(str(jpeg), "w", format="image2") as out:
        stream = out.add_stream("mjpeg")
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuvj420p"
        green = np.full((48, 64, 3), COLOURS["green"], np.uint8)
        frame = av.VideoFrame.from_ndarray(green, format="rgb24").reformat(format="yuvj420p")
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)
    assert np.allclose(probe_picture(jpeg, still=True).cells * 255, COLOURS["green"], atol=6)
    notes = tmp_path / "notes.png"
    notes.write_text("hello")
    for path, words in ((sample, "not a still image"), (notes, "not a readable image")):
        with pytest.raises(MediaError, match=words):
            probe_picture(path, still=True)


def test_frame_at_shows_the_scene_of_that_moment(sample: Path) -> None:
    # The default scenes of a 12 s sample: red, green, blue and yellow, 3 s each.
    for at_s, colour in ((0.0, "red"), (2.9, "red"), (3.1, "green"), (7.5, "blue"), (99, "yellow")):
        frame = frame_at(sample, at_s, width=64)
        assert frame.shape == (36, 64, 3)
        mean = frame.reshape(-1, 3).mean(axis=0)
        assert np.abs(mean - COLOURS[colour]).max() < 20, (at_s, colour, mean)
    with pytest.raises(MediaError):
        frame_at(Path(__file__), 1.0)
