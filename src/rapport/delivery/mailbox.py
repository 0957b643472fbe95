"""Reading the bounce mailbox over IMAP.

Each new message is classified (``bounces.classify``) and applied (``bouncing.handle``), and
only then moved out of the way, so a crash in between reads it again and the unique report key
makes that harmless. Bounces, complaints, delay warnings are moved to the ``processed`` folder,
never deleted. Auto-replies, people writing back and whatever we cannot read stay where they
are, unread, marked with a keyword so they are looked at once: they are for a person.
"""

from __future__ import annotations

import contextlib
import hashlib
import imaplib
import logging
import re
import ssl
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from rapport.delivery.bounces import Finding, Kind, classify
from rapport.delivery.bouncing import handle
from rapport.errors import RapportError

log = logging.getLogger(__name__)

CHECKED = "$RapportChecked"  # keyword on messages we read and left for a person
FETCH_BATCH = 50
MOVED = frozenset({Kind.HARD, Kind.SOFT, Kind.COMPLAINT, Kind.DELAYED, Kind.UNSUBSCRIBE})
_UID = re.compile(rb"UID (\d+)")


class MailboxError(RapportError):
    """The bounce mailbox could not be read; the message says what and where."""


@dataclass(frozen=True, slots=True)
class MailboxSettings:
    host: str
    port: int
    username: str
    password: str
    use_ssl: bool = False
    use_tls: bool = False
    folder: str = "INBOX"
    processed: str = "Rapport-Processed"
    timeout: float = 30.0


@dataclass(slots=True)
class ReadReport:
    read: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    suppressed: int = 0
    paused_campaigns: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "read": self.read,
            "kinds": dict(self.kinds),
            "suppressed": self.suppressed,
            "paused_campaigns": self.paused_campaigns,
            "errors": self.errors,
        }


@contextlib.contextmanager
def _connected(settings: MailboxSettings) -> Iterator[imaplib.IMAP4]:
    where = f"{settings.host}:{settings.port}"
    try:
        imap: imaplib.IMAP4
        if settings.use_ssl:
            imap = imaplib.IMAP4_SSL(
                settings.host,
                settings.port,
                ssl_context=ssl.create_default_context(),
                timeout=settings.timeout,
            )
        else:
            imap = imaplib.IMAP4(settings.host, settings.port, timeout=settings.timeout)
            if settings.use_tls:
                imap.starttls(ssl.create_default_context())
        imap.login(settings.username, settings.password)
    except imaplib.IMAP4.error as error:
        raise MailboxError(
            f"the IMAP server at {where} refused the login: {_text(error)}"
        ) from None
    except (OSError, ssl.SSLError) as error:
        raise MailboxError(f"cannot reach the IMAP server at {where}: {error}") from None
    try:
        yield imap
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            imap.logout()


def read_bounces(settings: MailboxSettings, *, limit: int = 1000) -> ReadReport:
    """Read up to ``limit`` messages not looked at yet, apply them, and file them."""
    report = ReadReport()
    with _connected(settings) as imap:
        _check(imap.select(_quoted(settings.folder)), f"open the folder {settings.folder}")
        status, data = imap.uid("SEARCH", "UNKEYWORD", CHECKED)
        _check((status, data), "search the mailbox")
        uids = (data[0] or b"").split()[:limit]
        moved: list[bytes] = []
        kept: list[bytes] = []
        for start in range(0, len(uids), FETCH_BATCH):
            for uid, raw in _fetch(imap, uids[start : start + FETCH_BATCH]):
                finding = _classified(raw, uid, report)
                report.read += 1
                report.kinds[finding.kind.value] += 1
                outcome = handle(finding, source="imap", key=_key(finding, raw))
                report.suppressed += outcome.suppressed
                if outcome.paused_campaign is not None:
                    report.paused_campaigns.append(outcome.paused_campaign)
                (moved if finding.kind in MOVED else kept).append(uid)
        if kept:
            imap.uid("STORE", b",".join(kept).decode(), "+FLAGS", f"({CHECKED})")
        if moved:
            _move(imap, moved, settings.processed)
    return report


def _classified(raw: bytes, uid: bytes, report: ReadReport) -> Finding:
    try:
        return classify(raw)
    except Exception as error:  # one broken message must not stop the others
        log.exception("could not read bounce message uid %s", uid.decode())
        report.errors.append(f"message {uid.decode()}: {type(error).__name__}: {error}"[:300])
        return Finding(Kind.UNRECOGNISED, diagnostic=f"could not be read: {error}"[:500])


def _key(finding: Finding, raw: bytes) -> str:
    """The report's Message-ID, or a digest of its bytes when it has none."""
    return (
        f"imap:{finding.key}" if finding.key else f"imap:sha256:{hashlib.sha256(raw).hexdigest()}"
    )


def _fetch(imap: imaplib.IMAP4, uids: list[bytes]) -> Iterator[tuple[bytes, bytes]]:
    status, data = imap.uid("FETCH", b",".join(uids).decode(), "(UID BODY.PEEK[])")
    _check((status, data), "fetch messages")
    for item in data:
        if isinstance(item, tuple) and len(item) == 2:
            match = _UID.search(item[0])
            if match:
                yield match.group(1), item[1]


def _move(imap: imaplib.IMAP4, uids: list[bytes], folder: str) -> None:
    """MOVE (RFC 6851) where the server has it, else copy, flag deleted and expunge."""
    target = _quoted(folder)
    imap.create(target)  # "already exists" is an answer, not an error we care about
    numbers = b",".join(uids).decode()
    if "MOVE" in imap.capabilities:
        _check(imap.uid("MOVE", numbers, target), f"move messages to {folder}")
        return
    _check(imap.uid("COPY", numbers, target), f"copy messages to {folder}")
    imap.uid("STORE", numbers, "+FLAGS", r"(\Deleted)")
    if "UIDPLUS" in imap.capabilities:
        imap.uid("EXPUNGE", numbers)
    else:
        imap.expunge()


def _quoted(folder: str) -> str:
    escaped = folder.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _check(answer: tuple[str, list[Any]], doing: str) -> None:
    status, data = answer
    if status != "OK":
        raise MailboxError(f"the IMAP server would not {doing}: {_text(data)}")


def _text(value: object) -> str:
    if isinstance(value, list):
        value = b" ".join(v for v in value if isinstance(v, bytes)) or value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)
