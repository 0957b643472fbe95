"""DKIM signing (RFC 6376) with RSA-SHA256 and Ed25519-SHA256 (RFC 8463), built for throughput.

dkimpy is the reference we verify against, but signing through it costs ~6.8 ms per RSA message
(its RSA is pure Python) and the send pipeline needs ≥1,500 messages/s on two cores. Here the
message is split and canonicalised with bytes operations (no ``email`` parsing), the body hash is
computed once per message and shared by every signature, keys are parsed from PEM once per
process, and the signatures themselves are made by OpenSSL through ``cryptography``.

Only ``c=relaxed/relaxed`` is produced: it survives the whitespace and folding changes that
relays make, which ``simple`` does not. ``l=`` (body length) is never produced, because it lets
anyone append content under a valid signature.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Final, NamedTuple

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

__all__ = [
    "ALGORITHMS",
    "DEFAULT_SIGNED_HEADERS",
    "ED25519_SHA256",
    "RSA_SHA256",
    "DkimKey",
    "dns_record",
    "generate_key",
    "sign",
    "split_txt",
]

RSA_SHA256: Final = "rsa-sha256"
ED25519_SHA256: Final = "ed25519-sha256"
#: In the order signatures are prepended: RFC 8463 §4 has signers add an RSA signature beside
#: the Ed25519 one, because many receivers still verify only RSA.
ALGORITHMS: Final = (RSA_SHA256, ED25519_SHA256)

#: Header fields signed when present, in ``h=`` order. These are the ones whose change would
#: alter what the recipient sees or does (RFC 6376 §5.4.1), plus the one-click unsubscribe pair
#: (RFC 8058 requires both to be signed) and Feedback-ID (Gmail's feedback loop reads it).
DEFAULT_SIGNED_HEADERS: Final[tuple[str, ...]] = (
    "from",
    "sender",
    "reply-to",
    "to",
    "cc",
    "subject",
    "date",
    "message-id",
    "in-reply-to",
    "references",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "list-id",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "feedback-id",
)

#: Fields listed in ``h=`` once more than they occur, so that adding another instance breaks
#: the signature (RFC 6376 §8.15): a second From is how a forged sender would be shown.
_OVERSIGNED: Final = frozenset({b"from"})

RSA_BITS: Final = 2048
_MIN_RSA_BITS: Final = 1024  # RFC 8301 §3.2: verifiers must not accept smaller keys.
_LINE_WIDTH: Final = 78  # RFC 5322 §2.1.1's "SHOULD" limit; folding keeps every line under it.
_TXT_STRING_MAX: Final = 255  # One DNS character-string (RFC 1035 §3.3).

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DNS_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_FIELD_NAME = re.compile(r"[!-9<-~]+")  # printable ASCII without ':' and ';' (RFC 5322 ftext)
_WSP_RUN = re.compile(rb"[ \t]+")
_SPACE_RUN = re.compile(rb"  +")
_BLANK_LINE = re.compile(rb"\n\r?\n")
_BARE_CR = re.compile(rb"\r(?!\n)")

type _PrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


@dataclass(frozen=True, slots=True)
class DkimKey:
    """One signing identity: ``d=``, ``s=``, ``a=`` and the private key that goes with them.

    Everything is checked on construction so that a bad key fails when it is configured, not on
    the first message of a campaign. The PEM is parsed once per process (see
    ``_load_private_key``); constructing the same key again per batch costs a dictionary look-up.
    """

    domain: str
    selector: str
    algorithm: str
    private_key_pem: bytes = field(repr=False)  # keep secrets out of logs and tracebacks

    def __post_init__(self) -> None:
        _check_dns_name("domain", self.domain)
        _check_dns_name("selector", self.selector)
        if self.algorithm not in ALGORITHMS:
            raise ValueError(f"DKIM algorithm must be one of {ALGORITHMS}, not {self.algorithm!r}")
        _check_key_type(self.algorithm, _load_private_key(self.private_key_pem))

    @property
    def record_name(self) -> str:
        """The DNS name receivers query for this key (RFC 6376 §3.6.2.1)."""
        return f"{self.selector}._domainkey.{self.domain}"


def generate_key(domain: str, selector: str, algorithm: str) -> DkimKey:
    """A new key: RSA 2048 (RFC 8301's recommended size; 4096 does not fit many DNS UIs) or
    Ed25519. The PEM is unencrypted PKCS#8, so it must be stored as a secret."""
    private: _PrivateKey
    if algorithm == RSA_SHA256:
        private = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    elif algorithm == ED25519_SHA256:
        private = ed25519.Ed25519PrivateKey.generate()
    else:
        raise ValueError(f"DKIM algorithm must be one of {ALGORITHMS}, not {algorithm!r}")
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return DkimKey(domain=domain, selector=selector, algorithm=algorithm, private_key_pem=pem)


def dns_record(key: DkimKey) -> tuple[str, str]:
    """``(name, TXT value)`` to publish for ``key``.

    RSA publishes the DER SubjectPublicKeyInfo (what OpenDKIM and dkimpy generate); Ed25519
    publishes the bare 32-byte public key, as RFC 8463 §4.2 specifies, not an SPKI wrapper.
    """
    public = _load_private_key(key.private_key_pem).public_key()
    if isinstance(public, rsa.RSAPublicKey):
        k = "rsa"
        der = public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    else:
        k = "ed25519"
        der = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return key.record_name, f"v=DKIM1; k={k}; p={base64.b64encode(der).decode('ascii')}"


def split_txt(value: str, limit: int = _TXT_STRING_MAX) -> list[str]:
    """``value`` cut into DNS character-strings of at most ``limit`` characters.

    An RSA-2048 record (~410 characters) does not fit one 255-byte string, and DNS panels and
    zone files want it pre-split. Receivers join the strings with nothing in between
    (RFC 6376 §3.6.2.2), so the cut can fall anywhere, even inside ``p=``.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    return [value[i : i + limit] for i in range(0, len(value), limit)] or [""]


def sign(
    message: bytes,
    keys: Sequence[DkimKey],
    *,
    headers: Sequence[str] = DEFAULT_SIGNED_HEADERS,
    now: int | None = None,
) -> bytes:
    """``message`` with one DKIM-Signature per key prepended, RSA ones first.

    ``message`` may use CRLF or LF line endings; the added fields use the same. A body whose last
    line has no line ending gets one, because SMTP adds it in transit anyway, and verifiers
    disagree on whether trailing whitespace on an unterminated line counts. ``now`` (Unix
    seconds) is the ``t=`` tag and defaults to the clock: with it given the result is a pure
    function of the arguments. Nothing is shared between calls but the key cache, so threads can
    sign concurrently.
    """
    if not keys:
        raise ValueError("sign() needs at least one DkimKey")
    if _BARE_CR.search(message):
        # Receivers and relays each treat a lone CR differently (kept, dropped, made a line
        # break, or the message refused), so no signature over one can be relied on.
        raise ValueError("message contains a bare CR; use CRLF or LF line endings")
    eol = _line_ending(message)
    head, body = _split(message)
    if body and not body.endswith(b"\n"):
        body += eol
        message += eol
    timestamp = int(time.time()) if now is None else now
    if timestamp < 0:
        raise ValueError("now must be a Unix timestamp")
    h_names, header_data = _select_headers(_parse_fields(head), _header_plan(tuple(headers)))
    signed = _Signed(
        h_names=":".join(h_names),
        header_data=header_data,
        body_hash=base64.b64encode(hashlib.sha256(_canonical_body(body)).digest()).decode(),
        timestamp=timestamp,
        eol=eol.decode("ascii"),
    )
    ordered = sorted(keys, key=lambda key: ALGORITHMS.index(key.algorithm))
    return "".join(_signature_field(key, signed) for key in ordered).encode("ascii") + message


class _Signed(NamedTuple):
    """What every signature of one message shares: computed once, whatever the key count."""

    h_names: str  # the h= value, colon-separated
    header_data: bytes  # canonical signed header fields, in h= order
    body_hash: str  # base64 SHA-256 of the relaxed body: rsa- and ed25519-sha256 both use it
    timestamp: int
    eol: str


# --- keys ---------------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _load_private_key(pem: bytes) -> _PrivateKey:
    """Parse a PEM private key, once per distinct PEM per process.

    Parsing (and for RSA, OpenSSL's consistency check) takes longer than signing a message, so
    it must not happen per message. ``lru_cache`` is safe to call from several threads; two
    threads may both parse a key the first time, which is harmless.
    """
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as error:  # TypeError: the PEM is encrypted
        raise ValueError(f"not an unencrypted PEM private key: {error}") from None
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < _MIN_RSA_BITS:
            raise ValueError(f"RSA key has {key.key_size} bits; receivers need ≥{_MIN_RSA_BITS}")
        return key
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key
    raise ValueError(f"DKIM keys are RSA or Ed25519, not {type(key).__name__}")


def _check_key_type(algorithm: str, key: _PrivateKey) -> None:
    """A mismatched key would produce signatures that every receiver rejects."""
    expected = rsa.RSAPrivateKey if algorithm == RSA_SHA256 else ed25519.Ed25519PrivateKey
    if not isinstance(key, expected):
        raise ValueError(f"the private key does not match algorithm {algorithm!r}")


def _check_dns_name(what: str, value: str) -> None:
    """d= and s= go verbatim into a header and a DNS query, so anything beyond LDH labels
    (``;``, spaces, line breaks, non-ASCII) would corrupt the signature or inject tags."""
    if len(value) > 253 or not _DNS_NAME.fullmatch(value):
        raise ValueError(
            f"DKIM {what} must be an ASCII DNS name (punycode for IDNs), not {value!r}"
        )


def _raw_signature(key: DkimKey, data: bytes) -> bytes:
    """RFC 8463 §3 signs the SHA-256 of the header data with PureEdDSA; RSA hashes it itself."""
    private = _load_private_key(key.private_key_pem)
    if isinstance(private, rsa.RSAPrivateKey):
        return private.sign(data, padding.PKCS1v15(), hashes.SHA256())
    return private.sign(hashlib.sha256(data).digest())


# --- message parsing and canonicalisation --------------------------------------------------------


def _line_ending(message: bytes) -> bytes:
    """The message's own line ending, judged by its first line, so added fields match it."""
    first = message.find(b"\n")
    return b"\n" if first > 0 and message[first - 1] != 0x0D else b"\r\n"


def _split(message: bytes) -> tuple[bytes, bytes]:
    """``(header block, body)`` split on the first empty line, which is not part of either.

    Each line ending is matched as CR?LF, so mixed endings split where a receiver would.
    """
    if message.startswith((b"\n", b"\r\n")):
        return b"", message[message.index(b"\n") + 1 :]
    blank = _BLANK_LINE.search(message)
    if blank is None:
        return message, b""
    return message[: blank.start() + 1], message[blank.end() :]


def _parse_fields(head: bytes) -> list[tuple[bytes, bytes]]:
    """Header fields as ``(lower-cased name, unfolded raw value)``, in message order.

    Unfolding is just joining a field's lines without their line endings (RFC 5322 §2.2.3):
    continuation lines keep their leading whitespace, which relaxed canonicalisation then
    reduces, so the values here are ready for ``_canonical_value``.
    """
    fields: list[tuple[bytes, bytes]] = []
    for line in head.splitlines():  # exact: CR only occurs in CRLF, as ``sign`` checks
        if line[:1] in (b" ", b"\t"):
            if not fields:
                raise ValueError("the message starts with a folded continuation line")
            name, value = fields[-1]
            fields[-1] = (name, value + line)
            continue
        name, colon, value = line.partition(b":")
        if not colon:
            raise ValueError(f"not a header field: {line[:60]!r}")
        fields.append((name.rstrip(b" \t").lower(), value))
    return fields


@lru_cache(maxsize=64)
def _header_plan(headers: tuple[str, ...]) -> tuple[tuple[bytes, ...], frozenset[bytes]]:
    """Validated, lower-cased, de-duplicated field names in order, and the same as a set for
    the per-field membership test; cached since callers pass the same list every time.

    The names go verbatim into ``h=``, so one with ``:``, ``;`` or whitespace is refused.
    """
    names = tuple(dict.fromkeys(name.lower() for name in headers))
    for name in names:
        if not _FIELD_NAME.fullmatch(name):
            raise ValueError(f"not a header field name: {name!r}")
    if "from" not in names:
        raise ValueError("DKIM requires the From field to be signed (RFC 6376 §5.4)")
    encoded = tuple(name.encode("ascii") for name in names)
    return encoded, frozenset(encoded)


def _select_headers(
    fields: list[tuple[bytes, bytes]], plan: tuple[tuple[bytes, ...], frozenset[bytes]]
) -> tuple[list[str], bytes]:
    """``h=`` names and the canonical header data they cover (RFC 6376 §5.4.2).

    Every instance of a named field is signed, taken from the bottom up as verifiers take them,
    and oversigned names are listed once more: that extra entry matches no field now (hashing
    nothing), but would match one added later.
    """
    names, wanted = plan
    instances: dict[bytes, list[bytes]] = {}
    for name, value in fields:
        if name in wanted:
            instances.setdefault(name, []).append(value)
    if b"from" not in instances:
        raise ValueError("the message has no From field, which DKIM requires")
    h_names: list[str] = []
    parts: list[bytes] = []
    for name in names:
        values = instances.get(name)
        if values is None:
            continue
        parts += [name + b":" + _canonical_value(value) + b"\r\n" for value in reversed(values)]
        h_names += [name.decode("ascii")] * (len(values) + (name in _OVERSIGNED))
    return h_names, b"".join(parts)


def _canonical_value(value: bytes) -> bytes:
    """Relaxed header value (RFC 6376 §3.4.2) of an already unfolded value: runs of spaces
    and tabs become one space, then leading and trailing ones go. The membership tests skip the
    regex for the common value that has nothing to reduce."""
    if b"\t" in value or b"  " in value:
        value = _WSP_RUN.sub(b" ", value)
    return value.strip(b" \t")


def _canonical_body(body: bytes) -> bytes:
    """Relaxed body (RFC 6376 §3.4.4), in CRLF form whatever the message used.

    Written for speed on a ~10 KB body, where a regex replacing every run of spaces and tabs
    (each single space included) costs ~200 µs: tabs become spaces with ``replace``, and only
    runs of two or more spaces go through the regex (its literal prefix is found by a fast
    scan). Once runs are single spaces, trailing whitespace is one ``replace(" " + eol)`` and
    trailing empty lines one ``rstrip``. A pure CRLF body is worked on as it is; LF and mixed
    bodies are worked on in LF and converted at the end. An empty (or all-blank) body
    canonicalises to nothing, not to a CRLF. Bare CRs must have been refused before (``sign``
    does).
    """
    text = body
    carriage_returns = text.count(b"\r")  # each starts a CRLF, as bare CRs were refused
    if carriage_returns and carriage_returns != text.count(b"\n"):
        text = text.replace(b"\r\n", b"\n")  # mixed endings
    eol = b"\r\n" if b"\r" in text else b"\n"
    if b"\t" in text:
        text = text.replace(b"\t", b" ")
    if b"  " in text:
        text = _SPACE_RUN.sub(b" ", text)
    if not text.endswith(b"\n"):
        text += eol  # so that whitespace ending the last line is removed like any other
    if b" " + eol in text:
        text = text.replace(b" " + eol, eol)
    text = text.rstrip(b"\r\n")
    if not text:
        return b""
    return (text if eol == b"\r\n" else text.replace(b"\n", b"\r\n")) + b"\r\n"


# --- the DKIM-Signature field ------------------------------------------------------------------


def _signature_field(key: DkimKey, signed: _Signed) -> str:
    """The folded DKIM-Signature field for ``key``, ending in the message's line ending.

    The signed data is the canonical form of the very text emitted, with ``b=`` empty
    (RFC 6376 §3.7), so folding can never disagree with what verifiers reconstruct. ``b=`` is
    started on a line of its own and may then be folded anywhere (§3.5 ignores FWS in it).
    """
    tags = ("v=1", f"a={key.algorithm}", "c=relaxed/relaxed", f"d={key.domain}")
    atoms = [(f"{tag};", " ") for tag in (*tags, f"s={key.selector}", f"t={signed.timestamp}")]
    atoms += [*_h_atoms(signed.h_names), (f"bh={signed.body_hash};", " ")]
    lines = _fold(atoms)
    unsigned = "".join(lines)[len("DKIM-Signature:") :] + " b="
    data = signed.header_data + b"dkim-signature:" + _canonical_value(unsigned.encode("ascii"))
    b_value = base64.b64encode(_raw_signature(key, data)).decode("ascii")
    return signed.eol.join([*lines, *_b_lines(b_value)]) + signed.eol


def _h_atoms(h_value: str) -> list[tuple[str, str]]:
    """``h=`` as foldable pieces: folds may only fall beside a colon (RFC 6376 §3.5's
    ``[FWS] ":" [FWS]``), so each name after the first carries its leading colon."""
    first, *rest = h_value.split(":")
    atoms = [(f"h={first}", " ")] + [(f":{name}", "") for name in rest]
    text, joiner = atoms[-1]
    atoms[-1] = (text + ";", joiner)
    return atoms


def _fold(atoms: list[tuple[str, str]]) -> list[str]:
    """Lay ``(text, separator)`` atoms on lines of at most ``_LINE_WIDTH`` characters (an atom
    longer than that, such as a very long ``d=``, gets a line of its own); a new line starts
    with the single space that makes it a fold."""
    lines = ["DKIM-Signature:"]
    for text, joiner in atoms:
        if len(lines[-1]) + len(joiner) + len(text) > _LINE_WIDTH:
            lines.append(" " + text)
        else:
            lines[-1] += joiner + text
    return lines


def _b_lines(b_value: str) -> list[str]:
    """``b=`` on its own line, then folded at the line width."""
    first = _LINE_WIDTH - len(" b=")
    rest = _LINE_WIDTH - 1
    lines = [" b=" + b_value[:first]]
    lines += [" " + b_value[i : i + rest] for i in range(first, len(b_value), rest)]
    return lines
