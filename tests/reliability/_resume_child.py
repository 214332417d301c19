"""The loader run of the crash-and-resume scenario, as a separate process.

Usage: ``python _resume_child.py BASE_URL INDEX_NAME VIDEO...`` with the key in
``TWELVELABS_API_KEY``. Prints one JSON line per Document, then ``{"done": true}``.
Polls every 20 ms of wall time, so that a test can catch it "waiting" quickly.
"""

from __future__ import annotations

import json
import sys

from tl_integrations import PollPolicy, TwelveLabs
from tl_integrations.langchain import TwelveLabsVideoLoader


def main(argv: list[str]) -> int:
    base_url, index_name, *videos = argv
    with TwelveLabs(base_url=base_url, poll_policy=PollPolicy.fixed(0.02)) as client:
        loader = TwelveLabsVideoLoader(
            videos,
            index_name=index_name,
            content=("transcript",),
            client=client,
            max_concurrency=2,
        )
        for doc in loader.lazy_load():
            line = {"source": doc.metadata["source"], "id": doc.id, "text": doc.page_content}
            print(json.dumps(line), flush=True)
    print(json.dumps({"done": True}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
