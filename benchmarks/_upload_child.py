"""One upload in a fresh process, for :mod:`benchmarks.bench_upload` (not run by hand).

Usage: ``python -m benchmarks._upload_child {ours|sdk} BASE_URL API_KEY INDEX_ID PATH``.
Prints one JSON line: seconds, CPU seconds (user + system, all threads), bytes, RSS before,
peak RSS during the upload (kernel VmHWM after a reset, cross-checked by a 5 ms sampler
thread) and the error the server answered.

Example:
    >>> # python -m benchmarks._upload_child ours http://127.0.0.1:8000/v1.3 k idx /tmp/f
"""

from __future__ import annotations

import gc
import json
import sys
import time
from pathlib import Path
from typing import Any

from ._common import RssSampler, peak_rss_bytes, reset_peak_rss, rss_bytes
from ._multipart_child import cpu_seconds


def _make_upload(client_name: str, base_url: str, api_key: str, index_id: str) -> Any:
    """Build the client, warm its connection pool, and return a zero-argument upload call."""
    if client_name == "ours":
        from tl_integrations import TwelveLabs

        ours = TwelveLabs(api_key=api_key, base_url=base_url, max_retries=0)
        ours.indexes.retrieve(index_id)  # warm-up: connection, lazy imports

        def upload_ours(path: Path) -> Any:
            return ours.tasks.create(index_id=index_id, file=path)

        return upload_ours
    from twelvelabs import TwelveLabs as SdkTwelveLabs
    from twelvelabs.core.request_options import RequestOptions

    sdk = SdkTwelveLabs(api_key=api_key, base_url=base_url)
    sdk.indexes.retrieve(index_id)
    no_retry = RequestOptions(max_retries=0)

    def upload_sdk(path: Path) -> Any:
        with path.open("rb") as fh:  # the SDK's documented way: an open binary file
            return sdk.tasks.create(index_id=index_id, video_file=fh, request_options=no_retry)

    return upload_sdk


def _error_fields(exc: BaseException) -> dict[str, Any]:
    status = getattr(exc, "status_code", None)
    code = getattr(exc, "code", None)
    body = getattr(exc, "body", None)
    if code is None and isinstance(body, dict):
        code = body.get("code") or (body.get("error") or {}).get("code")
    return {"error": f"{type(exc).__name__}", "status": status, "code": code}


def main(argv: list[str]) -> dict[str, Any]:
    """Run one upload and return the measurements (also printed as JSON).

    Example:
        >>> # main(["ours", base_url, key, index_id, "/tmp/sparse.mp4"])
    """
    client_name, base_url, api_key, index_id, raw_path = argv
    path = Path(raw_path)
    upload = _make_upload(client_name, base_url, api_key, index_id)
    gc.collect()
    before = rss_bytes()
    hwm_ok = reset_peak_rss()
    out: dict[str, Any] = {"client": client_name, "bytes": path.stat().st_size, "error": None}
    with RssSampler() as sampler:
        start, cpu0 = time.perf_counter(), cpu_seconds()
        try:
            result = upload(path)
            out["task_id"] = str(getattr(result, "id", ""))
        except Exception as exc:  # the server rejecting the sparse file is expected
            out.update(_error_fields(exc))
        out["seconds"] = time.perf_counter() - start
        out["cpu_s"] = cpu_seconds() - cpu0
    hwm = peak_rss_bytes() if hwm_ok else None
    out["rss_before"] = before
    out["peak_sampled"] = sampler.max_bytes
    out["peak_hwm"] = hwm
    out["growth_bytes"] = max(hwm or 0, sampler.max_bytes) - before
    return out


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
