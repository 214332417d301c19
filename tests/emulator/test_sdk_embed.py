"""The official SDK (twelvelabs 1.3.6), unchanged, on Embed v2: its README's two embedding
blocks run as printed, and its typed requests for every input type round-trip."""

from __future__ import annotations

import base64
import io
import re
import time
from collections.abc import Iterator
from contextlib import redirect_stdout
from importlib import metadata
from pathlib import Path

import httpx
import pytest
from twelvelabs import TwelveLabs
from twelvelabs.errors import BadRequestError, ContentTooLargeError
from twelvelabs.types import (
    AsyncDocumentInputRequest,
    AsyncImageInputRequest,
    MediaSource,
    MultiInputMediaSource,
    MultiInputRequest,
)

from testkit import start_emulator
from tl_integrations.emulator import (
    Emulator,
    ManualClock,
    make_sample_audio,
    make_sample_image,
    make_sample_pdf,
    make_sample_video,
)


@pytest.fixture(scope="module")
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest, clock: ManualClock) -> Emulator:
    return start_emulator(request, clock=clock, seed=9)


@pytest.fixture(scope="module")
def sdk(server: Emulator) -> Iterator[TwelveLabs]:
    with httpx.Client(timeout=60.0) as http:
        yield TwelveLabs(api_key=server.api_key, base_url=server.base_url, httpx_client=http)


def readme_block(marker: str) -> str:
    """The README's Python block that contains ``marker``, as the package ships it."""
    readme = metadata.metadata("twelvelabs").get_payload()  # type: ignore[attr-defined]
    blocks = re.findall(r"```py\n(.*?)```", readme, re.S)
    (found,) = [b for b in blocks if marker in b]
    return str(found)


def ready_asset(sdk: TwelveLabs, clock: ManualClock, path: Path) -> str:
    with path.open("rb") as handle:
        asset = sdk.assets.create(method="direct", file=handle)
    assert asset.id
    for _ in range(600):
        if sdk.assets.retrieve(asset.id).status == "ready":
            return asset.id
        clock.advance(1.0)
    raise AssertionError("the asset never got ready")


def test_the_readme_query_block(sdk: TwelveLabs) -> None:
    code = readme_block("client.embed.v_2.create(")
    assert 'model_name="marengo3.5"' in code
    out = io.StringIO()
    with redirect_stdout(out):
        exec(code.replace("<YOUR_QUERY>", "penguins on the ice"), {"client": sdk})
    assert out.getvalue() == "Dimensions: 512\n"


def test_the_readme_task_block(
    sdk: TwelveLabs,
    clock: ManualClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    video = make_sample_video(tmp_path / "talk.mp4", duration_s=12.0)

    class Asset:
        id = ready_asset(sdk, clock, video)

    code = readme_block("client.embed.v_2.tasks.create(")
    assert 'model_name="marengo3.5"' in code
    assert "asset_id=asset.id" in code
    # The block sleeps 5 s between polls with time.sleep: let that move the emulator's clock.
    monkeypatch.setattr(time, "sleep", clock.advance)
    out = io.StringIO()
    with redirect_stdout(out):
        exec(code, {"client": sdk, "asset": Asset, "time": time})
    lines = out.getvalue().splitlines()
    assert lines[0] == "Waiting for the embedding task to be ready..."
    count = int(lines[-1].removeprefix("Embeddings: "))
    assert count > 0


def test_every_input_type_through_the_typed_requests(
    sdk: TwelveLabs, clock: ManualClock, tmp_path: Path
) -> None:
    pdf = ready_asset(sdk, clock, make_sample_pdf(tmp_path / "r.pdf", ["A kite.", "The sea."]))
    png = ready_asset(sdk, clock, make_sample_image(tmp_path / "r.png", ["red"]))
    mp3 = make_sample_audio(tmp_path / "t.mp3", duration_s=6.0)
    doc = sdk.embed.v_2.tasks.create(
        input_type="document",
        model_name="marengo3.5",
        embedding_dimension=256,
        document=AsyncDocumentInputRequest(media_source=MediaSource(asset_id=pdf)),
    )
    image = sdk.embed.v_2.tasks.create(
        input_type="image",
        model_name="marengo3.5",
        image=AsyncImageInputRequest(media_source=MediaSource(asset_id=png)),
    )
    clock.advance(120.0)
    pages = sdk.embed.v_2.tasks.retrieve(doc.id)
    assert pages.status == "ready"
    assert pages.data is not None
    assert [d.start_page_number for d in pages.data] == [1, 2]
    assert {len(d.embedding) for d in pages.data} == {256}
    assert pages.usage is not None
    assert pages.usage.input_tokens["document"] > 0
    picture = sdk.embed.v_2.tasks.retrieve(image.id)
    assert picture.data is not None
    assert picture.data[0].embedding_scope == "asset"
    mixed = sdk.embed.v_2.create(
        input_type="multi_input",
        model_name="marengo3.5",
        embedding_dimension=128,
        multi_input=MultiInputRequest(
            input_text="a flag like <@flag> and this tune",
            media_sources=[
                MultiInputMediaSource(name="flag", media_type="image", asset_id=png),
                MultiInputMediaSource(media_type="audio", base_64_string=_b64(mp3)),
            ],
        ),
    )
    assert len(mixed.data[0].embedding) == 128
    with pytest.raises(BadRequestError):
        sdk.embed.v_2.create(
            input_type="multi_input",
            model_name="marengo3.5",
            multi_input=MultiInputRequest(input_text="like <@hat>"),
        )
    many = make_sample_pdf(tmp_path / "many.pdf", ["x"] * 20)
    with pytest.raises(ContentTooLargeError):
        sdk.embed.v_2.create(
            input_type="multi_input",
            model_name="marengo3.5",
            multi_input=MultiInputRequest(
                media_sources=[
                    MultiInputMediaSource(media_type="document", base_64_string=_b64(many))
                ]
            ),
        )


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()
