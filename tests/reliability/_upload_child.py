"""One ``client.assets.upload`` in chunks, as a separate process that a test kills.

Usage: ``python _upload_child.py BASE_URL FILE`` with the key in ``TWELVELABS_API_KEY`` and
the journal under ``XDG_CACHE_HOME``. Past half of the file it prints ``half`` and blocks
(reading stdin), so that the test kills it mid-upload, at a moment it chose.
"""

from __future__ import annotations

import sys

from tl_integrations import TwelveLabs


def main(argv: list[str]) -> int:
    base_url, path = argv
    told = False

    def on_progress(done: int, total: int) -> None:
        nonlocal told
        if done > total // 2 and not told:
            told = True
            print("half", flush=True)
            sys.stdin.read()  # until killed

    with TwelveLabs(base_url=base_url) as client:
        client.assets.upload(
            path, max_concurrency=2, on_progress=on_progress, multipart_threshold_bytes=1000
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
