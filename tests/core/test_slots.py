"""Slots: at most N flows hold one at once, waiters are served first come first, and a
flow cancelled while waiting leaves the line without losing a slot."""

from __future__ import annotations

import asyncio
import threading

import pytest

from tl_integrations._claims import Slots
from tl_integrations._flows import AsyncDriver, Flow, Signal, SyncDriver, Until


def test_no_more_than_count_hold_a_slot_among_many_threads() -> None:
    slots = Slots(2)
    inside, peak, lock = [0], [0], threading.Lock()
    release = threading.Event()

    def job() -> Flow[None]:
        with (yield from slots.take()):
            with lock:
                inside[0] += 1
                peak[0] = max(peak[0], inside[0])
                if peak[0] == 2:
                    release.set()  # two inside at once: both slots really are used
            assert release.wait(timeout=10)
            with lock:
                inside[0] -= 1

    threads = [
        threading.Thread(target=SyncDriver(transport=None).run, args=(job(),)) for _ in range(12)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert peak == [2]
    assert slots.free == 2


def test_waiters_are_served_in_arrival_order() -> None:
    slots = Slots(1)
    order: list[int] = []

    async def main() -> None:
        first = slots.try_take()
        assert first is not None
        queued: list[asyncio.Task[None]] = []
        for n in range(3):

            def waiter(n: int = n) -> Flow[None]:
                with (yield from slots.take()):
                    order.append(n)

            queued.append(asyncio.create_task(AsyncDriver(transport=None).run(waiter())))
            await asyncio.sleep(0)  # each joins the line before the next
        assert slots.try_take() is None  # a free slot goes to the line, not to a newcomer
        first.release()
        await asyncio.wait_for(asyncio.gather(*queued), timeout=10)

    asyncio.run(main())
    assert order == [0, 1, 2]
    assert slots.free == 1


def test_a_flow_cancelled_while_waiting_leaves_the_line_and_the_slot_goes_on() -> None:
    slots = Slots(1)
    got: list[str] = []

    async def main() -> None:
        held = slots.try_take()
        assert held is not None

        def waiter(name: str) -> Flow[None]:
            with (yield from slots.take()):
                got.append(name)

        doomed = asyncio.create_task(AsyncDriver(transport=None).run(waiter("doomed")))
        await asyncio.sleep(0)
        patient = asyncio.create_task(AsyncDriver(transport=None).run(waiter("patient")))
        await asyncio.sleep(0)
        doomed.cancel()
        with pytest.raises(asyncio.CancelledError):
            await doomed
        held.release()
        await asyncio.wait_for(patient, timeout=10)

    asyncio.run(main())
    assert got == ["patient"]
    assert slots.free == 1


def test_releasing_twice_gives_back_one_slot_and_bad_counts_are_refused() -> None:
    slots = Slots(1)
    slot = slots.try_take()
    assert slot is not None
    slot.release()
    slot.release()
    assert slots.free == 1
    with pytest.raises(ValueError, match="count >= 1"):
        Slots(0)


def test_two_slots_freed_at_once_wake_two_waiters() -> None:
    slots = Slots(2)
    a, b = slots.try_take(), slots.try_take()
    assert a is not None
    assert b is not None
    entered = [Signal(), Signal()]
    done = threading.Event()
    count = [0]
    lock = threading.Lock()

    def waiter(i: int) -> Flow[None]:
        with (yield from slots.take()):
            entered[i].set()
            yield Until(entered[1 - i])  # both must be inside together
            with lock:
                count[0] += 1
                if count[0] == 2:
                    done.set()

    threads = [
        threading.Thread(target=SyncDriver(transport=None).run, args=(waiter(i),)) for i in range(2)
    ]
    for thread in threads:
        thread.start()
    queued = threading.Event()
    for _ in range(10_000):  # both queued before the slots come back (bounded: no hang)
        if slots.waiting == 2:
            queued.set()
            break
        queued.wait(0.001)
    assert queued.is_set()
    a.release()
    b.release()
    assert done.wait(timeout=10)
    for thread in threads:
        thread.join(timeout=10)
    assert slots.free == 2
