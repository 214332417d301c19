"""``verify_webhook``: signatures checked before anything is parsed, replays refused, typed
events out, and every refusal a typed error that names what was wrong."""

from __future__ import annotations

import pickle
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tl_integrations import (
    AnalyzeTaskEvent,
    IndexTaskEvent,
    InvalidRequestError,
    TwelveLabsError,
    WebhookEvent,
    WebhookVerificationError,
    verify_webhook,
)

from .signing import NOW, SECRET, event, signed


def verify(body: bytes, headers: Any, **kwargs: Any) -> WebhookEvent:
    kwargs.setdefault("clock", lambda: float(NOW))
    return verify_webhook(body, headers, SECRET, **kwargs)


@pytest.mark.parametrize(
    ("kind", "cls", "status"),
    [
        ("index.task.ready", IndexTaskEvent, "ready"),
        ("index.task.failed", IndexTaskEvent, "failed"),
        ("analyze.task.ready", AnalyzeTaskEvent, "ready"),
        ("analyze.task.failed", AnalyzeTaskEvent, "failed"),
        ("analyze.task.canceled", AnalyzeTaskEvent, "canceled"),
    ],
)
def test_each_documented_type_becomes_its_typed_event(
    kind: str, cls: type[WebhookEvent], status: str
) -> None:
    got = verify(*signed(event(kind, status=status)))
    assert type(got) is cls
    assert (got.id, got.type, got.job_id, got.status) == (
        f"whe_{kind}_6650a1b2c3d4e5f601234567",
        kind,
        "6650a1b2c3d4e5f601234567",
        status,
    )
    assert got.created_at == "2026-10-02T09:15:04Z"


def test_event_fields_are_read_from_the_documented_payloads() -> None:
    index = verify(
        *signed(
            event(
                "index.task.ready",
                status="ready",
                metadata={"duration": 612.4},
                models=[{"name": "marengo3.0", "options": ["visual"]}],
                tags=[],
            )
        )
    )
    assert isinstance(index, IndexTaskEvent)
    assert index.duration_s == 612.4
    assert index.models == [{"name": "marengo3.0", "options": ["visual"]}]
    analysis = verify(
        *signed(
            event(
                "analyze.task.failed",
                custom_id="job-42",
                status="failed",
                error={"message": "the video is too long"},
                video_source={"type": "asset_id", "asset_id": "a1"},
            )
        )
    )
    assert isinstance(analysis, AnalyzeTaskEvent)
    assert analysis.custom_id == "job-42"
    assert analysis.error_message == "the video is too long"
    assert analysis.video_source == {"type": "asset_id", "asset_id": "a1"}


def test_an_unknown_type_is_kept_generically_and_its_status_comes_from_the_type() -> None:
    got = verify(*signed(event("index.batch.completed")))
    assert type(got) is WebhookEvent
    assert got.status == "completed"
    assert got.job_data() == {"id": "6650a1b2c3d4e5f601234567", "status": "completed"}


def test_headers_in_any_case_or_as_asgi_pairs_and_a_text_body() -> None:
    body, headers = signed(event("index.task.ready"))
    value = headers["TL-Signature"]
    assert verify(body, {"tl-signature": value}).job_id
    assert verify(body, [(b"tl-signature", value.encode())]).job_id
    assert verify(body.decode(), {"TL-SIGNATURE": value}).job_id


def test_any_of_several_v1_signatures_may_match_as_during_a_secret_rotation() -> None:
    body, headers = signed(event("index.task.ready"))
    rotated = headers["TL-Signature"].replace("v1=", "v1=" + "0" * 64 + ",v1=")
    assert verify(body, {"TL-Signature": rotated}).job_id


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "v1=abc",  # no timestamp
        f"t={NOW}",  # no signature
        f"t=soon,v1={'a' * 64}",
        f"t=１２３,v1={'a' * 64}",  # digits, but not ASCII ones
        f"t={'9' * 40},v1={'a' * 64}",  # a timestamp no clock reaches
        f"t={NOW}," + ",".join(["v1=" + "a" * 64] * 9),  # too many candidates
        f"t={NOW},v1=" + "a" * 3000,
    ],
)
def test_missing_or_malformed_signatures_are_refused(header: str | None) -> None:
    body, _ = signed(event("index.task.ready"))
    headers = {} if header is None else {"TL-Signature": header}
    with pytest.raises(WebhookVerificationError) as caught:
        verify(body, headers)
    assert caught.value.reason == "signature"


def test_a_forged_or_altered_request_is_refused_before_its_body_is_read() -> None:
    body, headers = signed(event("index.task.ready"), secret="whsec_someone-else")
    with pytest.raises(WebhookVerificationError, match="does not match") as caught:
        verify(body, headers)
    assert caught.value.reason == "signature"
    body, headers = signed(b"this is not even JSON")
    with pytest.raises(WebhookVerificationError) as caught:
        verify(body + b" ", headers)  # one byte more
    assert caught.value.reason == "signature"


@given(st.binary(min_size=1, max_size=200), st.integers(0, 199), st.integers(1, 255))
def test_changing_any_byte_of_a_signed_body_breaks_the_signature(
    body: bytes, index: int, flip: int
) -> None:
    _, headers = signed(body)
    tampered = bytearray(body)
    tampered[index % len(body)] ^= flip
    with pytest.raises(WebhookVerificationError) as caught:
        verify(bytes(tampered), headers)
    assert caught.value.reason == "signature"


@pytest.mark.parametrize(("age_s", "ok"), [(300, True), (-300, True), (301, False), (-301, False)])
def test_the_timestamp_must_be_within_the_tolerance_either_way(age_s: int, ok: bool) -> None:
    body, headers = signed(event("index.task.ready"), at=NOW - age_s)
    if ok:
        assert verify(body, headers).type == "index.task.ready"
        return
    with pytest.raises(WebhookVerificationError, match="tolerance 300 s") as caught:
        verify(body, headers)
    assert caught.value.reason == "timestamp"


def test_a_replay_of_an_old_request_is_refused_even_with_its_valid_signature() -> None:
    body, headers = signed(event("index.task.ready"), at=NOW - 3600)
    with pytest.raises(WebhookVerificationError, match="3600 s old") as caught:
        verify(body, headers, tolerance_s=600)
    assert caught.value.reason == "timestamp"


@pytest.mark.parametrize(
    ("payload", "says"),
    [
        (b"{not json", "not JSON"),
        (b"[]", "JSON object"),
        (orjson.dumps({"type": "index.task.ready", "data": {"id": "t"}}), "'id'"),
        (orjson.dumps({"id": "e", "data": {"id": "t"}}), "'type'"),
        (orjson.dumps({"id": "e", "type": "index.task.ready"}), "'data'"),
        (orjson.dumps({"id": "e", "type": "index.task.ready", "data": {}}), "data.id"),
    ],
)
def test_a_signed_body_that_is_not_an_event_is_a_body_error(payload: bytes, says: str) -> None:
    with pytest.raises(WebhookVerificationError, match=says) as caught:
        verify(*signed(payload))
    assert caught.value.reason == "body"


def test_the_secret_comes_from_the_environment_and_is_never_in_a_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body, headers = signed(event("index.task.ready"))
    monkeypatch.setenv("TWELVELABS_WEBHOOK_SECRET", SECRET)
    assert verify_webhook(body, headers, None, clock=lambda: float(NOW)).job_id
    monkeypatch.setenv("TWELVELABS_WEBHOOK_SECRET", "whsec_wrong-one")
    with pytest.raises(WebhookVerificationError) as caught:
        verify_webhook(body, headers, None, clock=lambda: float(NOW))
    assert "whsec_" not in str(caught.value)
    monkeypatch.delenv("TWELVELABS_WEBHOOK_SECRET")
    with pytest.raises(InvalidRequestError, match="TWELVELABS_WEBHOOK_SECRET"):
        verify_webhook(body, headers, None)


@pytest.mark.parametrize("tolerance", [0, -1, float("inf"), float("nan"), True, "300"])
def test_a_bad_tolerance_is_refused_before_anything_is_checked(tolerance: Any) -> None:
    with pytest.raises(InvalidRequestError, match="tolerance_s"):
        verify_webhook(b"{}", {}, SECRET, tolerance_s=tolerance)


def test_the_error_is_in_the_one_tree_and_survives_a_pickle() -> None:
    err = WebhookVerificationError("stale", reason="timestamp")
    assert isinstance(err, TwelveLabsError)
    again = pickle.loads(pickle.dumps(err))
    assert (type(again), str(again), again.reason) == (
        WebhookVerificationError,
        "stale",
        "timestamp",
    )
