"""MIME assembly: every message is parsed back with the standard library and must say exactly
what it was given; raw lines are checked against the limits of RFC 5322 and RFC 2045."""

from __future__ import annotations

import base64
import binascii
import email
import email.policy
import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from email.header import decode_header, make_header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rapport.delivery.mime import OutgoingMessage, build_mime, clean_header_text

DATE = datetime(2026, 5, 4, 9, 30, 15, 123456, tzinfo=timezone(timedelta(hours=8)))
EN_TEXT = (
    "Hi Anna,\n\nOur team spent the season testing gear in the mountains and by the sea, and "
    "we’re back with notes on what lasts. Read more: https://shop.example.com/stories/1?utm_source"
    "=newsletter&utm_medium=email&utm_campaign=spring_2026_long_campaign_name_for_tracking\n"
)
EN_HTML = (
    '<html><body style="margin: 0"><table><tr><td class="story" style="padding: 16px 24px; '
    'color: #1f2937; font-family: Helvetica, Arial, sans-serif">'
    "<p>Our team spent the season testing gear · and we’re back.</p>"
    '<a href="https://shop.example.com/stories/1?a=1&amp;b=2">Read more</a></td></tr>'
    "</table></body></html>\n"
)
ZH_TEXT = "李娜，您好！\n\n我们的团队在山里和海边度过了一个季节，认真测试每一件装备。\n" * 3
ZH_HTML = f"<html><body><p style='margin: 0 0 12px'>{ZH_TEXT}</p></body></html>\n"


def _message(**changes: object) -> OutgoingMessage:
    message = OutgoingMessage(
        from_name="Rapport Outdoor",
        from_address="news@shop.example.com",
        to_name="Anna Smith",
        to_address="anna@example.org",
        subject="Anna, this month’s picks",
        html=EN_HTML,
        text=EN_TEXT,
        message_id="<123.9f8e7d6c@shop.example.com>",
        date=DATE,
        reply_to="help@shop.example.com",
        list_unsubscribe_url="https://shop.example.com/u/123/8b1f0c5e",
        list_unsubscribe_mailto="unsubscribe+123@shop.example.com",
        extra_headers=(("Feedback-ID", "42:spring:rapport"), ("X-Rapport-Delivery", "123")),
    )
    return replace(message, **changes)  # type: ignore[arg-type]


def _parse(data: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _body(parsed: EmailMessage, subtype: str) -> str:
    part = parsed.get_body((subtype,))
    assert part is not None
    content = part.get_content()
    assert isinstance(content, str)
    return content


def _on_the_wire(text: str) -> str:
    """The newline policy: LF, CRLF and CR all become CRLF, which a parser hands back."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")


def _name(parsed: EmailMessage, field: str) -> str:
    return str(parsed[field].addresses[0].display_name)


def _raw_header(data: bytes, field: str) -> str:
    """A header as sent, folding included."""
    head = data.split(b"\r\n\r\n", 1)[0].decode("ascii")
    match = re.search(rf"^{field}:([^\r\n]*(?:\r\n[ \t][^\r\n]*)*)", head, re.MULTILINE)
    assert match is not None, field
    return match[1]


def _parts(data: bytes) -> list[tuple[str, list[bytes]]]:
    """(Content-Transfer-Encoding, raw body lines) of each part."""
    boundary = re.search(rb'boundary="([^"]+)"', data)
    assert boundary is not None
    chunks = data.split(b"\r\n--" + boundary[1])[1:-1]
    parts = []
    for chunk in chunks:
        head, body = chunk.split(b"\r\n\r\n", 1)
        encoding = re.search(rb"Content-Transfer-Encoding: (\S+)", head)
        assert encoding is not None
        parts.append((encoding[1].decode(), body.split(b"\r\n")))
    return parts


def _check_wire_format(data: bytes) -> None:
    """CRLF only, 7-bit, header lines within 78 unless one word is longer, body lines of the
    encoded parts within 76, and nothing a transport would alter."""
    assert data.isascii()
    assert b"\r" not in data.replace(b"\r\n", b"")
    assert b"\n" not in data.replace(b"\r\n", b"")
    lines = data.split(b"\r\n")
    assert max(map(len, lines)) <= 998
    head = data.split(b"\r\n\r\n", 1)[0]
    for line in head.split(b"\r\n"):
        assert len(line) <= 78 or b" " not in line.strip(), line
        assert line.strip(b" \t"), "a header line of whitespace only"
    for encoding, body in _parts(data):
        assert encoding in {"quoted-printable", "base64"}
        for line in body:
            assert len(line) <= 76, line
            assert b"=_" not in line  # so the "=_" boundary can never occur in a body
            if encoding == "quoted-printable":
                assert not line.endswith((b" ", b"\t")), line
                assert not line.startswith(b"From "), line
                assert line != b".", line
                assert re.fullmatch(rb"(?:[\t !-<>-~]|=[0-9A-F]{2})*=?", line), line


# -- The whole message -----------------------------------------------------------------------


def test_every_header_and_both_parts_come_back():
    message = _message()
    data = build_mime(message)
    parsed = _parse(data)
    _check_wire_format(data)

    assert parsed["From"].addresses[0] == Address("Rapport Outdoor", "news", "shop.example.com")
    assert parsed["To"].addresses[0] == Address("Anna Smith", "anna", "example.org")
    assert str(parsed["Reply-To"]) == "help@shop.example.com"
    assert str(parsed["Subject"]) == "Anna, this month’s picks"
    assert parsed["Date"].datetime == DATE.replace(microsecond=0)
    assert str(parsed["Message-ID"]) == "<123.9f8e7d6c@shop.example.com>"
    assert str(parsed["List-Unsubscribe"]) == (
        "<https://shop.example.com/u/123/8b1f0c5e>, <mailto:unsubscribe+123@shop.example.com>"
    )
    assert str(parsed["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    assert str(parsed["Feedback-ID"]) == "42:spring:rapport"
    assert str(parsed["X-Rapport-Delivery"]) == "123"
    assert str(parsed["MIME-Version"]) == "1.0"

    assert parsed.get_content_type() == "multipart/alternative"
    parts = list(parsed.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert {p.get_content_charset() for p in parts} == {"utf-8"}
    assert _body(parsed, "plain") == _on_the_wire(EN_TEXT)
    assert _body(parsed, "html") == _on_the_wire(EN_HTML)
    assert parsed.defects == []
    assert all(part.defects == [] for part in parts)


def test_each_message_gets_its_own_boundary_that_no_encoding_can_write():
    first, second = build_mime(_message()), build_mime(_message())
    boundaries = [re.search(rb'boundary="([^"]+)"', data) for data in (first, second)]
    assert boundaries[0] and boundaries[1]
    assert boundaries[0][1] != boundaries[1][1]
    assert boundaries[0][1].startswith(b"=_")


def test_optional_headers_are_left_out():
    data = build_mime(
        _message(
            reply_to=None,
            list_unsubscribe_url=None,
            list_unsubscribe_mailto=None,
            extra_headers=(),
            to_name="",
        )
    )
    parsed = _parse(data)
    assert set(parsed.keys()) == {
        "From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type",
    }  # fmt: skip
    assert _raw_header(data, "To") == " anna@example.org"


def test_one_click_unsubscribe_only_with_an_https_url():
    mailto_only = _parse(build_mime(_message(list_unsubscribe_url=None)))
    assert str(mailto_only["List-Unsubscribe"]) == "<mailto:unsubscribe+123@shop.example.com>"
    assert "List-Unsubscribe-Post" not in mailto_only

    url_only = _parse(build_mime(_message(list_unsubscribe_mailto=None)))
    assert str(url_only["List-Unsubscribe"]) == "<https://shop.example.com/u/123/8b1f0c5e>"
    assert str(url_only["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"

    given_as_uri = _message(list_unsubscribe_mailto="mailto:u@example.com?subject=unsubscribe")
    assert str(_parse(build_mime(given_as_uri))["List-Unsubscribe"]).endswith(
        ", <mailto:u@example.com?subject=unsubscribe>"
    )


def test_long_unsubscribe_header_folds_between_the_two_targets():
    url = "https://shop.example.com/unsubscribe/" + "8b1f0c5e" * 8
    data = build_mime(_message(list_unsubscribe_url=url))
    assert _raw_header(data, "List-Unsubscribe") == (
        f" <{url}>,\r\n <mailto:unsubscribe+123@shop.example.com>"
    )
    assert str(_parse(data)["List-Unsubscribe"]) == (
        f"<{url}>, <mailto:unsubscribe+123@shop.example.com>"
    )


# -- Header text ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "subject",
    [
        "李娜，本月精选 🎉",
        "🎉🎊✨",
        "Café crème – 20 % off",
        "Plain and simple",
        "=?utf-8?q?looks_encoded?= but is not",
        'Quotes "like this", back\\slashes and (parens)',
    ],
)
def test_subjects_decode_to_what_was_given(subject):
    data = build_mime(_message(subject=subject))
    assert str(_parse(data)["Subject"]) == subject
    _check_wire_format(data)


def test_long_subjects_fold_within_78_characters():
    english = "Anna, " + "this month we picked the gear that lasts and travels well " * 4
    chinese = "李娜，本月精选：" + "我们的团队在山里和海边度过了一个季节🎉" * 6
    for subject in (english.strip(), chinese):
        data = build_mime(_message(subject=subject))
        raw = _raw_header(data, "Subject")
        assert raw.count("\r\n") >= 2
        assert all(len(line) <= 78 for line in ("Subject:" + raw).split("\r\n"))
        assert str(_parse(data)["Subject"]) == subject
    assert "=?" not in _raw_header(build_mime(_message(subject=english.strip())), "Subject")


def test_a_subject_too_long_for_any_line_is_encoded():
    subject = "x" * 1200
    data = build_mime(_message(subject=subject))
    _check_wire_format(data)
    assert _raw_header(data, "Subject").startswith(" =?utf-8?q?xxx")
    assert str(_parse(data)["Subject"]) == subject


def test_encoded_words_are_short_and_never_split_a_character():
    subject = "混合 mixed é text 🎉 " * 12
    for field, data in [
        ("Subject", build_mime(_message(subject=subject))),
        ("To", build_mime(_message(to_name=subject))),
    ]:
        words = re.findall(r"=\?utf-8\?([bq])\?([^?]*)\?=", _raw_header(data, field))
        assert len(words) > 3
        for kind, payload in words:
            assert len(payload) + 12 <= 75
            raw = (
                base64.b64decode(payload)
                if kind == "b"
                else binascii.a2b_qp(payload.replace("_", " "))
            )
            raw.decode("utf-8")  # each word decodes on its own: no character was cut


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("Li, Na", '"Li, Na" <anna@example.org>'),
        ('Anna "Nan" Smith', '"Anna \\"Nan\\" Smith" <anna@example.org>'),
        ("J. R. Smith", '"J. R. Smith" <anna@example.org>'),
        ("a\\b", '"a\\\\b" <anna@example.org>'),
        ("O'Brien", "O'Brien <anna@example.org>"),
        ("李娜", "=?utf-8?b?5p2O5aic?= <anna@example.org>"),
        ("Zoë (Sales)", None),
        ("=?utf-8?q?x?=", None),
        ("🎉 Party", None),
    ],
)
def test_display_names_are_quoted_or_encoded_as_needed(name, raw):
    data = build_mime(_message(to_name=name, from_name=name))
    parsed = _parse(data)
    assert _name(parsed, "To") == name
    assert _name(parsed, "From") == name
    if raw is not None:
        assert _raw_header(data, "To") == " " + raw


def test_long_display_names_fold_and_decode():
    ascii_name = "The Rapport Outdoor Shop Spring Newsletter Team, Customer Care Department"
    data = build_mime(_message(from_name=ascii_name))
    assert "=?" not in _raw_header(data, "From")
    assert _name(_parse(data), "From") == ascii_name
    _check_wire_format(data)

    unbreakable = "x" * 80  # too long for a line: encoded words, which may be cut anywhere
    data = build_mime(_message(to_name=unbreakable))
    _check_wire_format(data)
    phrase = _raw_header(data, "To").rsplit("<", 1)[0].strip()
    assert phrase.count("=?utf-8?q?") == 2
    assert str(make_header(decode_header(phrase))) == unbreakable

    chinese_name = "雷帕特户外用品商店春季通讯团队客户服务部门全体员工敬上"
    data = build_mime(_message(to_name=chinese_name))
    _check_wire_format(data)
    phrase = _raw_header(data, "To").rsplit("<", 1)[0].strip()
    assert phrase.count("=?utf-8?") == 2
    # RFC 2047 decoders join adjacent encoded words; the stdlib's newer header parser puts a
    # space between them in a display name (its own EmailMessage output does the same).
    assert str(make_header(decode_header(phrase))) == chinese_name
    assert _name(_parse(data), "To").replace(" ", "") == chinese_name


@pytest.mark.parametrize(
    "evil",
    [
        "Hi\r\nBcc: victim@example.com",
        "Hi\nBcc: victim@example.com",
        "Hi\rBcc: victim@example.com",
        "Hi\u2028Bcc: victim@example.com",
        "Hi\x85Bcc: victim@example.com",
        "Hi\r\n\r\n<html>body</html>",
    ],
)
def test_header_injection_adds_no_header(evil):
    data = build_mime(
        _message(
            subject=evil,
            to_name=evil,
            from_name=evil,
            extra_headers=(("X-Rapport-Delivery", evil),),
        )
    )
    parsed = _parse(data)
    assert "Bcc" not in parsed
    assert list(parsed.keys()) == [
        "From", "To", "Reply-To", "Subject", "Date", "Message-ID", "List-Unsubscribe",
        "List-Unsubscribe-Post", "X-Rapport-Delivery", "MIME-Version", "Content-Type",
    ]  # fmt: skip
    cleaned = clean_header_text(evil)
    assert "\n" not in cleaned and "\r" not in cleaned
    assert str(parsed["Subject"]) == cleaned
    assert _name(parsed, "To") == cleaned
    assert str(parsed["X-Rapport-Delivery"]) == cleaned
    assert _body(parsed, "plain") == _on_the_wire(EN_TEXT)


def test_clean_header_text():
    assert clean_header_text("  Hi\r\n\tthere\x00! ") == "Hi there !"
    assert clean_header_text("Anna  Smith") == "Anna Smith"
    assert clean_header_text("\u3000李娜\u3000") == "李娜"
    assert clean_header_text("Zoë") == "Zoë"


@pytest.mark.parametrize(
    "address",
    [
        "anna@example.org\r\nBcc: victim@example.com",
        "anna@example.org\n",
        "anna smith@example.org",
        "<anna@example.org>",
        "anna@example.org, victim@example.com",
        "anna@exämple.org",
        "änna@example.org",
        "anna",
        "",
        "a..b@example.org",
        "anna@example.org>",
        "x" * 250 + "@example.org",
    ],
)
def test_unusable_addresses_are_refused(address):
    for field in ("to_address", "from_address", "reply_to")[: 3 if address else 2]:
        with pytest.raises(ValueError, match="not a plain ASCII email address"):
            build_mime(_message(**{field: address}))


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"message_id": "<123 456@example.com>"}, "Message-ID"),
        ({"message_id": "<123@example.com>\r\nBcc: x@y"}, "Message-ID"),
        ({"message_id": "123"}, "Message-ID"),
        ({"message_id": "<a@b@c>"}, "Message-ID"),
        ({"date": datetime(2026, 5, 4, 9, 30)}, "timezone-aware"),  # noqa: DTZ001
        ({"list_unsubscribe_url": "ftp://shop.example.com/u/1"}, "List-Unsubscribe URL"),
        ({"list_unsubscribe_url": "https://shop.example.com/u/1 x"}, "List-Unsubscribe URL"),
        ({"list_unsubscribe_url": "https://shop.example.com/u/1>, <x"}, "List-Unsubscribe URL"),
        ({"list_unsubscribe_url": "https://shop.example.com/ü"}, "List-Unsubscribe URL"),
        ({"list_unsubscribe_url": "https://x/" + "a" * 900}, "List-Unsubscribe URL"),
        ({"list_unsubscribe_mailto": "u@example.com\r\nBcc: x@y"}, "List-Unsubscribe mailto"),
        ({"extra_headers": (("Bcc", "victim@example.com"),)}, "extra header"),
        ({"extra_headers": (("content-type", "text/plain"),)}, "extra header"),
        ({"extra_headers": (("Content-Disposition", "attachment"),)}, "extra header"),
        ({"extra_headers": (("X Bad", "1"),)}, "extra header"),
        ({"extra_headers": (("X-Bad:", "1"),)}, "extra header"),
        ({"extra_headers": (("X-Bad\r\nBcc", "1"),)}, "extra header"),
        ({"extra_headers": (("", "1"),)}, "extra header"),
    ],
)
def test_unusable_values_are_refused(changes, error):
    with pytest.raises(ValueError, match=error):
        build_mime(_message(**changes))


@pytest.mark.parametrize("field", ["subject", "to_name", "text", "html"])
def test_text_that_is_not_unicode_is_refused(field):
    with pytest.raises(ValueError, match="surrogate"):
        build_mime(_message(**{field: "bad \udc80 half"}))


def test_message_id_and_date_round_trip():
    data = build_mime(_message(message_id="42.abc@shop.example.com"))
    parsed = _parse(data)
    assert str(parsed["Message-ID"]) == "<42.abc@shop.example.com>"
    for offset in (timedelta(0), timedelta(hours=-5, minutes=-30), timedelta(hours=14)):
        date = DATE.replace(tzinfo=timezone(offset))
        data = build_mime(_message(date=date))
        assert _raw_header(data, "Date") == " " + format_datetime(date.replace(microsecond=0))
        assert _parse(data)["Date"].datetime == date.replace(microsecond=0)
        assert _parse(data)["Date"].datetime.utcoffset() == offset


@settings(max_examples=300, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(1970, 1, 2),  # noqa: DTZ001
        max_value=datetime(9999, 12, 30),  # noqa: DTZ001
        timezones=st.builds(
            timezone,
            st.integers(-23 * 60 - 59, 23 * 60 + 59).map(
                lambda minutes: timedelta(minutes=minutes)
            ),
        ),
    )
)
def test_date_is_written_as_format_datetime_writes_it(date):
    data = build_mime(_message(date=date))
    assert _raw_header(data, "Date") == " " + format_datetime(date.replace(microsecond=0))


# -- Bodies ---------------------------------------------------------------------------------

TRICKY_BODIES = [
    pytest.param("", id="empty"),
    pytest.param("no newline at the end", id="no-final-newline"),
    pytest.param("trailing spaces  \nand a tab\t\nend with space ", id="trailing-whitespace"),
    pytest.param("a = b\n==\n=3D is not an escape\n=\n", id="equals-signs"),
    pytest.param("line one\n.\n..\n.\nlast\n.", id="lone-dots"),
    pytest.param("From here\nFrom: header-like\n>From quoted\nFrom", id="from-lines"),
    pytest.param("https://shop.example.com/" + "a1b2c3d4e5" * 40 + "?x=1&y=2\n", id="long-url"),
    pytest.param("CRLF\r\nline\r\nendings\r\n", id="crlf"),
    pytest.param("old\rmac\rendings\r", id="cr"),
    pytest.param("mixed\r\nline\nendings\rhere\n\n\r\n", id="mixed-newlines"),
    pytest.param("controls: \x00 \x01 \x0b \x0c \x1b \x7f end\n", id="controls"),
    pytest.param("backslash \\x41 and \\u0041 stay as written\n", id="backslash"),
    pytest.param(("a" * 60 + "é\x0b\\xe9 =\n") * 80, id="many-accents-controls-backslashes"),
    pytest.param("a" * 300 + " 中文字符测试 " + "b" * 300, id="few-but-varied"),
    pytest.param(
        "".join(map(chr, [*range(9), *range(11, 13), *range(14, 32), 127])), id="all-controls"
    ),
    pytest.param("Naïve café – déjà vu · “quotes” ’\n" * 20, id="latin"),
    pytest.param(ZH_TEXT, id="chinese"),
    pytest.param("emoji 🎉👩‍👩‍👧 and ZWJ\n", id="emoji"),
    pytest.param("=_ boundary-like =_=_ text --=_x\n", id="boundary-like"),
    pytest.param("x" * 74 + " \n" + "y" * 75 + "\t\n" + "z" * 76 + " \n", id="ws-at-margin"),
    pytest.param("".join("a" * n + "=\n" for n in range(70, 80)), id="escape-at-margin"),
    pytest.param("".join("a" * n + "é\n" for n in range(68, 80)), id="utf8-at-margin"),
    pytest.param("a" * 74 + "From here\n" + "b" * 75 + "From here\n", id="from-at-margin"),
    pytest.param("a" * 75 + ".\n" + "b" * 76 + ".", id="dot-at-margin"),
]


@pytest.mark.parametrize("body", TRICKY_BODIES)
def test_bodies_decode_exactly(body):
    data = build_mime(_message(text=body, html=body))
    parsed = _parse(data)
    assert _body(parsed, "plain") == _on_the_wire(body)
    assert _body(parsed, "html") == _on_the_wire(body)
    _check_wire_format(data)


def test_newline_policy_lf_crlf_and_cr_give_the_same_bytes():
    lf = "one\ntwo\n\nthree\n"
    sent = [
        re.sub(rb"=_[0-9a-f]{32}", b"B", build_mime(_message(text=text, html=text)))
        for text in (lf, lf.replace("\n", "\r\n"), lf.replace("\n", "\r"))
    ]
    assert sent[0] == sent[1] == sent[2]
    parsed = _parse(sent[0])
    assert _body(parsed, "plain") == "one\r\ntwo\r\n\r\nthree\r\n"
    assert _body(parsed, "plain").replace("\r\n", "\n") == lf
    zh = _parse(build_mime(_message(text=ZH_TEXT)))  # base64: CRLF inside the encoding too
    assert _body(zh, "plain").replace("\r\n", "\n") == ZH_TEXT


def test_encoding_follows_the_share_of_non_ascii_text():
    def encodings(text: str, html: str) -> list[str]:
        return [encoding for encoding, _ in _parts(build_mime(_message(text=text, html=html)))]

    assert encodings(EN_TEXT, EN_HTML) == ["quoted-printable", "quoted-printable"]
    assert encodings(ZH_TEXT, ZH_HTML) == ["base64", "base64"]
    newsletter = '<td style="padding: 16px 24px; color: #1f2937">' * 20 + "本月精选" * 10
    french = "Nous avons passé la saison à tester l’équipement en montagne et à la mer.\n"
    assert encodings(french * 10, newsletter) == [
        "quoted-printable",
        "quoted-printable",
    ]
    # Chinese would be three times its UTF-8 size in quoted-printable, a third more in base64
    utf8 = _on_the_wire(ZH_TEXT).encode()
    assert len(binascii.b2a_qp(utf8)) > 2.5 * len(utf8)
    sent = b"\r\n".join(_parts(build_mime(_message(text=ZH_TEXT)))[0][1])
    assert len(sent) < 1.4 * len(utf8)


def test_quoted_printable_is_standard():
    body = "".join(str(p.values[0]) for p in TRICKY_BODIES if p.id not in {"chinese", "latin"})
    encoding, lines = _parts(build_mime(_message(text=body)))[0]
    assert encoding == "quoted-printable"
    assert binascii.a2b_qp(b"\r\n".join(lines)) == _on_the_wire(body).encode()


# -- Against the standard library -------------------------------------------------------------


def _stdlib_message(message: OutgoingMessage) -> bytes:
    mail = EmailMessage(policy=email.policy.SMTP)
    mail["From"] = Address(message.from_name, addr_spec=message.from_address)
    mail["To"] = Address(message.to_name, addr_spec=message.to_address)
    mail["Reply-To"] = message.reply_to
    mail["Subject"] = message.subject
    mail["Date"] = message.date.replace(microsecond=0)
    mail["Message-ID"] = message.message_id
    mail["List-Unsubscribe"] = (
        f"<{message.list_unsubscribe_url}>, <mailto:{message.list_unsubscribe_mailto}>"
    )
    mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    for name, value in message.extra_headers:
        mail[name] = value
    mail.set_content(message.text)
    mail.add_alternative(message.html, subtype="html")
    return mail.as_bytes()


@pytest.mark.parametrize(
    "message",
    [
        _message(),
        _message(
            from_name="雷帕特户外",
            to_name="Li, Na",
            subject="李娜，本月精选 🎉",
            text=ZH_TEXT,
            html=ZH_HTML,
        ),
        _message(to_name='Anna "Nan" Smith', subject="x" * 30 + " long" * 20, text="a\n" * 500),
    ],
)
def test_parsed_like_the_same_message_built_with_email_message(message):
    ours, theirs = _parse(build_mime(message)), _parse(_stdlib_message(message))
    skip = {"Content-Type", "Content-Transfer-Encoding"}  # boundary and encoding choice differ
    assert [k for k in ours if k not in skip] == [k for k in theirs if k not in skip]
    for key in ours:
        if key == "Content-Type":
            assert ours.get_content_type() == theirs.get_content_type()
        elif key in ("From", "To", "Reply-To"):
            assert ours[key].addresses == theirs[key].addresses
        else:
            assert str(ours[key]) == str(theirs[key]), key
    for subtype in ("plain", "html"):
        assert _body(ours, subtype) == _body(theirs, subtype)


# -- Properties -------------------------------------------------------------------------------

# What quoted-printable must get right, in lines long enough to be folded: "a" is frequent so
# that the rest lands at every column, the margin included.
_BODY_PIECES = st.sampled_from(
    ["a"] * 40
    + ["=", " ", "\t", ".", "From ", "é", "中", "🎉", "\x00", "\x7f", "_", "\\x", "Z", "f"]
    + ["\n", "\r\n", "\r", " \n", ".\n", "\nFrom ", "\n.\n"]
)
_TRICKY_TEXT = st.lists(_BODY_PIECES, max_size=600).map("".join)


# Names stay within one encoded word: the stdlib parser puts a space between two adjacent ones
# in a display name (see test_long_display_names_fold_and_decode).
@settings(max_examples=200, deadline=None)
@given(subject=st.text(), to_name=st.text(max_size=10), from_name=st.text(max_size=10))
def test_property_any_header_text_comes_back_cleaned(subject, to_name, from_name):
    data = build_mime(_message(subject=subject, to_name=to_name, from_name=from_name))
    parsed = _parse(data)
    assert str(parsed["Subject"]) == clean_header_text(subject)
    assert _name(parsed, "To") == clean_header_text(to_name)
    assert _name(parsed, "From") == clean_header_text(from_name)
    assert len(parsed.keys()) == 12
    _check_wire_format(data)


@settings(max_examples=200, deadline=None)
@given(text=st.text(), html=_TRICKY_TEXT)
def test_property_any_body_comes_back(text, html):
    data = build_mime(_message(text=text, html=html))
    parsed = _parse(data)
    assert _body(parsed, "plain") == _on_the_wire(text)
    assert _body(parsed, "html") == _on_the_wire(html)
    _check_wire_format(data)


def test_a_plain_http_unsubscribe_url_is_listed_without_one_click() -> None:
    """RFC 8058 one-click is for https only; a development install's http link still shows."""
    message = _message(list_unsubscribe_url="http://127.0.0.1:8000/e/u/1")
    parsed = _parse(build_mime(message))
    assert str(parsed["List-Unsubscribe"]).startswith("<http://127.0.0.1:8000/e/u/1>")
    assert parsed["List-Unsubscribe-Post"] is None
