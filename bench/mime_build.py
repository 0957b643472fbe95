"""Benchmark: MIME assembly of one personalised message against ``email.message.EmailMessage``.

Run: ``.venv/bin/python bench/mime_build.py [--messages N]``. Each sample is a 10 KB HTML part
(a CSS-inlined newsletter: long lines, many ``=``, URLs) and a 4 KB plain-text part, in English
(quoted-printable, with the odd ’ and ·), in Chinese (both parts base64) and in Chinese with
little text between the markup, like the library's newsletter (HTML quoted-printable, with a
Chinese character every few bytes: the slowest case).
Measured per message, best of five rounds, in the same run:

- **build_mime**: ``rapport.delivery.mime.build_mime`` (a new boundary per message);
- **email_message**: the same headers and parts through ``EmailMessage`` with the SMTP policy,
  ``set_content`` / ``add_alternative`` and ``as_bytes()``, as ``delivery.compose`` does.

Prints JSON ``{sample: {"us_per_msg", "email_message_us_per_msg", "ratio", "bytes"}}``
(target: ``us_per_msg`` ≤ 100).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from rapport.delivery.mime import OutgoingMessage, build_mime  # noqa: E402

HTML_SIZE = 10 * 1024
TEXT_SIZE = 4 * 1024
_CELL = (
    '<tr><td class="story" style="padding: 16px 24px; color: #1f2937; font-family: Helvetica, '
    'Arial, sans-serif; font-size: 16px; line-height: 1.5">'
    '<h2 style="font-size: 20px; margin: 0 0 8px; color: #111827">{title}</h2>'
    '<p style="margin: 0 0 12px">{body}</p><p style="margin: 0"><a href="https://shop.example.com'
    '/stories/{n}?utm_source=newsletter&amp;utm_medium=email&amp;utm_campaign=spring" '
    'style="color: #2563eb; text-decoration: underline">{more}</a></p></td></tr>\n'
)
_CELL_KEYS = ("title", "body", "more")
_EN = {
    "name": "Anna Müller",
    "subject": "Anna, this month’s picks",
    "title": "What we’re testing this season",
    "body": "Our team spent the season testing gear in the mountains and by the sea, and we "
    "came back with notes on what lasts, what travels well and what is worth your money "
    "this year · no sponsored picks.",
    "more": "Read more",
    "para": "Our team spent the season testing gear in the mountains and by the sea, and we "
    "came back with notes on what lasts, what travels well and what’s worth your money "
    "this year. Read more: https://shop.example.com/stories/{n}?utm_source=newsletter\n\n",
}
_ZH = {
    "name": "李娜",
    "subject": "李娜，本月精选",
    "title": "本季我们在测试什么",
    "body": "我们的团队在山里和海边度过了一个季节，认真测试每一件装备，带回了关于耐用性、便携性和性价比的"
    "详细笔记。没有任何赞助推荐，只有真实的使用感受。",
    "more": "阅读全文",
    "para": "我们的团队在山里和海边度过了一个季节，认真测试每一件装备，带回了关于耐用性、便携性和性价比"
    "的详细笔记。没有任何赞助推荐，只有真实的使用感受。阅读全文：https://shop.example.com/s/{n}\n\n",
}

_ZH_MARKUP = {**_ZH, "title": "本季看点", "body": "新系列已经正式上架。", "more": "阅读全文"}


def _fill(size: int, piece: Callable[[int], str]) -> str:
    """Pieces until ``size`` UTF-8 bytes, cut back to exactly that many (whole characters)."""
    out, n = "", 0
    while len(out.encode()) < size:
        n += 1
        out += piece(n)
    return out.encode()[:size].decode("utf-8", "ignore")


def sample(words: dict[str, str]) -> OutgoingMessage:
    head = '<!DOCTYPE html><html><body style="margin: 0; background: #f3f4f6">\n<table>\n'
    html = head + _fill(
        HTML_SIZE - len(head), lambda n: _CELL.format(n=n, **{k: words[k] for k in _CELL_KEYS})
    )
    text = _fill(TEXT_SIZE, lambda n: words["para"].format(n=n))
    return OutgoingMessage(
        from_name="Rapport Outdoor",
        from_address="news@shop.example.com",
        to_name=words["name"],
        to_address="anna.mueller@example.org",
        subject=words["subject"],
        html=html,
        text=text,
        message_id="<123456.9f8e7d6c5b4a@shop.example.com>",
        date=datetime.now(UTC),
        list_unsubscribe_url="https://shop.example.com/u/123456/8b1f0c5e9d2a7c3b",
        list_unsubscribe_mailto="unsubscribe+123456@shop.example.com",
        extra_headers=(("Feedback-ID", "42:spring:rapport"), ("X-Rapport-Delivery", "123456")),
    )


def email_message(message: OutgoingMessage) -> bytes:
    """The same message the standard library's way."""
    mail = EmailMessage(policy=SMTP)
    mail["From"] = Address(message.from_name, addr_spec=message.from_address)
    mail["To"] = Address(message.to_name, addr_spec=message.to_address)
    mail["Subject"] = message.subject
    mail["Date"] = message.date
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


def per_message_us(
    build: Callable[[OutgoingMessage], bytes], message: OutgoingMessage, n: int
) -> float:
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n):
            build(message)
        best = min(best, time.perf_counter() - start)
    return best / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=2000)
    args = parser.parse_args()
    results = {}
    samples = (("english", _EN), ("chinese", _ZH), ("chinese_markup", _ZH_MARKUP))
    for name, words in samples:
        message = sample(words)
        ours = per_message_us(build_mime, message, args.messages)
        theirs = per_message_us(email_message, message, max(1, args.messages // 20))
        results[name] = {
            "us_per_msg": round(ours, 1),
            "email_message_us_per_msg": round(theirs, 1),
            "ratio": round(theirs / ours, 1),
            "bytes": len(build_mime(message)),
        }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
