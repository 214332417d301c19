"""Construction, configuration, security and logging of both clients."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from tl_integrations import AsyncTwelveLabs, InvalidRequestError, NotFoundError, TwelveLabs

from .fakeapi import API_KEY, BASE_URL, FakeTwelveLabs


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TWELVELABS_API_KEY", raising=False)
    monkeypatch.delenv("TWELVELABS_BASE_URL", raising=False)


@pytest.mark.parametrize("cls", [TwelveLabs, AsyncTwelveLabs])
def test_missing_key_says_how_to_fix(cls: type[TwelveLabs]) -> None:
    with pytest.raises(InvalidRequestError) as info:
        cls()
    message = str(info.value)
    assert "TWELVELABS_API_KEY" in message
    assert "api_key=" in message
    assert "emulator" in message


def test_key_and_base_url_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWELVELABS_API_KEY", API_KEY)
    monkeypatch.setenv("TWELVELABS_BASE_URL", "http://127.0.0.1:8765/v1.3/")
    with TwelveLabs() as client:
        assert client.base_url == "http://127.0.0.1:8765/v1.3"
        assert client._config.api_key == API_KEY


def test_default_base_url() -> None:
    with TwelveLabs(api_key="k") as client:
        assert client.base_url == "https://api.twelvelabs.io/v1.3"


@pytest.mark.parametrize(
    "url", ["http://api.example.com/v1.3", "http://10.0.0.5:8000", "http://192.168.1.2/v1.3"]
)
def test_plain_http_to_a_remote_host_is_refused(url: str) -> None:
    with pytest.raises(InvalidRequestError, match="allow_insecure=True"):
        TwelveLabs(api_key="k", base_url=url)
    TwelveLabs(api_key="k", base_url=url, allow_insecure=True).close()


@pytest.mark.parametrize(
    "url", ["http://localhost:8000/v1.3", "http://127.0.0.1/v1.3", "http://[::1]:9/v1.3"]
)
def test_plain_http_to_loopback_is_fine(url: str) -> None:
    TwelveLabs(api_key="k", base_url=url).close()


def test_bad_base_url() -> None:
    with pytest.raises(InvalidRequestError, match="base_url"):
        TwelveLabs(api_key="k", base_url="ftp://x")


def test_repr_never_shows_the_key() -> None:
    for client in (TwelveLabs(api_key=API_KEY), AsyncTwelveLabs(api_key=API_KEY)):
        assert API_KEY not in repr(client)
        assert API_KEY not in repr(client._config)
        assert API_KEY not in repr(client.tasks.wait)
    assert "api.twelvelabs.io" in repr(TwelveLabs(api_key=API_KEY))


def test_key_header_sent_and_never_logged(
    api: FakeTwelveLabs, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="tl_integrations")
    index_id = api.add_index()
    api.fail("GET", "/tasks/missing", httpx.Response(503))
    with api.client() as client:
        with pytest.raises(NotFoundError) as info:
            client.tasks.retrieve("missing")
        list(client.tasks.list(index_id=index_id))
    assert all(r.headers["x-api-key"] == API_KEY for r in api.requests)
    assert caplog.records, "expected debug lines for requests and retries"
    assert any("retrying GET /tasks/missing" in r.getMessage() for r in caplog.records)
    assert API_KEY not in caplog.text
    assert API_KEY not in str(info.value)
    assert API_KEY not in repr(info.value.body)


def test_a_callers_http_client_is_not_closed(api: FakeTwelveLabs) -> None:
    http = httpx.Client(transport=api.transport())
    with TwelveLabs(api_key=API_KEY, base_url=BASE_URL, http_client=http):
        pass
    assert not http.is_closed
    http.close()


def test_own_pool_is_closed() -> None:
    client = TwelveLabs(api_key="k")
    with client:
        assert not client._http.is_closed
    assert client._http.is_closed


def test_async_context_manager_closes_its_pool() -> None:
    async def main() -> bool:
        async with AsyncTwelveLabs(api_key="k") as client:
            http = client._http
        return http.is_closed

    assert asyncio.run(main())


def test_task_alias_and_embed_resource() -> None:
    with TwelveLabs(api_key="k") as client:
        assert client.task is client.tasks
        assert client.embed is not None
    assert AsyncTwelveLabs(api_key="k").embed is not None


@pytest.mark.parametrize("bad", [{"timeout_s": 0}, {"max_retries": -1}])
def test_bad_numbers_are_refused(bad: dict[str, float]) -> None:
    with pytest.raises(InvalidRequestError):
        TwelveLabs(api_key="k", **bad)  # type: ignore[arg-type]


async def test_twin_carries_key_base_url_and_policies_across() -> None:
    from tl_integrations import PollPolicy

    policy = PollPolicy(jitter=0.0)
    with TwelveLabs(
        api_key="tlk_twin", base_url="http://127.0.0.1:9/v1.3", poll_policy=policy
    ) as sync_client:
        async_client = sync_client.twin()
        try:
            assert isinstance(async_client, AsyncTwelveLabs)
            assert async_client.base_url == sync_client.base_url
            assert async_client.poll_policy is policy
            assert async_client._config.api_key == "tlk_twin"
            with async_client.twin() as back:
                assert isinstance(back, TwelveLabs)
                assert back._config.api_key == "tlk_twin"
        finally:
            await async_client.aclose()
