"""The hub's fetcher: one retry policy, one size limit, httpx errors translated at the boundary."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from hub.errors import FatalFetchError, RetriableFetchError, ThrottledError
from hub.events import RetryEvent, on_retry
from hub.http import Fetcher, WorkItem
from hub.settings import FetchSettings
from simulators.dokelio import DokelioSimulator
from simulators.serving import running

LHEO = b'<?xml version="1.0"?>\n<lheo xmlns="http://lheo.gouv.fr/2.3"><offres/></lheo>\n'
ITEM = WorkItem("http://region.test/offres", params={"page": "2"})
Handler = Callable[[httpx.Request], httpx.Response]


def fetcher(handler: Handler, sleeps: list[float], **settings: float) -> Fetcher:
    policy = {"attempts": 3, "backoff_initial": 0.0, "jitter": 0.0} | settings
    client = httpx.Client(transport=httpx.MockTransport(handler))
    return Fetcher(client, FetchSettings(**policy), source="test", sleep=sleeps.append)


def answering(*responses: httpx.Response) -> tuple[Handler, list[httpx.Request]]:
    """A handler answering ``responses`` in turn (the last one forever), and its requests."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return responses[min(len(seen), len(responses)) - 1]

    return handle, seen


@pytest.mark.parametrize(
    ("status", "error", "calls"),
    [
        (200, None, 1),
        (304, None, 1),
        (400, FatalFetchError, 1),
        (401, FatalFetchError, 1),
        (403, FatalFetchError, 1),
        (404, FatalFetchError, 1),
        (410, FatalFetchError, 1),
        (408, RetriableFetchError, 3),
        (429, ThrottledError, 3),
        (500, RetriableFetchError, 3),
        (502, RetriableFetchError, 3),
        (503, RetriableFetchError, 3),
        (504, RetriableFetchError, 3),
    ],
)
def test_each_status_is_ok_fatal_or_retried(
    status: int, error: type[Exception] | None, calls: int
) -> None:
    handler, seen = answering(httpx.Response(status, content=LHEO if status == 200 else b""))
    subject = fetcher(handler, [])
    if error is None:
        assert subject.fetch(ITEM).status == status
    else:
        with pytest.raises(error) as raised:
            subject.fetch(ITEM)
        assert "page=2" in str(raised.value) and str(status) in str(raised.value)
        assert (isinstance(raised.value, error) and type(raised.value) is error) or status == 429
    assert len(seen) == calls and subject.retries == calls - 1


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (httpx.ConnectTimeout("connect"), RetriableFetchError),
        (httpx.ReadTimeout("read"), RetriableFetchError),
        (httpx.ConnectError("refused"), RetriableFetchError),
        (httpx.ReadError("reset by peer"), RetriableFetchError),
        (httpx.RemoteProtocolError("peer closed connection"), RetriableFetchError),
        (httpx.UnsupportedProtocol("ftp"), FatalFetchError),
    ],
)
def test_transport_errors_are_translated_with_their_cause(
    fault: httpx.HTTPError, error: type[Exception]
) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        raise fault

    with pytest.raises(error) as raised:
        fetcher(handle, [], attempts=1).fetch(ITEM)
    assert raised.value.__cause__ is fault


def test_retry_after_in_seconds_is_honoured_and_counted() -> None:
    sleeps: list[float] = []
    events: list[RetryEvent] = []
    stop = on_retry(events.append)
    try:
        handler, _ = answering(
            httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, content=LHEO)
        )
        subject = fetcher(handler, sleeps, backoff_initial=1.0)
        assert subject.fetch(ITEM).status == 200
    finally:
        stop()
    assert sleeps == [7.0] and subject.retries == 1
    [event] = [e for e in events if e.source == "test"]
    assert event.attempt == 1 and event.wait_seconds == 7.0 and "page=2" in event.url


def test_retry_after_as_a_date_and_its_cap() -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    sleeps: list[float] = []
    handler, _ = answering(
        httpx.Response(503, headers={"Retry-After": when}),
        httpx.Response(429, headers={"Retry-After": "3600"}),
        httpx.Response(200, content=LHEO),
    )
    fetcher(handler, sleeps, max_retry_after=60.0).fetch(ITEM)
    assert 25.0 < sleeps[0] <= 30.0 and sleeps[1] == 60.0


def test_without_retry_after_the_backoff_doubles() -> None:
    sleeps: list[float] = []
    handler, _ = answering(httpx.Response(503))
    with pytest.raises(RetriableFetchError) as raised:
        fetcher(handler, sleeps, attempts=4, backoff_initial=1.0, backoff_max=3.0).fetch(ITEM)
    assert sleeps == [1.0, 2.0, 3.0]
    assert "gave up after 4 attempts" in raised.value.__notes__[0]


def test_an_announced_oversize_body_is_refused_without_being_read() -> None:
    read: list[int] = []

    def body() -> Iterator[bytes]:
        read.append(1)
        yield b"x" * 10

    handler, _ = answering(httpx.Response(200, headers={"Content-Length": "5000"}, content=body()))
    with pytest.raises(FatalFetchError, match="announces 5000 bytes, over the limit of 1000"):
        fetcher(handler, [], max_bytes=1000).fetch(ITEM)
    assert read == []


def test_an_unannounced_oversize_body_is_cut_at_the_limit() -> None:
    chunks: list[int] = []

    def body() -> Iterator[bytes]:
        for index in range(1000):
            chunks.append(index)
            yield b"x" * 256

    handler, _ = answering(httpx.Response(200, content=body()))
    with pytest.raises(FatalFetchError, match="passed the limit of 1000 bytes"):
        fetcher(handler, [], max_bytes=1000).fetch(ITEM)
    assert len(chunks) <= 5


@pytest.mark.parametrize(
    ("body", "headers", "expect_xml", "error"),
    [
        (LHEO, {}, True, None),
        (LHEO[:60], {}, True, RetriableFetchError),
        (LHEO, {"Content-Length": str(len(LHEO) + 40)}, True, RetriableFetchError),
        (b"hello", {}, True, FatalFetchError),
        (b"PK\x03\x04 a zip", {}, False, None),
    ],
    ids=["complete", "xml-cut", "content-length-mismatch", "not-xml", "not-expected-xml"],
)
def test_truncated_bodies_are_retriable(
    body: bytes, headers: dict[str, str], expect_xml: bool, error: type[Exception] | None
) -> None:
    handler, _ = answering(httpx.Response(200, headers=headers, content=body))
    item = WorkItem(ITEM.url, expect_xml=expect_xml)
    if error is None:
        fetched = fetcher(handler, [], attempts=1).fetch(item)
        assert fetched.body.read() == body and fetched.size == len(body)
    else:
        with pytest.raises(error):
            fetcher(handler, [], attempts=1).fetch(item)


def test_a_slow_answer_times_out_and_is_retried_on_a_real_socket() -> None:
    system = DokelioSimulator(formations=1)
    system.faults.inject("slow:0.6")
    with running(system) as url, httpx.Client() as client:
        subject = Fetcher(
            client,
            FetchSettings(read_timeout=0.2, attempts=2, backoff_initial=0.0, jitter=0.0),
            source="test",
        )
        fetched = subject.fetch(WorkItem(f"{url}/v1/offres"))
    assert fetched.status == 200 and subject.retries == 1
