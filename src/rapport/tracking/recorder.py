"""The write side of the tracking endpoints: hits buffered in memory, written in batches.

An open or click answers as soon as its token checks out; the hit goes into an in-process
queue, and one background thread writes whatever has gathered every few milliseconds (or at
once when ``BATCH`` are waiting), in one transaction: the events (contract item 1), the
contacts' ``last_opened_at``/``last_clicked_at`` (``bulk`` inserts send no ``post_save``, so
the columns are moved here, by people's events only), and the attribution of orders placed
after those touches. One insert of hundreds of rows costs about what one row costs alone, which
is what lets the endpoints take thousands of hits a second on SQLite.

Nothing is lost on a clean shutdown: ``stop`` (called by the web command when it is told to
stop, and at exit) writes everything left. A write that fails (the database busy or away) is
kept and retried; only a hard crash loses the hits of the last few milliseconds.

Clicks wait ``BURST_SECONDS`` before they are written, so that a scanner that follows every
link of a message at once is seen as one burst (``detect.in_burst``) and not as a person.
A click also counts as an open when none of that message is on record (the person's client
blocked images): an ``opened`` event with ``implied: true`` is added, so that unique opens
never fall below unique clicks.
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

from rapport.crm.bulk import insert_rows
from rapport.crm.engagement import move_engagement
from rapport.crm.models import Contact, Event, EventType
from rapport.tracking import detect
from rapport.tracking.attribution import attribute_orders_of
from rapport.tracking.models import TrackingSettings
from rapport.tracking.tokens import OPEN, HitToken

log = logging.getLogger(__name__)

INTERVAL = 0.05  # seconds between writes when hits trickle in
BATCH = 2000  # hits that wake the writer at once
_SETTINGS_TTL = 5.0  # how long the workspace's on/off switch is trusted
_KNOWN_OPENED = 200_000  # deliveries remembered as opened, to skip the look-up for later clicks
_ATTEMPTS_BEFORE_ONE_BY_ONE = 5


@dataclass(frozen=True, slots=True)
class Hit:
    kind: str  # tokens.OPEN or tokens.CLICK
    token: HitToken
    at: float  # Unix time of the request
    method: str
    user_agent: str
    ip: str
    url: str = ""  # a click's target


class Recorder:
    def __init__(self, *, interval: float = INTERVAL, batch: int = BATCH) -> None:
        self.interval = interval
        self.batch = batch
        self.autostart = True  # tests turn it off and call ``flush`` themselves
        self._incoming: deque[Hit] = deque()
        self._held: list[Hit] = []  # clicks waiting out the burst window
        self._failed: list[Hit] = []
        self._failures = 0
        self._recent: dict[int, list[tuple[float, int]]] = {}  # delivery: [(at, link)]
        self._opened: OrderedDict[int, None] = OrderedDict()
        self._enabled: tuple[float, bool] = (0.0, True)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._start_lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    # The request side: as cheap as possible.
    def record(self, hit: Hit) -> None:
        self._incoming.append(hit)
        if self._thread is None and self.autostart:
            self.start()
        if len(self._incoming) >= self.batch:
            self._wake.set()

    def pending(self) -> int:
        return len(self._incoming) + len(self._held) + len(self._failed)

    def start(self) -> None:
        with self._start_lock:
            if self._thread is not None:
                return
            self._stopping.clear()
            self._thread = threading.Thread(target=self._run, name="tracking-writer", daemon=True)
            self._thread.start()
            atexit.register(self.stop)

    def stop(self, timeout: float = 30.0) -> None:
        """Write everything still waiting, then end the writer thread."""
        thread = self._thread
        self._stopping.set()
        self._wake.set()
        if thread is not None:
            thread.join(timeout)
            self._thread = None
        deadline = time.monotonic() + timeout
        while self.pending() and time.monotonic() < deadline:
            try:
                self.flush(everything=True)
            except Exception:  # the database is away: keep trying until the deadline
                log.exception("could not write tracking events; retrying")
                time.sleep(0.2)
        if self.pending():
            log.error("%d tracking events could not be written before shutdown", self.pending())

    def _run(self) -> None:
        try:
            while not self._stopping.is_set():
                self._wake.wait(self.interval)
                self._wake.clear()
                try:
                    self.flush()
                except Exception:
                    log.exception("could not write tracking events; they are kept and retried")
                    time.sleep(self.interval * 10)
        finally:
            connection.close()

    # The write side.
    def flush(self, *, everything: bool = False) -> int:
        """Write the hits that are due (all of them with ``everything``); returns how many."""
        with self._flush_lock:
            now = time.time()
            arrived: list[Hit] = []
            while self._incoming:
                arrived.append(self._incoming.popleft())
            for hit in arrived:
                if hit.kind != OPEN:
                    self._recent.setdefault(hit.token.delivery, []).append((hit.at, hit.token.link))
                    self._held.append(hit)
            due_before = now - detect.BURST_SECONDS
            ready = [*self._failed, *(hit for hit in arrived if hit.kind == OPEN)]
            if everything:
                ready.extend(self._held)
                self._held = []
            else:
                ready.extend(hit for hit in self._held if hit.at <= due_before)
                self._held = [hit for hit in self._held if hit.at > due_before]
            self._failed = []
            if ready:
                self._write_or_keep(ready)
            self._forget_before(now - 3 * detect.BURST_SECONDS)
            return len(ready)

    def _write_or_keep(self, hits: list[Hit]) -> None:
        try:
            self._write(hits)
            self._failures = 0
        except Exception:
            self._failures += 1
            if self._failures < _ATTEMPTS_BEFORE_ONE_BY_ONE:
                self._failed = hits
                raise
            # The same batch keeps failing: write hit by hit so that one bad row (a contact
            # deleted between the check and the insert) cannot hold back the others.
            log.exception("a batch of tracking events keeps failing; writing them one by one")
            self._failures = 0
            for hit in hits:
                try:
                    self._write([hit])
                except Exception:
                    log.exception("dropped a tracking event that cannot be written: %s", hit)

    def _forget_before(self, moment: float) -> None:
        for delivery in [d for d, clicks in self._recent.items() if clicks[-1][0] < moment]:
            del self._recent[delivery]

    def _tracking_on(self) -> bool:
        checked_at, enabled = self._enabled
        if time.monotonic() - checked_at > _SETTINGS_TTL:
            enabled = TrackingSettings.current().enabled
            self._enabled = (time.monotonic(), enabled)
        return enabled

    def _write(self, hits: list[Hit]) -> None:
        if not self._tracking_on():
            return  # the workspace turned tracking off: no events, whatever links are out there
        with transaction.atomic():
            allowed = set(
                Contact.objects.filter(
                    pk__in={hit.token.contact for hit in hits}, tracking=True
                ).values_list("pk", flat=True)
            )  # a deleted contact or one who turned tracking off gets no event
            rows, touched = self._events([hit for hit in hits if hit.token.contact in allowed])
            insert_rows(
                Event, ("contact", "type", "name", "occurred_at", "campaign_id", "data"), rows
            )
            move_engagement(touched)
            if touched:  # an order may have been committed before the touch that led to it
                since = min(touched.values())
                attribute_orders_of([contact for contact, _ in touched], since=since)

    def _events(
        self, hits: list[Hit]
    ) -> tuple[list[tuple[Any, ...]], dict[tuple[int, str], dt.datetime]]:
        """Event rows, and the latest human open and click per (contact, event type)."""
        rows: list[tuple[Any, ...]] = []
        latest: dict[tuple[int, str], dt.datetime] = {}
        human_clicks: list[tuple[Hit, detect.Agent, dt.datetime]] = []
        opened_now: set[int] = set()
        for hit in hits:
            agent = detect.agent_of(hit.user_agent, hit.ip)
            age = hit.at - hit.token.sent_at
            at = dt.datetime.fromtimestamp(hit.at, tz=dt.UTC)
            base = {"delivery": hit.token.delivery, "device": agent.device, "client": agent.client}
            if hit.kind == OPEN:
                reason = detect.machine_open_reason(agent, hit.method, age)
                data: dict[str, Any] = {**base, "machine": bool(reason)}
                kind = EventType.OPENED
                if not reason:
                    opened_now.add(hit.token.delivery)
            else:
                reason = detect.scanner_click_reason(agent, hit.method, age)
                if not reason and detect.in_burst(hit.at, self._recent.get(hit.token.delivery, [])):
                    reason = "many-links-at-once"
                data = {**base, "link": hit.token.link, "url": hit.url, "scanner": bool(reason)}
                kind = EventType.CLICKED
                if not reason:
                    human_clicks.append((hit, agent, at))
            if reason:
                data["reason"] = reason
            else:
                key = (hit.token.contact, kind)
                latest[key] = max(latest.get(key, at), at)
            rows.append((hit.token.contact, kind, "", at, hit.token.campaign, data))
        for delivery in opened_now:
            self._remember_opened(delivery)
        rows.extend(self._implied_opens(human_clicks, latest))
        return rows, latest

    def _implied_opens(
        self,
        clicks: list[tuple[Hit, detect.Agent, dt.datetime]],
        latest: dict[tuple[int, str], dt.datetime],
    ) -> list[tuple[Any, ...]]:
        """An ``opened`` event for each clicked message with no human open on record."""
        unknown = [c for c in clicks if c[0].token.delivery not in self._opened]
        if not unknown:
            return []
        on_record = {
            delivery
            for delivery, machine in Event.objects.filter(
                type=EventType.OPENED,
                contact_id__in={hit.token.contact for hit, _, _ in unknown},
                campaign_id__in={hit.token.campaign for hit, _, _ in unknown},
            ).values_list("data__delivery", "data__machine")
            if machine is not True
        }
        rows: list[tuple[Any, ...]] = []
        for hit, agent, at in unknown:
            delivery = hit.token.delivery
            if delivery in self._opened:
                continue
            self._remember_opened(delivery)
            if delivery in on_record:
                continue
            data = {"delivery": delivery, "machine": False, "device": agent.device,
                    "client": agent.client, "implied": True}  # fmt: skip
            rows.append((hit.token.contact, EventType.OPENED, "", at, hit.token.campaign, data))
            key = (hit.token.contact, EventType.OPENED.value)
            latest[key] = max(latest.get(key, at), at)
        return rows

    def _remember_opened(self, delivery: int) -> None:
        self._opened[delivery] = None
        self._opened.move_to_end(delivery)
        if len(self._opened) > _KNOWN_OPENED:
            self._opened.popitem(last=False)


recorder = Recorder()
