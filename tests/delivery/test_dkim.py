"""DKIM signing, checked against dkimpy's verifier (the reference implementation) and against a
strict RFC 6376 verifier assembled from dkimpy's parts (without dkimpy's implicit extra From).

Public keys reach both verifiers only through ``dns_record``, so every verification also checks
the published records.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
import time
from concurrent.futures import ThreadPoolExecutor

import dkim
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa, utils
from dkim.canonicalization import CanonicalizationPolicy, Relaxed
from dkim.util import parse_tag_value
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rapport.delivery import dkim as d

NOW = 1_707_125_400

MESSAGE = (
    b'From: "Trail & Sea" <news@shop.example.com>\r\n'
    b"To: =?utf-8?q?Li_Na?= <li.na@example.org>\r\n"
    b"Subject: =?utf-8?b?5pil6IqC5b+r5LmQ?= spring  sale\r\n"
    b"Date: Mon, 05 Feb 2024 09:30:00 +0000\r\n"
    b"Message-ID: <1.campaign-42@shop.example.com>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"List-Unsubscribe: <https://shop.example.com/u/abcdef0123456789>,\r\n"
    b"\t<mailto:unsubscribe@shop.example.com?subject=abcdef0123456789>\r\n"
    b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
    b"Feedback-ID: 42:campaign:rapport:shop\r\n"
    b"X-Mailer: Rapport\r\n"
    b"\r\n"
    b"Hello \xe6\x9d\x8e\xe5\xa8\x9c,  \r\n"
    b"\tour spring sale starts   today.\r\n"
    b"\r\n"
    b"See you soon\r\n"
)


@functools.cache
def rsa_key():
    return d.generate_key("shop.example.com", "r2024", d.RSA_SHA256)


@functools.cache
def ed_key():
    return d.generate_key("shop.example.com", "e2024", d.ED25519_SHA256)


def both_keys():
    return [ed_key(), rsa_key()]  # deliberately Ed25519 first: sign() must put RSA first


def lf(message):
    return message.replace(b"\r\n", b"\n")


class Dns:
    """dkimpy's ``dnsfunc``: serves the records ``dns_record`` made, as a resolver would (the
    TXT strings of ``split_txt`` joined), and remembers what was asked."""

    def __init__(self, keys):
        self.records = {}
        for key in keys:
            name, value = d.dns_record(key)
            self.records[f"{name}.".encode()] = "".join(d.split_txt(value)).encode()
        self.queries = []

    def __call__(self, name, timeout=5):
        self.queries.append(name)
        return self.records.get(name)


def signature_count(message):
    headers, _ = dkim.rfc822_parse(message)
    return sum(1 for name, _ in headers if name.lower() == b"dkim-signature")


def dkimpy_results(message, keys=None):
    """dkimpy's verdict on each DKIM-Signature of ``message``, top to bottom (False where it
    raises, as ``dkim.verify`` does, e.g. on a body hash mismatch)."""
    dns = Dns(keys or both_keys())
    return [_dkimpy_verify(message, i, dns) for i in range(signature_count(message))]


def _dkimpy_verify(message, idx, dns):
    try:
        return dkim.DKIM(message).verify(idx=idx, dnsfunc=dns)
    except dkim.ValidationError:
        return False


def strict_results(message, keys=None):
    """RFC 6376 verification that hashes exactly the h= list. dkimpy silently verifies one more
    From than h= lists (its bug #644046 guard), which would hide a signer that forgot to
    oversign From; this verifier does not."""
    headers, body = dkim.rfc822_parse(message)
    signatures = [(n, v) for n, v in headers if n.lower() == b"dkim-signature"]
    publics = {(k.domain, k.selector): _public_key(k) for k in keys or both_keys()}
    return [_strict_verify(headers, body, field, publics) for field in signatures]


def _public_key(key):
    _, value = d.dns_record(key)
    tags = dict(part.strip().split("=", 1) for part in value.split(";"))
    raw = base64.b64decode(tags["p"])
    if tags["k"] == "ed25519":
        return ed25519.Ed25519PublicKey.from_public_bytes(raw)
    return serialization.load_der_public_key(raw)


def _strict_verify(headers, body, field, publics):
    tags = parse_tag_value(field[1])
    policy = CanonicalizationPolicy.from_c_value(tags[b"c"])
    body_hash = base64.b64encode(hashlib.sha256(policy.canonicalize_body(body)).digest())
    if body_hash != tags[b"bh"]:
        return False
    include = [name.lower() for name in re.split(rb"\s*:\s*", tags[b"h"])]
    hasher = hashlib.sha256()
    canonical = policy.canonicalize_headers(headers)
    dkim.hash_headers(hasher, policy, canonical, include, field, tags)
    signature = base64.b64decode(re.sub(rb"\s+", b"", tags[b"b"]))
    public = publics[(tags[b"d"].decode(), tags[b"s"].decode())]
    try:
        if isinstance(public, rsa.RSAPublicKey):
            prehashed = utils.Prehashed(hashes.SHA256())
            public.verify(signature, hasher.digest(), padding.PKCS1v15(), prehashed)
        else:
            public.verify(signature, hasher.digest())
    except InvalidSignature:
        return False
    return True


def signature_fields(message):
    """The DKIM-Signature fields of ``message`` as raw text, top to bottom."""
    text = message.decode("utf-8").replace("\r\n", "\n")
    return re.findall(r"^DKIM-Signature:.*\n(?:[ \t].*\n)*", text, flags=re.MULTILINE)


def tag(field, name):
    unfolded = re.sub(r"\n[ \t]", " ", field)
    return re.search(rf"[ ;]{name}=([^;]*)", unfolded).group(1).replace(" ", "")


# --- verification by dkimpy -------------------------------------------------------------------


@pytest.mark.parametrize("style", ["crlf", "lf"])
@pytest.mark.parametrize("which", ["rsa", "ed25519", "both"])
def test_dkimpy_verifies_each_algorithm_and_both_together(which, style):
    keys = {"rsa": [rsa_key()], "ed25519": [ed_key()], "both": both_keys()}[which]
    message = MESSAGE if style == "crlf" else lf(MESSAGE)
    signed = d.sign(message, keys, now=NOW)
    assert signed.endswith(message)
    assert dkimpy_results(signed) == [True] * len(keys)
    assert strict_results(signed) == [True] * len(keys)


def test_dkimpy_looks_up_exactly_the_published_record_names():
    dns = Dns(both_keys())
    signed = d.sign(MESSAGE, both_keys(), now=NOW)
    assert [dkim.DKIM(signed).verify(idx=i, dnsfunc=dns) for i in range(2)] == [True, True]
    assert dns.queries == [
        b"r2024._domainkey.shop.example.com.",
        b"e2024._domainkey.shop.example.com.",
    ]


def test_rsa_signature_comes_first_then_ed25519():
    fields = signature_fields(d.sign(MESSAGE, both_keys(), now=NOW))
    assert [tag(f, "a") for f in fields] == ["rsa-sha256", "ed25519-sha256"]
    assert [tag(f, "s") for f in fields] == ["r2024", "e2024"]


def test_signature_tags():
    rsa_field, ed_field = signature_fields(d.sign(MESSAGE, both_keys(), now=NOW))
    assert tag(rsa_field, "v") == "1"
    assert tag(rsa_field, "c") == "relaxed/relaxed"
    assert tag(rsa_field, "d") == "shop.example.com"
    assert tag(rsa_field, "t") == str(NOW)
    assert tag(rsa_field, "h") == (
        "from:from:to:subject:date:message-id:mime-version:content-type"
        ":list-unsubscribe:list-unsubscribe-post:feedback-id"
    )
    assert tag(rsa_field, "bh") == tag(ed_field, "bh")  # one body hash for both
    assert " l=" not in rsa_field and ";l=" not in rsa_field
    assert len(base64.b64decode(tag(rsa_field, "b"))) == 256
    assert len(base64.b64decode(tag(ed_field, "b"))) == 64


def test_headers_argument_chooses_and_orders_the_signed_fields():
    signed = d.sign(MESSAGE, both_keys(), headers=["Subject", "FROM", "x-absent"], now=NOW)
    assert tag(signature_fields(signed)[0], "h") == "subject:from:from"
    assert dkimpy_results(signed) == [True, True]
    assert dkimpy_results(signed.replace(b"X-Mailer: Rapport", b"X-Mailer: Other")) == [True] * 2
    assert dkimpy_results(signed.replace(b"Feedback-ID: 42", b"Feedback-ID: 43")) == [True] * 2


def test_every_instance_of_a_repeated_field_is_signed():
    message = MESSAGE.replace(b"X-Mailer: Rapport\r\n", b"X-Tag: one\r\nX-Tag: two\r\n")
    signed = d.sign(message, both_keys(), headers=["from", "x-tag"], now=NOW)
    assert tag(signature_fields(signed)[0], "h") == "from:from:x-tag:x-tag"
    assert dkimpy_results(signed) == [True, True]
    assert dkimpy_results(signed.replace(b"X-Tag: one", b"X-Tag: uno")) == [False, False]


def test_default_headers_cover_what_the_product_sends():
    for name in (
        "from",
        "to",
        "subject",
        "date",
        "message-id",
        "mime-version",
        "content-type",
        "list-unsubscribe",
        "list-unsubscribe-post",
        "reply-to",
        "feedback-id",
    ):
        assert name in d.DEFAULT_SIGNED_HEADERS


# --- message shapes --------------------------------------------------------------------------


@pytest.mark.parametrize("style", ["crlf", "lf"])
def test_added_fields_use_the_message_line_ending_and_stay_within_78_columns(style):
    message = MESSAGE if style == "crlf" else lf(MESSAGE)
    signed = d.sign(message, both_keys(), now=NOW)
    added = signed[: len(signed) - len(message)]
    if style == "crlf":
        assert added.count(b"\n") == added.count(b"\r\n") > 4
    else:
        assert b"\r" not in added and added.count(b"\n") > 4
    assert all(len(line) <= 78 for line in added.decode().splitlines())


def test_long_domain_and_selector_fold_and_verify():
    key = d.generate_key(
        "mail.a-shop-with-a-rather-long-domain-name.example.com",
        "rapport-2024-02-campaigns",
        d.ED25519_SHA256,
    )
    signed = d.sign(MESSAGE, [key], now=NOW)
    field = signature_fields(signed)[0]
    assert field.count("\n") >= 5
    assert all(len(line) <= 78 for line in field.splitlines())
    assert dkimpy_results(signed, [key]) == [True]
    assert strict_results(signed, [key]) == [True]


def test_non_ascii_body_and_raw_utf8_headers():
    message = (
        "From: 商店 <shop@example.com>\r\n"
        "To: =?utf-8?b?5p2O5aic?= <li.na@example.org>\r\n"
        "Subject: 春节快乐 — 20%  off\r\n"
        "\r\n"
        "你好 李娜,\r\n  Grüße aus Zürich — naïve café ✓  \r\n"
    ).encode()
    signed = d.sign(message, both_keys(), now=NOW)
    assert dkimpy_results(signed) == [True, True]
    tampered = signed.replace("Zürich".encode(), b"Zurich")
    assert dkimpy_results(tampered) == [False, False]


def test_long_folded_headers():
    recipients = ",\r\n ".join(f"Person {i} <p{i}@example.org>" for i in range(40))
    message = MESSAGE.replace(
        b"To: =?utf-8?q?Li_Na?= <li.na@example.org>", f"To: {recipients}".encode()
    )
    message = message.replace(b" spring  sale", b"\r\n\t spring\r\n  sale" * 5)
    signed = d.sign(message, both_keys(), now=NOW)
    assert dkimpy_results(signed) == [True, True]
    assert strict_results(signed) == [True, True]
    assert dkimpy_results(signed.replace(b"p39@", b"p93@")) == [False, False]


@pytest.mark.parametrize("style", ["crlf", "lf"])
def test_trailing_blank_lines_in_the_body(style):
    message = MESSAGE + b"\r\n  \r\n\t\r\n\r\n"
    message = message if style == "crlf" else lf(message)
    signed = d.sign(message, both_keys(), now=NOW)
    assert dkimpy_results(signed) == [True, True]
    eol = b"\r\n" if style == "crlf" else b"\n"
    # relaxed ignores empty lines at the end, so adding or removing them keeps the signature
    assert dkimpy_results(signed + eol * 3) == [True, True]
    assert dkimpy_results(signed.rstrip(b"\r\n \t") + eol) == [True, True]
    # but the signature still covers the text before them
    assert dkimpy_results(signed.rstrip(b"\r\n \t") + b"!" + eol) == [False, False]


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\r\n",
        b"\r\n\r\n \r\n",
        b"  \t ",
        b"one line without an ending",
        b"trailing spaces without an ending  \t ",
        b"\ttab start\r\n  two  spaces \t\r\nx",
    ],
)
@pytest.mark.parametrize("style", ["crlf", "lf"])
def test_empty_blank_and_unterminated_bodies(body, style):
    message = b"From: a@example.com\r\nSubject: x\r\n\r\n" + body
    message = message if style == "crlf" else lf(message)
    signed = d.sign(message, both_keys(), now=NOW)
    assert dkimpy_results(signed) == [True, True]
    assert strict_results(signed) == [True, True]
    if body and not body.endswith(b"\n"):  # SMTP would add the ending; sign() adds it first
        assert signed.endswith(message + (b"\r\n" if style == "crlf" else b"\n"))


def test_message_without_a_body():
    for message in (b"From: a@example.com\r\nSubject: x\r\n", b"From: a@example.com"):
        signed = d.sign(message, both_keys(), now=NOW)
        assert signed.endswith(message)
        assert dkimpy_results(signed) == [True, True]


def test_mixed_line_endings_are_canonicalised_like_crlf():
    message = MESSAGE.replace(b"Date: Mon", b"X-A: 1\nDate: Mon").replace(b"soon\r\n", b"soon\n")
    signed = d.sign(message, both_keys(), now=NOW)
    assert dkimpy_results(signed) == [True, True]
    assert dkimpy_results(signed.replace(b"\n", b"\r\n").replace(b"\r\r", b"\r")) == [True] * 2


@pytest.mark.parametrize("style", ["crlf", "lf"])
def test_changes_relaxed_canonicalisation_tolerates(style):
    """What relays do to whitespace, case and folding must not break the signatures."""
    message = MESSAGE if style == "crlf" else lf(MESSAGE)
    eol = b"\r\n" if style == "crlf" else b"\n"
    signed = d.sign(message, both_keys(), now=NOW)
    relayed = (
        signed.replace(b"Subject: =?utf", b"SUBJECT:\t =?utf")
        .replace(b"spring  sale", b"spring" + eol + b"\tsale")
        .replace(b"starts   today.", b"starts today.  \t")
        .replace(b"Hello ", b"Hello\t\t")
        .replace(b"See you soon", b"See you  soon ")
    )
    assert relayed != signed
    assert dkimpy_results(relayed) == [True, True]
    assert strict_results(relayed) == [True, True]


# --- tampering --------------------------------------------------------------------------------


@pytest.mark.parametrize("style", ["crlf", "lf"])
@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b"See you soon", b"See you later"),  # body
        (b"starts   today", b"starts   tomorrow"),  # body
        (b"spring  sale", b"winter  sale"),  # subject
        (b"li.na@example.org", b"li.na@example.net"),  # To
        (b"One-Click", b"One-Clack"),  # List-Unsubscribe-Post
    ],
)
def test_changes_after_signing_fail(old, new, style):
    message = MESSAGE if style == "crlf" else lf(MESSAGE)
    signed = d.sign(message, both_keys(), now=NOW)
    assert old in signed
    tampered = signed.replace(old, new)
    assert dkimpy_results(tampered) == [False, False]
    assert strict_results(tampered) == [False, False]


@pytest.mark.parametrize("where", ["top", "bottom"])
def test_a_second_from_added_after_signing_fails_because_from_is_oversigned(where):
    signed = d.sign(MESSAGE, both_keys(), now=NOW)
    forged = b"From: ceo@shop.example.com\r\n"
    if where == "top":
        tampered = forged + signed
    else:
        head, _, body = signed.partition(b"\r\n\r\n")
        tampered = head + b"\r\n" + forged + b"\r\n" + body
    for field in signature_fields(signed):
        assert tag(field, "h").split(":").count("from") == 2
    assert strict_results(signed) == [True, True]
    assert strict_results(tampered) == [False, False]  # only oversigning catches this here
    assert dkimpy_results(tampered) == [False, False]


def test_an_added_dkim_signature_or_unsigned_field_does_not_break_ours():
    signed = d.sign(MESSAGE, both_keys(), now=NOW)
    resigned = d.sign(b"X-Relay: yes\r\n" + signed, [ed_key()], now=NOW + 60)
    assert dkimpy_results(resigned) == [True, True, True]


# --- keys and DNS records ---------------------------------------------------------------------


def test_dns_records():
    rsa_name, rsa_value = d.dns_record(rsa_key())
    ed_name, ed_value = d.dns_record(ed_key())
    assert rsa_name == "r2024._domainkey.shop.example.com"
    assert ed_name == "e2024._domainkey.shop.example.com"
    assert rsa_value.startswith("v=DKIM1; k=rsa; p=MII")
    assert ed_value.startswith("v=DKIM1; k=ed25519; p=")
    raw = base64.b64decode(ed_value.rpartition("p=")[2], validate=True)
    private = serialization.load_pem_private_key(ed_key().private_key_pem, password=None)
    public = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    assert raw == public and len(raw) == 32  # RFC 8463: the bare key, not SubjectPublicKeyInfo


def test_split_txt():
    _, value = d.dns_record(rsa_key())
    chunks = d.split_txt(value)
    assert len(value) > 255 and len(chunks) == 2
    assert all(len(c) <= 255 for c in chunks) and len(chunks[0]) == 255
    assert "".join(chunks) == value
    assert d.split_txt("short") == ["short"]
    assert d.split_txt("") == [""]
    assert d.split_txt("abcdefg", limit=3) == ["abc", "def", "g"]


def test_keys_round_trip_through_their_pem():
    for key in both_keys():
        again = d.DkimKey(key.domain, key.selector, key.algorithm, key.private_key_pem)
        assert again == key
        assert d.dns_record(again) == d.dns_record(key)
        assert "PRIVATE" not in repr(key)


def test_pem_is_parsed_once_per_key_not_per_message(monkeypatch):
    calls = []
    real = serialization.load_pem_private_key

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(serialization, "load_pem_private_key", counting)
    d._load_private_key.cache_clear()
    keys = [d.DkimKey(k.domain, k.selector, k.algorithm, k.private_key_pem) for k in both_keys()]
    for i in range(5):
        d.sign(MESSAGE.replace(b"<1.", f"<{i}.".encode()), keys, now=NOW)
        d.DkimKey(keys[0].domain, keys[0].selector, keys[0].algorithm, keys[0].private_key_pem)
    assert len(calls) == 2


@pytest.mark.parametrize(
    ("domain", "selector", "algorithm"),
    [
        ("shop example.com", "s1", d.RSA_SHA256),
        ("example.com; s=evil", "s1", d.RSA_SHA256),
        ("example.com", "s1\r\nBcc: x@y", d.RSA_SHA256),
        ("bücher.example", "s1", d.RSA_SHA256),
        ("example.com", "", d.RSA_SHA256),
        ("example.com", "s1", "rsa-sha1"),
    ],
)
def test_bad_key_identities_are_refused(domain, selector, algorithm):
    with pytest.raises(ValueError, match="DKIM"):
        d.DkimKey(domain, selector, algorithm, rsa_key().private_key_pem)


def test_key_must_match_its_algorithm_and_be_usable():
    with pytest.raises(ValueError, match="does not match"):
        d.DkimKey("example.com", "s1", d.ED25519_SHA256, rsa_key().private_key_pem)
    with pytest.raises(ValueError, match="does not match"):
        d.DkimKey("example.com", "s1", d.RSA_SHA256, ed_key().private_key_pem)
    with pytest.raises(ValueError, match="PEM"):
        d.DkimKey("example.com", "s1", d.RSA_SHA256, b"-----BEGIN PRIVATE KEY-----\nxx\n")
    private = serialization.load_pem_private_key(rsa_key().private_key_pem, password=None)
    encrypted = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    )
    with pytest.raises(ValueError, match="unencrypted"):
        d.DkimKey("example.com", "s1", d.RSA_SHA256, encrypted)
    with pytest.raises(ValueError, match="algorithm"):
        d.generate_key("example.com", "s1", "rsa-sha1")


# --- refusals, purity, threads ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "kwargs", "error"),
    [
        (b"To: a@example.com\r\n\r\nhi\r\n", {}, "no From"),
        (MESSAGE, {"headers": ["to", "subject"]}, "From field to be signed"),
        (MESSAGE, {"headers": ["from", "x:y"]}, "not a header field name"),
        (MESSAGE.replace(b"See you", b"See\ryou"), {}, "bare CR"),
        (b" folded\r\nFrom: a@example.com\r\n\r\n", {}, "continuation"),
        (b"From: a@example.com\r\nnot a field\r\n\r\n", {}, "not a header field"),
        (b"\r\nFrom: a@example.com\r\n", {}, "no From"),
    ],
)
def test_unsignable_input_is_refused(message, kwargs, error):
    with pytest.raises(ValueError, match=error):
        d.sign(message, both_keys(), now=NOW, **kwargs)


def test_signing_needs_a_key():
    with pytest.raises(ValueError, match="at least one"):
        d.sign(MESSAGE, [], now=NOW)


def test_sign_is_a_pure_function_of_its_inputs():
    first = d.sign(MESSAGE, both_keys(), now=NOW)
    assert d.sign(MESSAGE, both_keys(), now=NOW) == first
    assert d.sign(MESSAGE, both_keys(), now=NOW + 1) != first


def test_default_timestamp_is_now():
    before = int(time.time())
    field = signature_fields(d.sign(MESSAGE, [ed_key()]))[0]
    assert before <= int(tag(field, "t")) <= int(time.time())


def test_threads_sign_concurrently_with_the_same_results():
    messages = [MESSAGE.replace(b"<1.", f"<{i}.".encode()) for i in range(40)]
    serial = [d.sign(m, both_keys(), now=NOW) for m in messages]
    with ThreadPoolExecutor(max_workers=8) as pool:
        parallel = list(pool.map(lambda m: d.sign(m, both_keys(), now=NOW), messages))
    assert parallel == serial


# --- properties -------------------------------------------------------------------------------

_TEXT = st.text(
    st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\x7f")
    | st.sampled_from([" ", "\t"]),
    max_size=60,
)
_FIELD_NAMES = st.sampled_from(
    ["To", "Subject", "Reply-To", "Date", "Message-ID", "Content-Type", "X-Campaign", "Cc"]
)


@st.composite
def _header_value(draw):
    """A value, possibly folded: pieces joined by a line break and at least one space or tab."""
    pieces = draw(st.lists(_TEXT, min_size=1, max_size=4))
    folds = draw(st.lists(st.sampled_from(["\n ", "\n\t", "\n  "]), min_size=len(pieces) - 1))
    return pieces[0] + "".join(fold + piece for fold, piece in zip(folds, pieces[1:], strict=False))


@st.composite
def _messages(draw):
    eol = draw(st.sampled_from(["\r\n", "\n"]))
    fields = [("From", draw(_header_value()))]
    fields += draw(st.lists(st.tuples(_FIELD_NAMES, _header_value()), max_size=6))
    draw(st.randoms()).shuffle(fields)
    head = "".join(f"{name}:{value}\n" for name, value in fields)
    lines = draw(st.lists(_TEXT, max_size=8))
    body = "\n".join(lines) + draw(st.sampled_from(["", "\n", "\n\n", "\n \n\t\n"]))
    return (head + "\n" + body).replace("\n", eol).encode()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(message=_messages(), now=st.integers(0, NOW))
def test_property_dkimpy_verifies_every_signature(message, now):
    signed = d.sign(message, both_keys(), now=now)
    assert signed.startswith(b"DKIM-Signature:")
    assert dkimpy_results(signed) == [True, True]
    assert strict_results(signed) == [True, True]


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(_TEXT, max_size=10), tail=st.sampled_from(["", "\r\n", "\r\n \r\n\r\n"]))
def test_property_body_canonicalisation_matches_dkimpy(lines, tail):
    body = ("\r\n".join(lines) + "\r\n" + tail).encode()
    expected = Relaxed.canonicalize_body(body)
    assert d._canonical_body(body) == expected
    assert d._canonical_body(lf(body)) == expected
