"""client.embed end to end against the emulator: both models, segments, scopes, options, seed."""

from __future__ import annotations

import io
import re
import time
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pytest
from embed_support import SCENES, EmulatorHarness

from tl_integrations import InvalidRequestError, InvalidVideoError, RetryPolicy, TwelveLabs

V1 = "Marengo-retrieval-2.7"
V2 = "marengo3.0"
SEED = Path("/work/shared/seed/000_38f40ae21d74c34d.txt")


def expected_clips(duration: float, clip: float, start: float = 0.0) -> list[tuple[float, float]]:
    """The spec's rule: fixed clips from the start, a last clip under 2 s dropped."""
    bounds: list[tuple[float, float]] = []
    t = start
    while t < duration - 1e-6:
        end = min(t + clip, duration)
        if end - t < 2.0 and bounds:
            break
        bounds.append((t, end))
        t = end
    return bounds


@pytest.mark.parametrize(("model", "dim", "whole"), [(V1, 1024, "video"), (V2, 512, "asset")])
@pytest.mark.parametrize(
    ("video", "clip"),
    [("short", 3), ("short", 5), ("scenes", 4), ("scenes", 6), ("long", 6), ("long", 10)],
)
def test_segments_for_durations_and_clip_lengths(
    emu: EmulatorHarness,
    emu_client: TwelveLabs,
    model: str,
    dim: int,
    whole: str,
    video: str,
    clip: int,
) -> None:
    ve = emu_client.embed.video(
        emu.videos[video],
        model_name=model,
        clip_length_s=clip,
        scopes=["clip", "video"],
        options="audio",
    )
    assert ve.vectors.dtype == np.float32
    assert ve.dim == dim
    assert ve.model_name == model
    assert ve.duration_s is not None
    clips = ve.select(scope="clip")
    want = expected_clips(ve.duration_s, clip)
    assert clips.start_s.tolist() == pytest.approx([s for s, _ in want], abs=1e-3)
    assert clips.end_s.tolist() == pytest.approx([e for _, e in want], abs=1e-3)
    assert ve.select(scope="video").scopes.tolist() == [whole]
    assert set(ve.options.tolist()) == {"audio"}
    norms = np.linalg.norm(ve.vectors, axis=1)
    assert np.allclose(norms, 1.0, atol=1e-3)


@pytest.mark.parametrize(
    ("model", "options"),
    [(V1, {"visual-text", "audio"}), (V2, {"visual", "audio", "transcription"})],
)
def test_default_options_and_filtering(
    emu: EmulatorHarness, emu_client: TwelveLabs, model: str, options: set[str]
) -> None:
    task = emu_client.embed.tasks.create_and_wait(model_name=model, video_file=emu.videos["short"])
    everything = emu_client.embed.tasks.vectors(task)
    assert set(everything.options.tolist()) == options
    assert set(everything.scopes.tolist()) == {"clip"}
    one = sorted(options)[0]
    only = emu_client.embed.tasks.vectors(task.id, embedding_options=[one])
    assert set(only.options.tolist()) == {one}
    np.testing.assert_array_equal(only.vectors, everything.select(option=one).vectors)


@pytest.mark.parametrize("model", [V1, V2])
def test_offsets_restrict_the_range(
    emu: EmulatorHarness, emu_client: TwelveLabs, model: str
) -> None:
    ve = emu_client.embed.video(
        emu.videos["scenes"],
        model_name=model,
        clip_length_s=4,
        start_s=2.0,
        end_s=14.0,
        options="audio",
    )
    assert ve.start_s.tolist() == pytest.approx([2.0, 6.0, 10.0])
    assert ve.end_s.tolist() == pytest.approx([6.0, 10.0, 14.0])


def test_video_url_to_a_local_file(emu: EmulatorHarness, emu_client: TwelveLabs) -> None:
    ve = emu_client.embed.video(emu.videos["short"].as_uri(), model_name=V2, options="visual")
    assert len(ve) == 2
    assert ve.dim == 512


@pytest.mark.parametrize("model", [V1, V2])
def test_validation_errors_upload_nothing(
    emu: EmulatorHarness, emu_client: TwelveLabs, tmp_path: Path, model: str
) -> None:
    before = emu.posts()
    bad_calls = [
        {"video_clip_length": 11},
        {"video_start_offset_sec": 5, "video_end_offset_sec": 6},
        {"video_embedding_scope": ["scene"]},
        {"embedding_options": ["fused"]},
    ]
    for kwargs in bad_calls:
        with pytest.raises(InvalidRequestError):
            emu_client.embed.tasks.create(
                model_name=model, video_file=emu.videos["short"], **kwargs
            )
    with pytest.raises(InvalidVideoError):
        emu_client.embed.tasks.create(model_name=model, video_file=tmp_path / "missing.mp4")
    assert emu.posts() == before


@pytest.mark.parametrize("model", [V1, V2])
def test_a_text_query_finds_its_segment(
    emu: EmulatorHarness, emu_client: TwelveLabs, model: str
) -> None:
    ve = emu_client.embed.video(emu.videos["scenes"], model_name=model, clip_length_s=6)
    queries = emu_client.embed.texts([text for _, _, text in SCENES], model_name=model)
    assert queries.shape == (3, ve.dim)
    for (start, _end, _text), query in zip(SCENES, queries, strict=True):
        best = int(np.argmax(ve.vectors @ query))
        assert ve.start_s[best] == pytest.approx(start)


def test_saved_embeddings_round_trip(
    emu: EmulatorHarness, emu_client: TwelveLabs, tmp_path: Path
) -> None:
    ve = emu_client.embed.video(emu.videos["short"], model_name=V1)
    ve.save(tmp_path / "short.npz")
    back = type(ve).load(tmp_path / "short.npz")
    np.testing.assert_array_equal(back.vectors, ve.vectors)
    assert (back.task_id, back.duration_s) == (ve.task_id, ve.duration_s)


async def test_async_client_end_to_end(emu: EmulatorHarness) -> None:
    async with emu.aclient() as client:
        ve = await client.embed.video(emu.videos["short"], model_name=V1, clip_length_s=4)
        query = await client.embed.text("hello", model_name=V1)
        tasks = [
            await client.embed.tasks.create(model_name=V2, video_url=emu.videos[name].as_uri())
            for name in ("short", "scenes")
        ]
        done = [t async for t in client.embed.tasks.wait_many(tasks, timeout_s=120)]
    assert ve.dim == 1024
    assert len(ve) == 4
    assert query.shape == (1024,)
    assert sorted(t.id for t in done) == sorted(t.id for t in tasks)
    assert all(t.status == "ready" for t in done)


def test_the_seeds_second_program_runs(
    emu: EmulatorHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the import lines change; the placeholders are filled in like a user would."""
    source = SEED.read_text()
    program = source[source.rindex("Video embedding tasks") :]
    # The page numbers its lines ("1from twelvelabs ..."); strip the numbers.
    code = "\n".join(m.group(1) for m in re.finditer(r"^\d+(.*)$", program, re.M))
    code = code.replace(
        "from twelvelabs import TwelveLabs", "from tl_integrations import TwelveLabs"
    )
    code = code.replace(
        "from twelvelabs.models.embed import EmbeddingsTask, SegmentEmbedding",
        "from tl_integrations import EmbeddingTask as EmbeddingsTask, "
        "VideoEmbedding as SegmentEmbedding",
    )
    code = code.replace("<YOUR_API_KEY>", emu.emulator.api_key)
    code = code.replace("<YOUR_VIDEO_FILE>", str(emu.videos["short"]))
    assert "from twelvelabs" not in code
    monkeypatch.setenv("TWELVELABS_BASE_URL", emu.emulator.base_url)
    # The seed's client sleeps with time.sleep; let that move the emulator's clock instead.
    monkeypatch.setattr(time, "sleep", emu.time.sleep)
    out = io.StringIO()
    namespace: dict[str, object] = {"__name__": "__seed__"}
    with redirect_stdout(out):
        exec(compile(code, "seed-2", "exec"), namespace)
    namespace["client"].close()  # type: ignore[attr-defined]  # the program never closes it
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("Created task: id=")
    assert "model_name=Marengo-retrieval-2.7" in lines[0]
    assert "status=processing" in lines[0]
    assert any(line.strip() == "Status=processing" for line in lines)
    assert lines[-2].strip() == "Status=ready"
    # wait_for_done returns the finished task, as the official SDK 1.3.6 does (the seed was
    # written for an older SDK that returned the status string); the program runs unchanged.
    assert lines[-1].startswith("Embedding done: EmbeddingTask(")
    assert "status='ready'" in lines[-1]


@pytest.mark.parametrize("model", [V1, V2])
def test_texts_ride_out_injected_429s(emu: EmulatorHarness, model: str) -> None:
    emulator = emu.emulator
    # A generous retry budget: with 40 % of requests refused, no text may run out of tries
    # whatever order the concurrent requests draw their faults in (0.4**11 per text).
    client = TwelveLabs(
        api_key=emulator.api_key,
        base_url=emulator.base_url,
        clock=emu.clock,
        sleep=emu.time.sleep,
        retry_policy=RetryPolicy(max_retries=10),
    )
    before = emulator.stats()["faults"].get("429", 0)
    emulator.set_faults(p429=0.4, seed=5)
    try:
        texts = [f"query {i}" for i in range(12)]
        matrix = client.embed.texts(texts, model_name=model, max_concurrency=4)
    finally:
        emulator.set_faults()
    assert matrix.shape == (12, 1024 if model == V1 else 512)
    assert emulator.stats()["faults"].get("429", 0) > before
    np.testing.assert_allclose(matrix[7], client.embed.text("query 7", model_name=model), rtol=1e-6)
    client.close()
