"""A local TwelveLabs-compatible API server (extra ``emulator``: starlette, uvicorn, av).

Our own client, with its polling scaled to the emulator's speed, and the sample videos::

    from tl_integrations.emulator import Emulator, sample_videos

    with Emulator(speed=5) as emulator, emulator.client() as client:
        video = client.index(sample_videos("videos")[0], index_name="demo")

The official ``twelvelabs`` SDK works against it unchanged::

    from twelvelabs import TwelveLabs
    from tl_integrations.emulator import Emulator

    with Emulator(speed=100.0) as emu:
        client = TwelveLabs(api_key=emu.api_key, base_url=emu.base_url)
        index = client.indexes.create(index_name="demo", models=[
            {"model_name": "marengo3.0", "model_options": ["visual", "audio"]}])

Serve it from a shell with ``tl-integrations emulator --port 8765``.

It is a test server, and keeps its doors shut by default: it answers loopback ``Host``
names only, reads no local file by ``file://`` URL unless told which directories it may
(``file_dirs``), signs the media links it hands out, caps request bodies and times out
stalled connections (``RequestLimits``), and refuses to serve beyond loopback without an
API key. A ``data_dir`` is used by one emulator at a time.

Example:
    >>> with Emulator(speed=100.0) as emu:  # doctest: +SKIP
    ...     print(emu.base_url)
    http://127.0.0.1:41231/v1.3
"""

from __future__ import annotations

from .._extras import needs_extra

with needs_extra("emulator", "tl_integrations.emulator"):
    from ._app import create_app
    from ._backend.persistence import DataDirError, DataDirInUse
    from ._cli import main
    from ._config import (
        EmulatorConfig,
        Faults,
        ManualClock,
        MediaLimits,
        RateLimits,
        RequestLimits,
        Stage,
        StageModel,
        UploadLimits,
    )
    from ._documents import make_sample_pdf
    from ._media import make_sample_video, sample_videos
    from ._sample_media import make_sample_audio, make_sample_image
    from ._server import Emulator

__all__ = [
    "DataDirError",
    "DataDirInUse",
    "Emulator",
    "EmulatorConfig",
    "Faults",
    "ManualClock",
    "MediaLimits",
    "RateLimits",
    "RequestLimits",
    "Stage",
    "StageModel",
    "UploadLimits",
    "create_app",
    "main",
    "make_sample_audio",
    "make_sample_image",
    "make_sample_pdf",
    "make_sample_video",
    "sample_videos",
]
