"""The public face: what each package exports, that it stays documented, and light to import."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys

import pytest

PUBLIC = {
    "tl_integrations": {
        "DEFAULT_MODELS",
        "APIConnectionError",
        "APIStatusError",
        "AnalysisBatch",
        "AnalysisTask",
        "AnalyzeResult",
        "AnalyzeStream",
        "AsyncTwelveLabs",
        "AsyncVideoIngest",
        "AsyncWaiting",
        "AuthenticationError",
        "BadRequestError",
        "BatchItem",
        "BatchResult",
        "BulkEntities",
        "ConflictError",
        "EmbeddingDecodeError",
        "EmbeddingTask",
        "Entity",
        "EntityCollection",
        "Index",
        "IndexModel",
        "IngestError",
        "IngestFailure",
        "IngestOptions",
        "InvalidRequestError",
        "InvalidVideoError",
        "Job",
        "MalformedResponseError",
        "MediaEmbedding",
        "NotFoundError",
        "PermissionDeniedError",
        "PollPolicy",
        "RateLimitError",
        "RetryPolicy",
        "SearchClip",
        "Segment",
        "SegmentDefinition",
        "SegmentField",
        "SearchFilter",
        "SearchImage",
        "ServerError",
        "SystemMetadata",
        "Task",
        "TaskFailedError",
        "TaskTimeoutError",
        "TextPiece",
        "TwelveLabs",
        "TwelveLabsError",
        "Utterance",
        "Video",
        "VideoEmbedding",
        "VideoInfo",
        "VideoIngest",
        "VideoRecord",
        "Waiting",
        "WebhookEvent",
        "WebhookReceiver",
        "WebhookServer",
        "WebhookVerificationError",
        "AnalyzeTaskEvent",
        "IndexTaskEvent",
        "verify_webhook",
        "__version__",
    },
    "tl_integrations.emulator": {
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
    },
    "tl_integrations.langchain": {
        "TwelveLabsEmbeddings",
        "TwelveLabsRetriever",
        "TwelveLabsToolkit",
        "TwelveLabsVideoLoader",
        "add_video_embedding",
        "qdrant_vector_store",
        "video_segments_to_documents",
    },
    "tl_integrations.llama_index": {
        "TwelveLabsEmbedding",
        "TwelveLabsRetriever",
        "TwelveLabsToolSpec",
        "TwelveLabsVideoReader",
        "video_segments_to_nodes",
    },
    "tl_integrations.ray": {
        "DOCUMENT_COLUMNS",
        "INDEXED_COLUMNS",
        "SEGMENT_COLUMNS",
        "AsyncSharedBudget",
        "ClusterIndex",
        "Connection",
        "IndexVideos",
        "IngestResult",
        "RowReport",
        "SegmentVectors",
        "SharedBudget",
        "VideoDocuments",
        "Webhooks",
        "done_sources",
        "ingest_videos",
        "worker_pool",
    },
}


@pytest.mark.parametrize("package", sorted(PUBLIC))
def test_all_is_pinned(package: str) -> None:
    module = importlib.import_module(package)
    assert set(module.__all__) == PUBLIC[package]


@pytest.mark.parametrize(
    ("package", "name"),
    [(p, n) for p, names in sorted(PUBLIC.items()) for n in sorted(names) if n[0].isupper()],
)
def test_every_public_class_has_a_docstring_with_an_example(package: str, name: str) -> None:
    value = getattr(importlib.import_module(package), name)
    if not (inspect.isclass(value) or inspect.isfunction(value)):
        return  # constants such as DEFAULT_MODELS
    doc = inspect.getdoc(value) or ""
    assert doc.strip(), f"{package}.{name} has no docstring"
    assert ">>>" in doc or "Example" in doc, f"{package}.{name} has no example"


@pytest.mark.parametrize(
    ("package", "name"),
    [(p, n) for p, names in sorted(PUBLIC.items()) for n in sorted(names) if n[0].islower()],
)
def test_every_public_function_has_a_docstring_with_an_example(package: str, name: str) -> None:
    value = getattr(importlib.import_module(package), name)
    if not inspect.isfunction(value):
        return
    doc = inspect.getdoc(value) or ""
    assert ">>>" in doc or "Example" in doc, f"{package}.{name} has no example"


def test_import_is_light() -> None:
    # The frameworks and the emulator's server stack are extras: a bare import must not pay for
    # them, and the client's own modules load only when first used.
    code = (
        "import sys, tl_integrations\n"
        "heavy = {'langchain_core', 'llama_index', 'starlette', 'uvicorn', 'av',\n"
        "         'numpy', 'httpx', 'ray', 'pyarrow'}\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
        "tl_integrations.TwelveLabs\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out[0] == "[]"
    assert "langchain_core" not in out[1]
    assert "starlette" not in out[1]
    assert "av" not in out[1]
    assert "ray" not in out[1]


def test_a_missing_ray_extra_names_what_to_install() -> None:
    code = "import sys; sys.modules['ray'] = None\nimport tl_integrations.ray"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode != 0
    assert "pip install 'tl-integrations[ray]'" in run.stderr


def test_unknown_attribute_is_an_attribute_error() -> None:
    import tl_integrations

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = tl_integrations.nope  # type: ignore[attr-defined]


PUBLIC_PACKAGES = {
    "tl_integrations",
    "tl_integrations.emulator",
    "tl_integrations.langchain",
    "tl_integrations.llama_index",
    "tl_integrations.ray",
}


def test_every_other_module_is_private() -> None:
    # Users import from the public packages only; everything underneath is a private module
    # (a leading underscore somewhere in its path), free to move.
    import pkgutil

    import tl_integrations

    looks_public = [
        info.name
        for info in pkgutil.walk_packages(tl_integrations.__path__, "tl_integrations.")
        if info.name not in PUBLIC_PACKAGES
        and not any(part.startswith("_") for part in info.name.split(".")[1:])
    ]
    assert looks_public == []
