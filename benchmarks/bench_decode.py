"""Embedding decode: 1,000 segments x 1,024 floats, ours vs the official SDK vs the floor.

Set-up: one ``GET /embed/tasks/{id}`` response body of ``n_segments`` Marengo 2.7 segments
(``dim`` random float32 values each, written by orjson like a server would), about 20 MB.

What is timed (best of ``repeats``; the SDK, being slow, best of ``sdk_repeats``):

- **sdk retrieve**: the official SDK's real ``client.embed.tasks.retrieve(task_id)``
  (``response.json()`` then pydantic ``parse_obj_as(TasksRetrieveResponse, ...)``).
- **ours retrieve**: our real ``client.embed.tasks.vectors(task_id)`` -> ``VideoEmbedding``.
  Both clients get the same bytes from the same ``httpx.MockTransport``, so the network is
  out of the picture and the numbers are what each client spends turning bytes into values.
- **sdk parse** / **ours decode**: the same without HTTP (``json.loads`` + ``parse_obj_as``;
  our ``decode_video_v1``).
- **floor**: ``orjson.loads`` + one ``numpy.asarray(..., float32)`` of the vector lists,
  with no validation and no other columns: the least any decoder can do.
- **emulator** (when ``emulator_clips`` > 0 and the ``emulator`` extra is installed): both
  clients' real retrieve of a real Marengo 2.7 task of ``emulator_clips`` 2-second clips
  (one option), from the emulator running in a child process, over loopback HTTP.

Targets: ours at least 20x faster than the SDK's retrieve; ours within 1.5x of the floor.

Run alone: ``.venv/bin/python benchmarks/bench_decode.py`` (or ``-m benchmarks.bench_decode``,
``n_segments=200 dim=512`` to override). ``run() -> dict`` is what ``benchmarks.run_all``
calls.

Example:
    >>> # run(n_segments=20, dim=64, repeats=1, sdk_repeats=1)["ratios"]
"""

from __future__ import annotations

import gc
import json
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx
import numpy as np
import orjson

# --- parameters ---------------------------------------------------------------------------
N_SEGMENTS = 1000
DIM = 1024
REPEATS = 15
SDK_REPEATS = 2
SEED = 0
EMULATOR_CLIPS = 1000
"""Clips of the emulator task (its video lasts 2 s per clip); 0 skips the emulator rows."""
SMOKE: dict[str, Any] = {
    "n_segments": 20,
    "dim": 64,
    "repeats": 1,
    "sdk_repeats": 1,
    "emulator_clips": 3,
}
TARGETS = (
    ">=20x faster than the SDK's embed.tasks.retrieve",
    "within 1.5x of the floor (orjson.loads + numpy.asarray)",
)

TASK_ID = "6651c0ffee0000aaaabbbbcc"
MODEL = "Marengo-retrieval-2.7"
BASE_URL = "https://api.bench/v1.3"


def make_body(n_segments: int, dim: int, *, seed: int = SEED) -> bytes:
    """A ``GET /embed/tasks/{id}`` body: ``n_segments`` clips of ``dim`` floats.

    Example:
        >>> len(orjson.loads(make_body(3, 4))["video_embedding"]["segments"])
        3
    """
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((n_segments, dim)).astype(np.float32).tolist()
    segments = [
        {
            "start_offset_sec": 6.0 * i,
            "end_offset_sec": 6.0 * (i + 1),
            "embedding_scope": "clip",
            "embedding_option": "visual-text",
            "float": vector,
        }
        for i, vector in enumerate(vectors)
    ]
    doc = {
        "_id": TASK_ID,
        "model_name": MODEL,
        "status": "ready",
        "created_at": "2025-05-25T09:00:00Z",
        "updated_at": "2025-05-25T09:01:30Z",
        "video_embedding": {
            "metadata": {
                "input_filename": "a.mp4",
                "video_clip_length": 6,
                "video_embedding_scope": ["clip"],
                "duration": 6.0 * n_segments,
            },
            "segments": segments,
        },
    }
    return orjson.dumps(doc)


def _transport(body: bytes) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    return httpx.MockTransport(handler)


def best_of(fn: Callable[[], Any], repeats: int) -> float:
    """The fastest of ``repeats`` calls, in seconds (garbage collected between calls).

    Example:
        >>> best_of(lambda: None, 2) >= 0
        True
    """
    times = []
    for _ in range(max(1, repeats)):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def floor(body: bytes) -> Any:
    """The least work: parse, then one conversion of the vector lists."""
    doc = orjson.loads(body)
    return np.asarray([s["float"] for s in doc["video_embedding"]["segments"]], dtype=np.float32)


def ours_decode(body: bytes) -> Any:
    """Our decoder alone: bytes -> validated VideoEmbedding."""
    from tl_integrations._embed.decode import decode_video_v1

    return decode_video_v1(body, model_name=MODEL, dim_hint=1024)


def sdk_parse(body: bytes) -> Any:
    """The SDK's parse alone, as its retrieve does it (``response.json()`` + pydantic)."""
    from twelvelabs.core.pydantic_utilities import parse_obj_as
    from twelvelabs.embed.tasks.types.tasks_retrieve_response import TasksRetrieveResponse

    return parse_obj_as(type_=TasksRetrieveResponse, object_=json.loads(body))


def _ours_client(body: bytes) -> tuple[Any, httpx.Client]:
    from tl_integrations import TwelveLabs

    http = httpx.Client(transport=_transport(body))
    return TwelveLabs(api_key="bench", base_url=BASE_URL, http_client=http), http


def _sdk_client(body: bytes) -> tuple[Any, httpx.Client]:
    from twelvelabs import TwelveLabs as SdkTwelveLabs

    http = httpx.Client(transport=_transport(body))
    return SdkTwelveLabs(api_key="bench", base_url=BASE_URL, httpx_client=http), http


def _check(ours: Any, sdk: Any, n_segments: int, dim: int) -> None:
    """Both sides really decoded the same numbers (guards against timing a no-op)."""
    assert ours.vectors.shape == (n_segments, dim), ours.vectors.shape
    segments = sdk.video_embedding.segments
    assert len(segments) == n_segments
    np.testing.assert_allclose(ours.vectors[-1], np.asarray(segments[-1].float_), rtol=1e-6)


def _emulator_times(clips: int, *, repeats: int, sdk_repeats: int) -> dict[str, float]:
    """Both clients' retrieve of a real task of ``clips`` x 1,024 floats, from the emulator."""
    from pathlib import Path

    here = Path(__file__).resolve().parent
    if str(here.parent) not in sys.path:  # run as a plain script: make `benchmarks` importable
        sys.path.insert(0, str(here.parent))
    from twelvelabs import TwelveLabs as SdkTwelveLabs

    from benchmarks._emu import EmulatorProcess
    from tl_integrations import TwelveLabs
    from tl_integrations.emulator import make_sample_video

    video = here / ".work" / "media" / f"decode-{clips}clips.mp4"
    if not video.exists():
        video.parent.mkdir(parents=True, exist_ok=True)
        make_sample_video(video, duration_s=2.0 * clips, fps=1, subtitles=())
    with (
        EmulatorProcess(speed=1000.0, config={"file_dirs": (str(video.parent),)}) as emu,
        TwelveLabs(api_key=emu.api_key, base_url=emu.base_url) as ours,
    ):
        task = ours.embed.tasks.create_and_wait(
            model_name=MODEL, video_url=video.as_uri(), video_clip_length=2, timeout_s=600
        )
        sdk = SdkTwelveLabs(api_key=emu.api_key, base_url=emu.base_url)
        option = ["visual-text"]
        got = ours.embed.tasks.vectors(task, embedding_options=option)
        _check(got, sdk.embed.tasks.retrieve(task.id, embedding_option=option), len(got), 1024)
        return {
            "emu_ours": best_of(
                lambda: ours.embed.tasks.vectors(task, embedding_options=option), repeats
            ),
            "emu_sdk": best_of(
                lambda: sdk.embed.tasks.retrieve(task.id, embedding_option=option), sdk_repeats
            ),
        }


def _row(client: str, what: str, seconds: float) -> dict[str, Any]:
    return {"client": client, "what": what, "seconds": round(seconds, 5)}


def _ratio(name: str, num: float, den: float) -> dict[str, Any]:
    return {"name": name, "value": round(num / den, 2) if den > 0 else None}


def run(
    *,
    n_segments: int = N_SEGMENTS,
    dim: int = DIM,
    repeats: int = REPEATS,
    sdk_repeats: int = SDK_REPEATS,
    seed: int = SEED,
    emulator_clips: int = EMULATOR_CLIPS,
) -> dict[str, Any]:
    """Run the benchmark; returns the shared result shape (see ``benchmarks/_common.py``).

    Example:
        >>> # run(**SMOKE)["targets"][0]["met"]
    """
    started = time.perf_counter()
    body = make_body(n_segments, dim, seed=seed)
    ours, ours_http = _ours_client(body)
    sdk, sdk_http = _sdk_client(body)
    try:
        _check(
            ours.embed.tasks.vectors(TASK_ID, model_name=MODEL),
            sdk.embed.tasks.retrieve(TASK_ID),
            n_segments,
            dim,
        )
        t = {
            "floor": best_of(lambda: floor(body), repeats),
            "ours_decode": best_of(lambda: ours_decode(body), repeats),
            "ours_retrieve": best_of(
                lambda: ours.embed.tasks.vectors(TASK_ID, model_name=MODEL), repeats
            ),
            "sdk_parse": best_of(lambda: sdk_parse(body), sdk_repeats),
            "sdk_retrieve": best_of(lambda: sdk.embed.tasks.retrieve(TASK_ID), sdk_repeats),
        }
    finally:
        ours.close()
        ours_http.close()
        sdk_http.close()
    notes = []
    if emulator_clips > 0:
        try:
            t.update(_emulator_times(emulator_clips, repeats=repeats, sdk_repeats=sdk_repeats))
        except ImportError as exc:  # the emulator extra is optional
            notes.append(f"Emulator rows skipped: {exc}.")
    vs_sdk = t["sdk_retrieve"] / t["ours_retrieve"]
    vs_floor = t["ours_decode"] / t["floor"]
    return {
        "name": "decode",
        "title": f"Embedding decode ({n_segments:,} x {dim:,})",
        "params": {
            "n_segments": n_segments,
            "dim": dim,
            "repeats": repeats,
            "sdk_repeats": sdk_repeats,
            "body_mb": round(len(body) / 1e6, 1),
        },
        "rows": [
            _row("sdk", "embed.tasks.retrieve (json + pydantic)", t["sdk_retrieve"]),
            _row("sdk", "parse only (json.loads + parse_obj_as)", t["sdk_parse"]),
            _row("ours", "embed.tasks.retrieve -> VideoEmbedding", t["ours_retrieve"]),
            _row("ours", "decode only (decode_video_v1)", t["ours_decode"]),
            _row("floor", "orjson.loads + numpy.asarray", t["floor"]),
            *_emulator_rows(t, emulator_clips),
        ],
        "ratios": [
            _ratio("decode time, SDK / ours (retrieve)", t["sdk_retrieve"], t["ours_retrieve"]),
            _ratio("decode time, SDK / ours (parse only)", t["sdk_parse"], t["ours_decode"]),
            _ratio("decode time, ours / floor (lower is better)", t["ours_decode"], t["floor"]),
            _ratio("retrieve time, ours / floor", t["ours_retrieve"], t["floor"]),
            *_emulator_ratios(t),
        ],
        "targets": _targets(vs_sdk, vs_floor, full_size=n_segments * dim >= N_SEGMENTS * DIM),
        "notes": [
            "Both clients read the same bytes from one httpx.MockTransport: no network.",
            f"Best of {repeats} (ours, floor) and of {sdk_repeats} (SDK) runs, gc between runs.",
            "Ours validates shapes, types and finiteness and builds start/end/option/scope "
            "arrays too; the floor does none of that.",
            *notes,
        ],
        "wall_s": time.perf_counter() - started,
    }


def _targets(vs_sdk: float, vs_floor: float, *, full_size: bool) -> list[dict[str, Any]]:
    """The verdicts; below the target's size fixed costs dominate, so nothing is judged."""
    verdicts = [(TARGETS[0], vs_sdk >= 20, vs_sdk), (TARGETS[1], vs_floor <= 1.5, vs_floor)]
    return [
        {
            "target": text,
            "met": met if full_size else None,
            "detail": f"{value:.3g}x" + ("" if full_size else " (smaller than the target size)"),
        }
        for text, met, value in verdicts
    ]


def _emulator_rows(t: dict[str, float], clips: int) -> list[dict[str, Any]]:
    if "emu_ours" not in t:
        return []
    what = f"retrieve from the emulator over HTTP ({clips:,} x 1,024)"
    return [_row("sdk", what, t["emu_sdk"]), _row("ours", what, t["emu_ours"])]


def _emulator_ratios(t: dict[str, float]) -> list[dict[str, Any]]:
    if "emu_ours" not in t:
        return []
    return [_ratio("retrieve time over HTTP (emulator), SDK / ours", t["emu_sdk"], t["emu_ours"])]


def _main(argv: list[str]) -> None:
    overrides = {}
    for pair in argv:
        key, _, raw = pair.partition("=")
        overrides[key] = int(raw)
    result = run(**overrides)
    print(result["title"], f"({result['params']['body_mb']} MB body)")
    for row in result["rows"]:
        print(f"  {row['client']:5} {row['what']:58} {row['seconds'] * 1000:10.1f} ms")
    for item in result["ratios"]:
        print(f"  {item['name']:64} {item['value']}x")
    for tgt in result["targets"]:
        verdict = {True: "met", False: "MISSED", None: "not judged"}[tgt["met"]]
        print(f"  [{verdict}] {tgt['target']}: {tgt['detail']}")


if __name__ == "__main__":
    _main(sys.argv[1:])
