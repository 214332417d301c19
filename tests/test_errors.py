"""The exception tree: shape, messages and pickling."""

from __future__ import annotations

import pickle

import pytest

import tl_integrations as errors


@pytest.mark.parametrize(
    ("cls", "bases"),
    [
        (errors.BadRequestError, (errors.APIStatusError,)),
        (errors.AuthenticationError, (errors.APIStatusError,)),
        (errors.NotFoundError, (errors.APIStatusError,)),
        (errors.RateLimitError, (errors.APIStatusError,)),
        (errors.ServerError, (errors.APIStatusError,)),
        (errors.InvalidVideoError, (errors.InvalidRequestError, ValueError)),
        (errors.TaskTimeoutError, (TimeoutError,)),
        (errors.APIConnectionError, ()),
        (errors.TaskFailedError, ()),
    ],
)
def test_every_error_has_one_root(cls: type[Exception], bases: tuple[type, ...]) -> None:
    assert issubclass(cls, errors.TwelveLabsError)
    for base in bases:
        assert issubclass(cls, base)


def test_task_failed_message_names_task_file_and_reason() -> None:
    err = errors.TaskFailedError(
        "t1", video_id="v1", index_id="i1", filename="talk.mp4", reason="video_file_broken"
    )
    assert str(err) == "task t1 failed (file 'talk.mp4', video v1, index i1): video_file_broken"


def test_task_failed_without_reason_says_so() -> None:
    assert str(errors.TaskFailedError("t1")) == "task t1 failed: the server gave no reason"


def test_timeout_for_many_tasks_names_them_and_truncates() -> None:
    ids = [f"t{i}" for i in range(12)]
    err = errors.TaskTimeoutError(ids, timeout_s=60.0)
    assert err.task_ids == ids
    assert "12 tasks still pending after 60.0 s: t0, t1" in str(err)
    assert "and 2 more" in str(err)


@pytest.mark.parametrize(
    "err",
    [
        errors.TaskFailedError("t1", filename="a.mp4", reason="broken"),
        errors.TaskTimeoutError(["t1", "t2"], last_status="indexing", timeout_s=5.0),
        errors.InvalidVideoError("no such file", path="a.mp4"),
        errors.RateLimitError("slow down", status_code=429, code="too_many", retry_after_s=2.0),
        errors.NotFoundError("task 't1' not found", status_code=404, method="GET", path="/t"),
    ],
)
def test_errors_survive_pickling(err: errors.TwelveLabsError) -> None:
    # Errors cross process boundaries (multiprocessing, notebooks); they must round-trip.
    clone = pickle.loads(pickle.dumps(err))
    assert type(clone) is type(err)
    assert str(clone) == str(err)


def test_status_error_keeps_its_fields_through_pickle() -> None:
    err = errors.RateLimitError("slow down", status_code=429, code="too_many", retry_after_s=2.0)
    clone = pickle.loads(pickle.dumps(err))
    assert (clone.status_code, clone.code, clone.retry_after_s) == (429, "too_many", 2.0)
