"""One of two loader runs that overlap on the same files, as a separate process.

Usage: ``python _overlap_child.py BASE_URL INDEX_NAME UPLOAD VIDEO...`` with the key in
``TWELVELABS_API_KEY``. Prints ``{"ready": true}``, waits for a line on stdin (so that two
runs start together), then one JSON line per record or failure, then ``{"done": true}``.
"""

from __future__ import annotations

import json
import sys

from tl_integrations import IngestFailure, IngestOptions, PollPolicy, TwelveLabs, VideoIngest


def main(argv: list[str]) -> int:
    base_url, index_name, upload, *videos = argv
    options = IngestOptions(
        index_name=index_name,
        content=("transcript",),
        upload=upload,  # type: ignore[arg-type]
        max_concurrency=8,
        on_error="skip",
    )
    with TwelveLabs(base_url=base_url, poll_policy=PollPolicy.fixed(0.05)) as client:
        print(json.dumps({"ready": True}), flush=True)
        sys.stdin.readline()
        failures: list[IngestFailure] = []
        for record in VideoIngest(client, options).run(videos, failures=failures):
            line = {"source": record.video.source, "video": record.video.video_id}
            print(json.dumps(line), flush=True)
        for failure in failures:
            print(json.dumps({"source": failure.source, "error": str(failure.exception)}))
    print(json.dumps({"done": True}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
