"""Request shapes and paths of Embed v1 and Embed v2.

Pure functions: they turn a checked :class:`~.params.TaskRequest`, a
:class:`~.params.MultiRequest` or a text into the body of a request and say which path
answers which question; the embed resource (:mod:`tl_integrations._resources.embed`) makes
the requests (and reads local files into ``base64_string`` values where they go inline).

Example:
    >>> from tl_integrations._embed.params import validate_video_task
    >>> req = validate_video_task(model_name="marengo3.0", video_url="https://x/a.mp4")
    >>> v2_task_body(req, {"url": "https://x/a.mp4"})["video"]["segmentation"]
    {'strategy': 'fixed', 'fixed': {'duration_sec': 6}}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .params import ModelSpec, MultiRequest, ProtocolName, TaskRequest

__all__ = [
    "create_path",
    "list_path",
    "media_source",
    "poll_path",
    "retrieve_path",
    "text_path",
    "v1_text_form",
    "v1_video_form",
    "v2_image_body",
    "v2_multi_body",
    "v2_task_body",
    "v2_text_body",
]

_BASE = {"v1": "/embed", "v2": "/embed-v2"}


def create_path(protocol: ProtocolName) -> str:
    """Where an embedding task is created.

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
    """Where a ready task's vectors are read.

    Example:
        >>> retrieve_path("v1", "t1")
        '/embed/tasks/t1'
    """
    return f"{_BASE[protocol]}/tasks/{task_id}"


def text_path(protocol: ProtocolName) -> str:
    """Where text (and, on Embed v2, any synchronous input) is embedded.

    Example:
        >>> text_path("v1"), text_path("v2")
        ('/embed', '/embed-v2')
    """
    return _BASE[protocol]


def media_source(
    *, url: str | None = None, asset_id: str | None = None, base64_string: str | None = None
) -> dict[str, str]:
    """A ``media_source`` object: exactly one of the three ways to name a medium.

    Example:
        >>> media_source(asset_id="6711a0c2e4a1b37f8a9c5d00")
        {'asset_id': '6711a0c2e4a1b37f8a9c5d00'}
    """
    given = {"url": url, "asset_id": asset_id, "base64_string": base64_string}
    found = {key: value for key, value in given.items() if value is not None}
    if len(found) != 1:
        raise ValueError(
            f"a media source needs exactly one of url, asset_id, base64_string: {found}"
        )
    return found


def v1_video_form(req: TaskRequest) -> dict[str, Any]:
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
    if req.source.url is not None:
        form["video_url"] = req.source.url
    if req.start_s is not None:
        form["video_start_offset_sec"] = repr(req.start_s)
    if req.end_s is not None:
        form["video_end_offset_sec"] = repr(req.end_s)
    return form


def _temporal(req: TaskRequest) -> dict[str, Any]:
    if req.clip_length_s is not None:
        strategy: dict[str, Any] = {
            "strategy": "fixed",
            "fixed": {"duration_sec": req.clip_length_s},
        }
    else:
        dynamic = {} if req.min_clip_s is None else {"min_duration_sec": req.min_clip_s}
        strategy = {"strategy": "dynamic", "dynamic": dynamic}
    # Marengo 3.5 wraps the time strategy (documents segment by space or by sentences).
    return {"temporal": strategy} if req.model.temporal_wrapper else strategy


def _matryoshka(body: dict[str, Any], dimension: int | None, uncertainty: bool | None) -> None:
    if dimension is not None:
        body["embedding_dimension"] = dimension
    if uncertainty is not None:
        body["embedding_uncertainty"] = uncertainty


def v2_task_body(req: TaskRequest, source: dict[str, str]) -> dict[str, Any]:
    """The JSON body of ``POST /embed-v2/tasks`` for any input type.

    Example:
        >>> from tl_integrations._embed.params import media_ref, resolve_model, validate_task
        >>> req = validate_task(resolve_model("marengo3.5"), media_ref("https://x/a.mp3"),
        ...                     {"clip_length_s": 4, "embedding_dimension": 256})
        >>> body = v2_task_body(req, {"url": "https://x/a.mp3"})
        >>> body["embedding_dimension"], body["audio"]["segmentation"]
        (256, {'temporal': {'strategy': 'fixed', 'fixed': {'duration_sec': 4}}})
    """
    spec: dict[str, Any] = {"media_source": source}
    if req.input_type in ("video", "audio"):
        spec["segmentation"] = _temporal(req)
        spec["embedding_scope"] = list(req.scopes)
        if req.start_s is not None:
            spec["start_sec"] = req.start_s
        if req.end_s is not None:
            spec["end_sec"] = req.end_s
        if req.options is not None:
            spec["embedding_option"] = list(req.options)
    elif req.input_type == "document":
        assert req.options is not None
        assert req.document is not None
        spec["embedding_option"] = list(req.options)
        spec["embedding_scope"] = list(req.scopes)
        segmentation = req.document.segmentation()
        if segmentation is not None:
            spec["segmentation"] = segmentation
    body: dict[str, Any] = {"input_type": req.input_type, "model_name": req.model.name}
    _matryoshka(body, req.dimension, req.uncertainty)
    body[req.input_type] = spec
    return body


def v1_text_form(text: str, *, model: ModelSpec) -> dict[str, Any]:
    """The form fields of ``POST /embed`` (sent as multipart: the API accepts nothing else).

    Example:
        >>> from tl_integrations._embed.params import MODELS
        >>> v1_text_form("hi", model=MODELS["Marengo-retrieval-2.7"])
        {'model_name': 'Marengo-retrieval-2.7', 'text': 'hi'}
    """
    return {"model_name": model.name, "text": text}


def v2_text_body(text: str, *, model: ModelSpec, dimension: int | None = None) -> dict[str, Any]:
    """The JSON body of ``POST /embed-v2`` for one text.

    Marengo 3.5 takes only the ``multi_input`` form there, so a text goes as its
    ``input_text``.

    Example:
        >>> from tl_integrations._embed.params import MODELS
        >>> v2_text_body("hi", model=MODELS["marengo3.0"])
        {'input_type': 'text', 'model_name': 'marengo3.0', 'text': {'input_text': 'hi'}}
        >>> v2_text_body("hi", model=MODELS["marengo3.5"], dimension=256)["multi_input"]
        {'input_text': 'hi'}
    """
    if model.sync_single:
        return {"input_type": "text", "model_name": model.name, "text": {"input_text": text}}
    body: dict[str, Any] = {"input_type": "multi_input", "model_name": model.name}
    _matryoshka(body, dimension, None)
    body["multi_input"] = {"input_text": text}
    return body


def v2_image_body(model: ModelSpec, source: dict[str, str]) -> dict[str, Any]:
    """The JSON body of ``POST /embed-v2`` for one image on Marengo 3.0 (``input_type``
    ``image``; Marengo 3.5 takes an image as a ``multi_input`` source).

    Example:
        >>> from tl_integrations._embed.params import MODELS
        >>> v2_image_body(MODELS["marengo3.0"], {"url": "https://x/a.png"})["image"]
        {'media_source': {'url': 'https://x/a.png'}}
    """
    return {"input_type": "image", "model_name": model.name, "image": {"media_source": source}}


def v2_multi_body(req: MultiRequest, sources: Sequence[dict[str, str]]) -> dict[str, Any]:
    """The JSON body of ``POST /embed-v2`` with ``input_type: multi_input``.

    ``sources`` are the media sources of ``req.sources``, in order (``url``, ``asset_id``
    or ``base64_string``), as the resource made them.

    Example:
        >>> from tl_integrations._embed.params import media_ref, resolve_model, validate_multi
        >>> req = validate_multi(resolve_model("marengo3.5"), "a shirt like <@s>",
        ...                      {"s": "https://x/s.png"}, embedding_dimension=256)
        >>> v2_multi_body(req, [{"url": "https://x/s.png"}])["multi_input"]["media_sources"]
        [{'media_type': 'image', 'url': 'https://x/s.png', 'name': 's'}]
    """
    items = []
    for spec, source in zip(req.sources, sources, strict=True):
        item: dict[str, Any] = {"media_type": spec.media_type, **source}
        if spec.name is not None:
            item["name"] = spec.name
        items.append(item)
    multi: dict[str, Any] = {}
    if req.text is not None:
        multi["input_text"] = req.text
    if items:
        multi["media_sources"] = items
    body: dict[str, Any] = {"input_type": "multi_input", "model_name": req.model.name}
    _matryoshka(body, req.dimension, req.uncertainty)
    if req.auto_truncate is not None:
        body["auto_truncate"] = req.auto_truncate
    body["multi_input"] = multi
    return body
