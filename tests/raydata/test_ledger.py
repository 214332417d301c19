"""The index desk's bookkeeping (no Ray here): claims, tasks made in this run, outcomes."""

from __future__ import annotations

from tl_integrations.ray import RowReport
from tl_integrations.ray._desk import Ledger


def test_the_first_input_to_claim_a_content_owns_it_and_keeps_it_when_retried() -> None:
    ledger = Ledger()
    assert ledger.claim("tl_sha256:aa", "a.mp4") == "a.mp4"
    assert ledger.claim("tl_sha256:aa", "copy-of-a.mp4") == "a.mp4"
    assert ledger.claim("tl_sha256:aa", "a.mp4") == "a.mp4"  # a retried batch
    assert ledger.claim("tl_sha256:bb", "copy-of-a.mp4") == "copy-of-a.mp4"


def test_tasks_made_here_are_known_with_the_content_they_were_made_for() -> None:
    ledger = Ledger()
    ledger.note_created({"t1": "tl_sha256:aa"})
    assert ledger.created_here(["t0", "t1"]) == {"t1": "tl_sha256:aa"}


def test_each_input_is_counted_once_with_its_latest_outcome() -> None:
    ledger = Ledger()
    ledger.report(
        [
            RowReport("a.mp4", "indexed", uploaded=True),
            RowReport("b.mp4", "failed", "too short"),
            RowReport("c.mp4", "skipped", "same content as a.mp4"),
            RowReport("d.mp4", "indexed"),
        ]
    )
    # A retried batch reports a.mp4 again; reading d.mp4 fails afterwards.
    ledger.report([RowReport("a.mp4", "indexed", uploaded=True)])
    ledger.report([RowReport("d.mp4", "failed", "analysis failed")])
    assert ledger.counts() == {"uploaded": 1, "indexed": 2, "skipped": 1, "failed": 2}
    assert ledger.failures() == [("b.mp4", "too short"), ("d.mp4", "analysis failed")]
    ledger.report([RowReport("d.mp4", "read")])  # the retry succeeded
    assert ledger.counts()["failed"] == 1


def test_a_new_run_counts_afresh_but_keeps_the_claims() -> None:
    ledger = Ledger()
    ledger.claim("tl_sha256:aa", "a.mp4")
    ledger.report([RowReport("a.mp4", "indexed", uploaded=True)])
    ledger.reset_counts()
    assert ledger.counts() == {"uploaded": 0, "indexed": 0, "skipped": 0, "failed": 0}
    assert ledger.claim("tl_sha256:aa", "b.mp4") == "a.mp4"
