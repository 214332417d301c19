"""Request shapes and paths of Embed v1 and Embed v2.

Pure functions: they turn a checked :class:`~.params.VideoTaskRequest` or a text into the
body of a request and say which path answers which question; the embed resource
(:mod:`tl_integrations._resources.embed`) makes the requests.

Example:
    >>> from tl_integrations._embed.params import validate_video_task
    >>> req = validate_video_task(model_name="marengo3.0", video_url="https://x/a.mp4")
    >>> v2_video_body(req, base64_string=None)["video"]["segmentation"]
    {'strategy': 'fixed', 'fixed': {'duration_sec': 6}}
"""

from __future__ import annotations

from typing import Any

from .params import ModelSpec, ProtocolName, VideoTaskRequest

__all__ = [
    "create_path",
    "list_path",
    "poll_path",
    "retrieve_path",
    "text_path",
    "v1_text_form",
    "v1_video_form",
    "v2_text_body",
    "v2_video_body",
]

_BASE = {"v1": "/embed", "v2": "/embed-v2"}


def create_path(protocol: ProtocolName) -> str:
    """Where a video embedding task is created.

    Example:
        >>> create_path("v1"), create_path("v2")
        ('/embed/tasks', '/embed-v2/tasks')
    """
    return f"{_BASE[protocol]}/tasks"


def list_path(protocol: ProtocolName) -> str:
    """Where tasks are listed (same as :func:`create_path`, with GET).

    Example:
        >>> list_path("v2")
        '/embed-v2/tasks'
    """
    return create_path(protocol)


def poll_path(protocol: ProtocolName, task_id: str) -> str:
    """Where a task's status is read: v1 has a light ``/status``; v2 reads the whole task.

    Example:
        >>> poll_path("v1", "t1"), poll_path("v2", "t1")
        ('/embed/tasks/t1/status', '/embed-v2/tasks/t1')
    """
    suffix = "/status" if protocol == "v1" else ""
    return f"{_BASE[protocol]}/tasks/{task_id}{suffix}"


def retrieve_path(protocol: ProtocolName, task_id: str) -> str:
    """Where a ready task's segments are read.

    Example:
        >>> retrieve_path("v1", "t1")
        '/embed/tasks/t1'
    """
    return f"{_BASE[protocol]}/tasks/{task_id}"


def text_path(protocol: ProtocolName) -> str:
    """Where one text is embedded synchronously.

    Example:
        >>> text_path("v1"), text_path("v2")
        ('/embed', '/embed-v2')
    """
    return _BASE[protocol]


def v1_video_form(req: VideoTaskRequest) -> dict[str, Any]:
    """The multipart form fields of ``POST /embed/tasks`` (the file part is added apart).

    Lists are sent as repeated fields (``video_embedding_scope=clip&...=video``).

    Example:
        >>> from tl_integrations._embed.params import validate_video_task
        >>> v1_video_form(validate_video_task(model_name="Marengo-retrieval-2.7",
        ...     video_url="u", video_clip_length=4, video_embedding_scope=["clip", "video"]))
        {'model_name': 'Marengo-retrieval-2.7', 'video_clip_length': '4', \
'video_embedding_scope': ['clip', 'video'], 'video_url': 'u'}
    """
    form: dict[str, Any] = {
        "model_name": req.model.name,
        "video_clip_length": str(req.clip_length_s),
        "video_embedding_scope": list(req.scopes),
    }
    if req.video_url is not None:
        form["video_url"] = req.video_url
    if req.start_s is not None:
        form["video_start_offset_sec"] = repr(req.start_s)
    if req.end_s is not None:
        form["video_end_offset_sec"] = repr(req.end_s)
    return form


def v2_video_body(req: VideoTaskRequest, *, base64_string: str | None) -> dict[str, Any]:
    """The JSON body of ``POST /embed-v2/tasks`` (fixed segmentation of the clip length).

    Example:
        >>> from tl_integrations._embed.params import validate_video_task
        >>> body = v2_video_body(validate_video_task(model_name="marengo3.0", video_url="u",
        ...     video_start_offset_sec=2, video_end_offset_sec=20, embedding_options="audio"),
        ...     base64_string=None)
        >>> video = body["video"]
        >>> video["media_source"], video["start_sec"], video["embedding_option"]
        ({'url': 'u'}, 2.0, ['audio'])
    """
    source = {"url": req.video_url} if base64_string is None else {"base64_string": base64_string}
    video: dict[str, Any] = {
        "media_source": source,
        "segmentation": {"strategy": "fixed", "fixed": {"duration_sec": req.clip_length_s}},
        "embedding_scope": list(req.scopes),
    }
    if req.start_s is not None:
        video["start_sec"] = req.start_s
    if req.end_s is not None:
        video["end_sec"] = req.end_s
    if req.options is not None:
        video["embedding_option"] = list(req.options)
    return {"input_type": "video", "model_name": req.model.name, "video": video}


def v1_text_form(text: str, *, model: ModelSpec) -> dict[str, Any]:
    """The form fields of ``POST /embed`` (sent as multipart: the API accepts nothing else).

    Example:
        >>> from tl_integrations._embed.params import MODELS
        >>> v1_text_form("hi", model=MODELS["Marengo-retrieval-2.7"])
        {'model_name': 'Marengo-retrieval-2.7', 'text': 'hi'}
    """
    return {"model_name": model.name, "text": text}


def v2_text_body(text: str, *, model: ModelSpec) -> dict[str, Any]:
    """The JSON body of ``POST /embed-v2`` for one text.

    Example:
        >>> from tl_integrations._embed.params import MODELS
        >>> v2_text_body("hi", model=MODELS["marengo3.0"])
        {'input_type': 'text', 'model_name': 'marengo3.0', 'text': {'input_text': 'hi'}}
    """
    return {"input_type": "text", "model_name": model.name, "text": {"input_text": text}}
