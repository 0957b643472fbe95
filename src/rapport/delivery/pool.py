"""Several persistent SMTP connections at once, with per-domain limits and a rate limit.

One connection spends most of its time waiting for the server's answers, so a sender that
builds the next message while N connections wait overlaps the two: each connection is a
thread that owns one ``SmtpTransport`` (``smtplib`` waits on its socket with the GIL
released), and the caller's thread keeps building. The caller hands over with ``submit``
and gets answers back with ``finished`` and ``drain`` in its own thread, which is where the
database is written: the threads never touch it.

Limits, all per pool (a worker process has one):
- ``per_domain``: messages in flight to one recipient domain at once; others pass it by;
- ``rate`` per second over a sliding one-second window, across all connections (what a relay
  or provider allows);
- a domain that keeps answering 4xx or dropping the line cools down (30 s, doubling, up to
  10 min): its messages are answered "retry" at once, without a connection, so the others
  keep their pace and it gets fewer tries, not a storm; one accepted message ends it.
- ``backlog``: how many submitted messages may wait for a connection; ``submit`` blocks beyond
  it. They are already marked ``sending``, so a crash makes them ``unknown``: keep it small.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, Self

from rapport.delivery.transport import Answer, Outcome


class Transport(Protocol):
    def send(self, mail_from: str, recipient: str, data: bytes) -> Answer: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class PoolLimits:
    connections: int = 4
    per_domain: int = 4
    rate: float = 0.0  # messages a second over all connections; 0: as fast as the server takes
    backlog: int = 0  # 0: as many as there are connections

    def __post_init__(self) -> None:
        if self.connections < 1 or self.per_domain < 1 or self.rate < 0 or self.backlog < 0:
            raise ValueError(f"impossible sending limits: {self}")


COOL_FIRST = 30.0
COOL_LONGEST = 600.0
FAILURES_BEFORE_COOLING = 3


@dataclass(slots=True)
class _Domain:
    waiting: collections.deque[_Job] = field(default_factory=collections.deque)
    in_flight: int = 0
    failures: int = 0  # temporary failures in a row
    cool_until: float = 0.0
    cooled: int = 0  # times it cooled down in a row, for the doubling


@dataclass(frozen=True, slots=True)
class _Job:
    key: int
    mail_from: str
    recipient: str
    data: bytes
    domain: str


class SlidingWindow:
    """At most ``rate`` events in any one-second window; ``wait`` sleeps until one is allowed."""

    def __init__(
        self,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.size = max(1, round(rate)) if rate else 0
        self.span = self.size / rate if rate else 0.0
        self.clock = clock
        self.sleep = sleep
        self._times: collections.deque[float] = collections.deque()
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self.size:
            return
        while True:
            with self._lock:
                now = self.clock()
                while self._times and now - self._times[0] >= self.span:
                    self._times.popleft()
                if len(self._times) < self.size:
                    self._times.append(now)
                    return
                pause = self.span - (now - self._times[0])
            self.sleep(pause)


class SendPool:
    """Hand messages to ``connections`` transports made by ``connect``, within ``limits``."""

    def __init__(
        self,
        connect: Callable[[], Transport],
        limits: PoolLimits | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = limits or PoolLimits()
        self.clock = clock
        self._window = SlidingWindow(self.limits.rate, clock)
        self._domains: dict[str, _Domain] = collections.defaultdict(_Domain)
        self._ready: collections.deque[str] = collections.deque()  # domains with waiting jobs
        self._waiting = 0
        self._busy = 0
        self._answers: collections.deque[tuple[int, Answer]] = collections.deque()
        self._changed = threading.Condition()
        self._closing = False
        self._threads = [
            threading.Thread(target=self._serve, args=(connect,), name=f"smtp-{n}", daemon=True)
            for n in range(self.limits.connections)
        ]
        for thread in self._threads:
            thread.start()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- the caller's side -------------------------------------------------------------

    def submit(self, key: int, mail_from: str, recipient: str, data: bytes) -> None:
        """Queue one message; blocks while the backlog is full."""
        domain = recipient.rpartition("@")[2].lower()
        job = _Job(key, mail_from, recipient, data, domain)
        backlog = self.limits.backlog or self.limits.connections
        with self._changed:
            self._changed.wait_for(lambda: self._waiting < backlog)
            state = self._domains[domain]
            if state.cool_until > self.clock():
                self._answers.append((key, _cooling(domain, state.cool_until - self.clock())))
                return
            if not state.waiting:
                self._ready.append(domain)
            state.waiting.append(job)
            self._waiting += 1
            self._changed.notify_all()

    def finished(self) -> list[tuple[int, Answer]]:
        """The answers that came back since the last call, without waiting."""
        with self._changed:
            answers = list(self._answers)
            self._answers.clear()
        return answers

    def drain(self) -> list[tuple[int, Answer]]:
        """Wait until every submitted message has its answer; return those not yet taken."""
        with self._changed:
            self._changed.wait_for(lambda: self._waiting == 0 and self._busy == 0)
        return self.finished()

    def close(self) -> None:
        """Finish what was submitted, then say QUIT on every connection."""
        with self._changed:
            self._closing = True
            self._changed.notify_all()
        for thread in self._threads:
            thread.join()

    # -- the connections' side ---------------------------------------------------------

    def _serve(self, connect: Callable[[], Transport]) -> None:
        transport = connect()
        try:
            while (job := self._next()) is not None:
                self._window.wait()
                try:
                    answer = transport.send(job.mail_from, job.recipient, job.data)
                except Exception as error:  # a bug must not leave drain() waiting for ever
                    answer = Answer(Outcome.RETRY, None, f"{type(error).__name__}: {error}"[:300])
                self._done(job, answer)
        finally:
            transport.close()

    def _next(self) -> _Job | None:
        """The oldest waiting job of the next domain, in turn, that is under its limit."""
        with self._changed:
            while True:
                for _ in range(len(self._ready)):
                    domain = self._ready.popleft()
                    state = self._domains[domain]
                    if state.in_flight >= self.limits.per_domain:
                        self._ready.append(domain)
                        continue
                    job = state.waiting.popleft()
                    if state.waiting:
                        self._ready.append(domain)
                    state.in_flight += 1
                    self._waiting -= 1
                    self._busy += 1
                    self._changed.notify_all()
                    return job
                if self._closing and self._waiting == 0:
                    return None
                self._changed.wait()

    def _done(self, job: _Job, answer: Answer) -> None:
        with self._changed:
            state = self._domains[job.domain]
            state.in_flight -= 1
            self._busy -= 1
            if answer.outcome is Outcome.RETRY:
                state.failures += 1
                if state.failures >= FAILURES_BEFORE_COOLING:
                    pause = min(COOL_FIRST * 2**state.cooled, COOL_LONGEST)
                    state.cool_until = self.clock() + pause
                    state.cooled += 1
                    state.failures = 0
                    self._answer_waiting(job.domain, state)
            else:
                state.failures = state.cooled = 0
            self._answers.append((job.key, answer))
            self._changed.notify_all()

    def _answer_waiting(self, domain: str, state: _Domain) -> None:
        """A domain that just cooled down gives its waiting messages back at once."""
        answer = _cooling(domain, state.cool_until - self.clock())
        self._waiting -= len(state.waiting)
        self._answers.extend((job.key, answer) for job in state.waiting)
        state.waiting.clear()
        if domain in self._ready:
            self._ready.remove(domain)


def _cooling(domain: str, seconds: float) -> Answer:
    return Answer(
        Outcome.RETRY,
        None,
        f"{domain} failed several times in a row; not trying it for another {seconds:.0f} s",
    )
