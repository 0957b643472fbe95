"""What a message that came back to the bounce address is: a hard or soft bounce, a complaint,
a delay warning, an auto-reply, a person writing back, or something we cannot read.

Pure functions of the raw bytes, so every rule is testable on real samples. The order matters:
- an ARF report (RFC 5965) is a complaint, whatever else it says;
- an RFC 3464 report is read here, per recipient: "failed" with a 5.x.x status is hard, "failed"
  with 4.x.x (the server gave up retrying) is soft, "delayed" is only a warning;
- then ``flufl.bounce``'s detectors for the odd formats real servers send (Exchange, qmail,
  Yahoo, …): permanent is hard, temporary is soft;
- a message that is none of these but looks automatic (``Auto-Submitted``, ``X-Autoreply``,
  an "out of office" subject in several languages) is an auto-reply, and anything else from a
  person is a human reply: neither ever counts as a bounce;
- a message from a mailer daemon that nothing can read is "unrecognised": kept, never counted.

The delivery comes from the VERP address the bounce was sent to (signed, so it cannot be
forged), else from the original message's Return-Path or Message-ID when the report quotes it.
"""

from __future__ import annotations

import email
import email.header
import email.message
import email.policy
import logging
import re
from dataclasses import dataclass
from email.utils import getaddresses, parseaddr
from enum import StrEnum

from flufl.bounce import all_failures

from rapport.delivery.verp import delivery_of

log = logging.getLogger(__name__)


class Kind(StrEnum):
    HARD = "hard"
    SOFT = "soft"
    COMPLAINT = "complaint"
    DELAYED = "delayed"  # a warning that the server keeps trying: not a bounce
    AUTO_REPLY = "auto_reply"
    HUMAN = "human"
    UNRECOGNISED = "unrecognised"
    UNSUBSCRIBE = "unsubscribe"  # mail to the List-Unsubscribe mailto address


COUNTED = frozenset({Kind.HARD, Kind.SOFT, Kind.COMPLAINT})


@dataclass(frozen=True, slots=True)
class Finding:
    kind: Kind
    delivery_id: int | None = None
    recipient: str = ""  # the address that bounced or complained, when the report names it
    status: str = ""  # enhanced status code (RFC 3463) or SMTP reply code, e.g. "5.1.1", "550"
    diagnostic: str = ""  # the remote server's words, for the person reading the report
    original_message_id: str = ""  # Message-ID of our message, when the report quotes it
    key: str = ""  # this report's own Message-ID: the same report read twice counts once


_ENHANCED = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_REPLY_CODE = re.compile(r"\b([45]\d\d)[ -]")
_AUTO_SUBJECT = re.compile(
    r"out of (the )?office|auto(matic|matische)?[ -]?(reply|response|antwort|réponse)|"
    r"autoreply|vacation|abwesenheit|absence|自动回复|自動回覆|自动答复|自動回復|不在办公室|休假",
    re.IGNORECASE,
)
_DAEMON = re.compile(r"^(mailer-daemon|postmaster|mail delivery|mail administrator)", re.I)


def parse(raw: bytes) -> email.message.Message:
    """compat32 never raises on broken headers, and flufl.bounce expects its ``Message``."""
    return email.message_from_bytes(raw, policy=email.policy.compat32)


def classify(raw: bytes) -> Finding:
    message = parse(raw)
    key = str(message.get("Message-ID", "")).strip()[:250]
    asked = _verp_delivery(message, "unsubscribe")
    if asked is not None:  # whatever it says: RFC 2369 mailto unsubscribes need no content
        return Finding(Kind.UNSUBSCRIBE, asked, key=key)
    verp = _verp_delivery(message)
    finding = (
        _feedback_report(message)
        or _delivery_status(message)
        or _known_format(message)
        or _not_a_bounce(message)
    )
    delivery_id = verp or finding.delivery_id
    return Finding(
        finding.kind,
        delivery_id,
        finding.recipient,
        finding.status,
        finding.diagnostic[:500],
        finding.original_message_id,
        key,
    )


# -- where it was sent -------------------------------------------------------------------


def _verp_delivery(message: email.message.Message, prefix: str = "bounces") -> int | None:
    """The signed VERP address the report was sent to: headers a receiving server adds first
    (they name the envelope recipient), then To and Cc."""
    headers = ("Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To", "Cc")
    for header in headers:
        for _, address in getaddresses([str(v) for v in message.get_all(header, [])]):
            found = delivery_of(address, prefix)
            if found is not None:
                return found
    return None


def _original(message: email.message.Message) -> tuple[int | None, str]:
    """The delivery and Message-ID of our message, from the copy a report quotes."""
    for part in message.walk():
        content_type = part.get_content_type()
        if content_type not in ("message/rfc822", "text/rfc822-headers"):
            continue
        if content_type == "message/rfc822":
            payload = part.get_payload()
            quoted = payload[0] if isinstance(payload, list) and payload else None
        else:
            text = part.get_payload(decode=True) or b""
            quoted = parse(text if isinstance(text, bytes) else str(text).encode())
        if not isinstance(quoted, email.message.Message):
            continue
        _, return_path = parseaddr(str(quoted.get("Return-Path", "")))
        return delivery_of(return_path) if return_path else None, str(
            quoted.get("Message-ID", "")
        ).strip()
    return None, ""


# -- the readable formats ----------------------------------------------------------------


def _report_parts(message: email.message.Message, report_type: str) -> list[str] | None:
    """The text of the machine-readable part of a multipart/report of this type."""
    if message.get_content_type() != "multipart/report":
        return None
    if str(message.get_param("report-type", "")).lower() != report_type:
        return None
    wanted = {
        "feedback-report": ("message/feedback-report",),
        "delivery-status": ("message/delivery-status", "message/global-delivery-status"),
    }[report_type]
    texts = []
    for part in message.walk():
        if part.get_content_type() not in wanted:
            continue
        payload = part.get_payload()
        if isinstance(payload, list):  # the email package reads each field group as a part
            texts.append("\n\n".join(p.as_string() for p in payload if hasattr(p, "as_string")))
        else:
            data = part.get_payload(decode=True)
            texts.append(data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data))
    return texts


def _fields(text: str) -> list[dict[str, str]]:
    """RFC 3464/5965 field groups (blank-line separated), header names lower-cased."""
    groups = []
    for block in re.split(r"\r?\n\s*\r?\n", text):
        fields: dict[str, str] = {}
        name = ""
        for line in block.splitlines():
            if line[:1] in (" ", "\t") and name:
                fields[name] += " " + line.strip()
            elif ":" in line:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                fields[name] = value.strip()
        if fields:
            groups.append(fields)
    return groups


def _address(value: str) -> str:
    """Plain address from "rfc822; someone@example.com" or "<someone@example.com>"."""
    address = value.partition(";")[2] if ";" in value else value
    return address.strip().strip("<>").strip().lower()


def _feedback_report(message: email.message.Message) -> Finding | None:
    texts = _report_parts(message, "feedback-report")
    if texts is None:
        return None
    delivery, original_id = _original(message)
    fields = {k: v for text in texts for group in _fields(text) for k, v in group.items()}
    recipient = _address(fields.get("original-rcpt-to", "") or fields.get("removal-recipient", ""))
    return Finding(
        Kind.COMPLAINT,
        delivery,
        recipient,
        diagnostic=f"complaint ({fields.get('feedback-type', 'abuse')}) "
        f"from {fields.get('user-agent', 'a mailbox provider')}",
        original_message_id=original_id,
    )


def _delivery_status(message: email.message.Message) -> Finding | None:
    texts = _report_parts(message, "delivery-status")
    if not texts:
        return None
    delivery, original_id = _original(message)
    recipients = [g for text in texts for g in _fields(text) if "action" in g]
    if not recipients:
        return None
    # The worst news first: a failure outweighs a delay in a report about several recipients.
    order = {"failed": 0, "delayed": 1}
    worst = min(recipients, key=lambda g: order.get(g["action"].lower(), 2))
    action = worst["action"].lower()
    status = _status(worst.get("status", "")) or _status(worst.get("diagnostic-code", ""))
    recipient = _address(worst.get("final-recipient", "") or worst.get("original-recipient", ""))
    diagnostic = worst.get("diagnostic-code", "").partition(";")[2].strip() or status
    if action == "failed":
        kind = Kind.SOFT if status.startswith("4") else Kind.HARD
    elif action == "delayed":
        kind = Kind.DELAYED
    else:  # delivered, relayed, expanded: a success notice
        kind = Kind.AUTO_REPLY
    return Finding(kind, delivery, recipient, status, diagnostic, original_id)


def _status(text: str) -> str:
    enhanced = _ENHANCED.search(text)
    if enhanced:
        return enhanced.group(0)
    reply = _REPLY_CODE.search(text)
    return reply.group(1) if reply else ""


def _known_format(message: email.message.Message) -> Finding | None:
    try:
        temporary, permanent = all_failures(message)
    except Exception as error:  # a detector tripping on a broken message is no reason to stop
        log.warning("flufl.bounce could not read %s: %r", message.get("Message-ID"), error)
        return None
    if not temporary and not permanent:
        return None
    kind = Kind.HARD if permanent else Kind.SOFT
    address = sorted(permanent or temporary)[0]
    recipient = address.decode("utf-8", "replace") if isinstance(address, bytes) else address
    body = _text_of(message)
    delivery, original_id = _original(message)
    return Finding(
        kind,
        delivery,
        recipient.lower(),
        _status(body),
        _diagnostic_line(body, recipient),
        original_id,
    )


def _text_of(message: email.message.Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            data = part.get_payload(decode=True)
            if isinstance(data, bytes):
                return data.decode(part.get_content_charset() or "utf-8", "replace")
    return ""


def _diagnostic_line(body: str, recipient: str) -> str:
    """The line of the report that gives the reason: the one with a status code, near the
    failed address."""
    lines = [line.strip() for line in body.splitlines() if line.strip()]
    for line in lines:
        if _ENHANCED.search(line) or _REPLY_CODE.search(line + " "):
            return line[:300]
    return next((line for line in lines if recipient.lower() in line.lower()), "")[:300]


# -- not bounces -------------------------------------------------------------------------


def _not_a_bounce(message: email.message.Message) -> Finding:
    sender = str(message.get("From", ""))
    _, address = parseaddr(sender)
    if _DAEMON.match(address) or _DAEMON.match(sender) or not message.get("From"):
        delivery, original_id = _original(message)
        # A mailer daemon's report in no known layout (Exchange Online's, for one) still says
        # the enhanced status; with the delivery known from VERP or the quoted original, that
        # is enough to tell hard from soft.
        body = _text_of(message)
        status = _ENHANCED.search(body)
        if status and status.group(1) in "45":
            return Finding(
                Kind.HARD if status.group(1) == "5" else Kind.SOFT,
                delivery,
                status=status.group(0),
                diagnostic=_diagnostic_line(body, ""),
                original_message_id=original_id,
            )
        return Finding(
            Kind.UNRECOGNISED,
            delivery,
            diagnostic="a mailer daemon's message in no format we know; kept for a person",
            original_message_id=original_id,
        )
    if _automatic(message):
        return Finding(Kind.AUTO_REPLY, recipient=address.lower())
    return Finding(Kind.HUMAN, recipient=address.lower())


def _automatic(message: email.message.Message) -> bool:
    auto = str(message.get("Auto-Submitted", "no")).strip().lower()
    if auto and auto != "no":
        return True
    if any(message.get(h) for h in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress")):
        return True
    if str(message.get("Precedence", "")).lower() in ("auto_reply", "bulk", "junk"):
        return True
    subject = str(email.header.make_header(email.header.decode_header(message["Subject"] or "")))
    return bool(_AUTO_SUBJECT.search(subject))
