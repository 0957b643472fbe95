"""The outbox: what the local mail catcher caught, listed, searched, parsed for display, cleared.

A new install sends to the catcher, so this is where a user sees the messages Rapport really
produced. Parsing never fails outright: a caught message is whatever some program sent, and a
page about it must still show its raw bytes (with a note on what could not be read) rather than
an error. Nothing here renders the HTML part; the UI shows it only in a sandboxed frame.
"""

from __future__ import annotations

import datetime as dt
import email
import email.message
import email.policy
from dataclasses import dataclass

from django.db.models import Q
from django.utils.translation import gettext as _

from rapport.accounts.access import require
from rapport.accounts.models import User
from rapport.accounts.roles import Perm
from rapport.accounts.services import record_audit
from rapport.delivery.models import CaughtMessage
from rapport.errors import NotFound

PAGE_SIZE = 50
# The page shows this much of the raw source; the .eml download always has all of it.
RAW_DISPLAY_LIMIT = 2_000_000
# The headers a sender checks first, in the order the page shows them.
SHOWN_HEADERS = (
    "From",
    "To",
    "Cc",
    "Reply-To",
    "Subject",
    "Date",
    "Message-ID",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "Return-Path",
)
_LIST_FIELDS = ("id", "received_at", "mail_from", "recipients", "subject", "size")


@dataclass(frozen=True)
class OutboxRow:
    id: int
    received_at: dt.datetime
    mail_from: str
    recipients: tuple[str, ...]
    subject: str
    size: int


@dataclass(frozen=True)
class OutboxPage:
    rows: tuple[OutboxRow, ...]
    total: int
    next_cursor: int | None  # the id to pass as ``before`` for the next page
    newest_id: int | None  # what "delete all" may delete: nothing that arrived after the page


@dataclass(frozen=True)
class Header:
    name: str
    value: str | None  # None: the message has no such header


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True)
class ParsedMessage:
    headers: tuple[Header, ...]
    dkim_signatures: tuple[str, ...]  # "d=example.com s=rapport" for each DKIM-Signature
    html: str | None
    text: str | None
    attachments: tuple[Attachment, ...]
    problems: tuple[str, ...]  # what could not be read, for a note above the raw source
    parsed: bool  # False: nothing could be parsed; only the raw source is meaningful


def list_caught(user: User, *, q: str = "", before: int | None = None) -> OutboxPage:
    """Newest first, ``PAGE_SIZE`` a page by id (keyset: no OFFSET scans on a big outbox);
    ``q`` matches an envelope recipient or the subject. The raw bytes are never loaded."""
    require(user, Perm.VIEW_CONTACTS)
    matching = CaughtMessage.objects.all()
    if q := q.strip():
        matching = matching.filter(Q(recipients__icontains=q) | Q(subject__icontains=q))
    page = matching.order_by("-pk")
    if before is not None:
        page = page.filter(pk__lt=before)
    found = list(page.values_list(*_LIST_FIELDS)[: PAGE_SIZE + 1])
    rows = tuple(
        OutboxRow(
            id=pk,
            received_at=received_at,
            mail_from=mail_from,
            recipients=tuple(str(r) for r in recipients or ()),
            subject=subject,
            size=size,
        )
        for pk, received_at, mail_from, recipients, subject, size in found[:PAGE_SIZE]
    )
    newest = CaughtMessage.objects.order_by("-pk").values_list("pk", flat=True).first()
    return OutboxPage(
        rows=rows,
        total=matching.count(),
        next_cursor=rows[-1].id if len(found) > PAGE_SIZE else None,
        newest_id=newest,
    )


def get_caught_for(user: User, message_id: int) -> CaughtMessage:
    """One caught message, for a user allowed to see the outbox."""
    require(user, Perm.VIEW_CONTACTS)
    return _get_caught(message_id)


def _get_caught(message_id: int) -> CaughtMessage:
    message = CaughtMessage.objects.filter(pk=message_id).first()
    if message is None:
        raise NotFound(_("This message is no longer in the outbox."))
    return message


def html_of_caught(message_id: int) -> str | None:
    """The HTML part alone, for the sandboxed frame (whose signed URL is its only key)."""
    return parse_message(raw_of(_get_caught(message_id))).html


def raw_of(message: CaughtMessage) -> bytes:
    return bytes(message.raw)


def raw_for_display(raw: bytes) -> tuple[str, bool]:
    """The source as text (undecodable bytes replaced), and whether it was cut short."""
    return raw[:RAW_DISPLAY_LIMIT].decode("utf-8", "replace"), len(raw) > RAW_DISPLAY_LIMIT


def clear_outbox(*, up_to: int | None, acting_user: User) -> int:
    """Delete the caught messages up to id ``up_to`` (all when None), so that one arriving
    after the user loaded the page is not deleted unseen; returns how many went."""
    require(acting_user, Perm.EDIT_CONTENT)
    doomed = CaughtMessage.objects.all()
    if up_to is not None:
        doomed = doomed.filter(pk__lte=up_to)
    deleted, _by_model = doomed.delete()
    record_audit(
        acting_user,
        "outbox.clear",
        target_type="outbox",
        detail={"deleted": deleted, "up_to": up_to},
    )
    return deleted


def parse_message(raw: bytes) -> ParsedMessage:
    """The parts the outbox page shows. Each header and part that cannot be read falls back to
    its raw form with a problem noted; if the message cannot be parsed at all, only problems."""
    try:
        return _parse(raw)
    except Exception as error:  # any bytes may arrive; the page must still show them
        return ParsedMessage(
            headers=(),
            dkim_signatures=(),
            html=None,
            text=None,
            attachments=(),
            problems=(
                _("This message could not be parsed (%(error)s); its raw source is shown below.")
                % {"error": _describe(error)},
            ),
            parsed=False,
        )


def _parse(raw: bytes) -> ParsedMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    # compat32 keeps header values as the raw strings: the fallback when a value cannot be read.
    plain = email.message_from_bytes(raw, policy=email.policy.compat32)
    problems: list[str] = []
    if message.defects:
        problems.append(
            _("The message is malformed: %(defects)s.")
            % {"defects": ", ".join(type(d).__name__ for d in message.defects)}
        )
    headers = tuple(Header(name, _header(message, plain, name, problems)) for name in SHOWN_HEADERS)
    signatures = tuple(_dkim_summary(str(v)) for v in plain.get_all("DKIM-Signature") or ())
    html = _body(message, "html", problems)
    text = _body(message, "plain", problems)
    return ParsedMessage(
        headers=headers,
        dkim_signatures=signatures,
        html=html,
        text=text,
        attachments=_attachments(message, problems),
        problems=tuple(problems),
        parsed=True,
    )


def _header(
    message: email.message.EmailMessage,
    plain: email.message.Message,
    name: str,
    problems: list[str],
) -> str | None:
    try:
        values = message.get_all(name)
        return None if values is None else ", ".join(str(v) for v in values)
    except Exception:  # the header parser raises on some malformed values
        problems.append(
            _("The %(header)s header could not be read; it is shown as it was sent.")
            % {"header": name}
        )
        return ", ".join(str(v) for v in plain.get_all(name) or ()) or None


def _body(message: email.message.EmailMessage, subtype: str, problems: list[str]) -> str | None:
    part = None
    try:
        part = message.get_body(preferencelist=(subtype,))
        if part is None or not isinstance(part, email.message.EmailMessage):
            return None
        return str(part.get_content())
    except Exception as error:  # an unknown charset, a broken encoding
        problems.append(
            _(
                "The %(part)s part could not be decoded (%(error)s); "
                "it is shown with unreadable characters replaced."
            )
            % {"part": subtype, "error": _describe(error)}
        )
        payload = part.get_payload(decode=True) if part is not None else None
        return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else None


def _attachments(
    message: email.message.EmailMessage, problems: list[str]
) -> tuple[Attachment, ...]:
    found = []
    try:
        for part in message.iter_attachments():
            payload = part.get_payload(decode=True)
            found.append(
                Attachment(
                    filename=str(part.get_filename() or ""),
                    content_type=part.get_content_type(),
                    size=len(payload) if isinstance(payload, bytes) else 0,
                )
            )
    except Exception as error:  # a broken MIME structure
        problems.append(
            _("The attachments could not be listed (%(error)s).") % {"error": _describe(error)}
        )
    return tuple(found)


def _dkim_summary(value: str) -> str:
    """The signing domain and selector of a DKIM-Signature header, what a sender checks."""
    tags = {}
    for tag in "".join(value.split()).split(";"):
        key, _sep, tag_value = tag.partition("=")
        tags[key] = tag_value
    return " ".join(f"{key}={tags[key]}" for key in ("a", "d", "s") if tags.get(key))


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
