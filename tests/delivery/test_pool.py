"""The connection pool against a real SMTP server: overlap, per-domain limits, the rate
window, and a failing domain that cools down without holding up the others."""

from __future__ import annotations

import time
from typing import Any

import pytest

from rapport.delivery.pool import FAILURES_BEFORE_COOLING, PoolLimits, SendPool, SlidingWindow
from rapport.delivery.transport import Answer, Outcome, SmtpTransport
from tests.smtp_server import smtp_server


def _message(recipient: str) -> bytes:
    return f"From: a@shop.example\r\nTo: {recipient}\r\nSubject: hi\r\n\r\nhello\r\n".encode()


def _pool(port: int, **limits: Any) -> SendPool:
    url = f"smtp://127.0.0.1:{port}"
    return SendPool(lambda: SmtpTransport(url), PoolLimits(**limits))


def _send_all(pool: SendPool, recipients: list[str]) -> dict[int, Answer]:
    for key, recipient in enumerate(recipients):
        pool.submit(key, "bounce@shop.example", recipient, _message(recipient))
    answers = dict(pool.finished())
    answers.update(pool.drain())
    return answers


def test_connections_overlap_and_every_message_gets_its_answer() -> None:
    recipients = [f"p{n}@{domain}" for n in range(6) for domain in ("a.example", "b.example")]
    with smtp_server() as (handler, port), _pool(port, connections=4, per_domain=4) as pool:
        handler.delay = 0.05
        answers = _send_all(pool, recipients)

    assert sorted(answers) == list(range(len(recipients)))
    assert {answer.outcome for answer in answers.values()} == {Outcome.ACCEPTED}
    assert sorted(r.recipient for r in handler.received) == sorted(recipients)
    assert handler.most_at_once["*"] > 1  # the connections really worked side by side
    assert handler.most_at_once["*"] <= 4


def test_no_more_than_per_domain_messages_in_flight_to_one_domain() -> None:
    recipients = [f"p{n}@big.example" for n in range(8)] + [f"q{n}@small.example" for n in range(4)]
    with smtp_server() as (handler, port), _pool(port, connections=4, per_domain=1) as pool:
        handler.delay = 0.03
        answers = _send_all(pool, recipients)

    assert len(answers) == len(recipients)
    assert handler.most_at_once["big.example"] == 1
    assert handler.most_at_once["small.example"] == 1
    assert handler.most_at_once["*"] == 2  # the other domain went on meanwhile


def test_a_domain_that_keeps_failing_cools_down_and_the_others_go_on() -> None:
    broken = [f"p{n}@down.example" for n in range(10)]
    healthy = [f"q{n}@up.example" for n in range(10)]
    with smtp_server() as (handler, port), _pool(port, connections=1, backlog=1) as pool:
        for address in broken:
            handler.answers[address] = "451 4.3.0 try again later"
        answers = _send_all(pool, [*broken, *healthy])

    down = [answers[key] for key in range(len(broken))]
    assert all(answer.outcome is Outcome.RETRY for answer in down)
    cooled = [a for a in down if a.code is None]
    assert len(cooled) >= len(broken) - FAILURES_BEFORE_COOLING - 1
    assert "down.example failed several times in a row" in cooled[0].text
    assert sorted(r.recipient for r in handler.received) == sorted(healthy)


def test_a_transport_that_raises_is_a_retry_not_a_hang() -> None:
    class Broken:
        def send(self, mail_from: str, recipient: str, data: bytes) -> Answer:
            raise RuntimeError("a bug")

        def close(self) -> None:
            pass

    with SendPool(Broken, PoolLimits(connections=2)) as pool:
        answers = _send_all(pool, ["x@example.com", "y@example.com"])

    assert {a.outcome for a in answers.values()} == {Outcome.RETRY}
    assert "RuntimeError: a bug" in answers[0].text


class _FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.mark.parametrize(("rate", "events"), [(5, 23), (0.5, 4), (14, 50)])
def test_the_sliding_window_never_lets_more_than_the_rate_through_in_any_second(
    rate: float, events: int
) -> None:
    fake = _FakeTime()
    window = SlidingWindow(rate, fake.clock, fake.sleep)
    times = []
    for _ in range(events):
        window.wait()
        times.append(fake.now)

    span = max(1.0, 1 / rate)
    allowed = max(1, round(rate * span))
    for first in times:
        assert sum(1 for t in times if first <= t < first + span) <= allowed
    # …and it does not wait more than it must: the whole run takes about events / rate.
    assert times[-1] - times[0] <= (events / rate) + span


def test_a_rate_limited_pool_spreads_the_messages_out() -> None:
    with smtp_server() as (handler, port), _pool(port, connections=3, rate=20) as pool:
        started = time.monotonic()
        answers = _send_all(pool, [f"p{n}@example.com" for n in range(30)])
        took = time.monotonic() - started

    assert len(answers) == 30 and len(handler.received) == 30
    assert took >= 0.9  # 30 messages at 20 a second need at least one full window after the first
