"""Benchmark: DKIM signing of a ~10 KB campaign message, ours against dkimpy's.

Run: ``.venv/bin/python bench/dkim_sign.py [--messages N] [--reference N]``. The message is a
multipart/alternative newsletter (quoted-printable text and HTML parts, List-Unsubscribe and
Feedback-ID headers), ~10 KB, CRLF. Each run signs a fresh variant per message (the recipient
and Message-ID change) so nothing is cached between messages except the parsed keys. Measured,
in µs per message:

- **both**: ``sign()`` with an RSA-2048 and an Ed25519 key (what a send does);
- **rsa**, **ed25519**: each key alone;
- **canonicalise**: splitting, header selection and the body hash, without any signature;
- **dkimpy_rsa**, **dkimpy_ed25519**: ``dkim.sign()`` of the reference implementation with the
  same keys and relaxed/relaxed, over ``--reference`` messages (it is slow).

Prints JSON; the send pipeline's budget is ~1,300 µs per message per core for everything
(≥1,500 messages/s on 2 cores), so ``both`` should stay a small fraction of it.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from cryptography.hazmat.primitives.serialization import (  # noqa: E402
    Encoding,
    NoEncryption,
    PrivateFormat,
)

from rapport.delivery import dkim as ours  # noqa: E402

_PARAGRAPH = (
    "Our team spent the season testing gear in the mountains and by the sea, and we came back "
    "with notes on what lasts, what travels well and what is worth your money this year."
)


def _message(index: int) -> bytes:
    text = "\r\n".join([_PARAGRAPH] * 22)
    html = "\r\n".join(
        f'  <tr><td class=3D"story"><p>{_PARAGRAPH}</p></td></tr>' for _ in range(22)
    )
    lines = [
        'From: "Trail & Sea Outfitters" <news@shop.example.com>',
        f"To: =?utf-8?q?Li_Na?= <contact{index}@example.org>",
        "Subject: =?utf-8?b?5pil6IqC5b+r5LmQIOKAlCAyMCUgb2Zm?=",
        "Date: Mon, 05 Feb 2024 09:30:00 +0000",
        f"Message-ID: <{index}.campaign-42@shop.example.com>",
        "MIME-Version: 1.0",
        "List-Unsubscribe: <https://shop.example.com/u/abcdef0123456789>,",
        " <mailto:unsubscribe@shop.example.com?subject=abcdef0123456789>",
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
        "Feedback-ID: 42:campaign:rapport:shop",
        'Content-Type: multipart/alternative; boundary="==b=="',
        "",
        "--==b==",
        'Content-Type: text/plain; charset="utf-8"',
        "Content-Transfer-Encoding: quoted-printable",
        "",
        text,
        "--==b==",
        'Content-Type: text/html; charset="utf-8"',
        "Content-Transfer-Encoding: quoted-printable",
        "",
        "<html><body><table>",
        html,
        "</table></body></html>",
        "--==b==--",
        "",
    ]
    return "\r\n".join(lines).encode("utf-8")


def _per_message(messages: list[bytes], work: Callable[[bytes], object]) -> float:
    started = time.perf_counter()
    for message in messages:
        work(message)
    return (time.perf_counter() - started) / len(messages) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--reference", type=int, default=200, help="messages for dkimpy (0: skip)")
    args = parser.parse_args()

    rsa = ours.generate_key("shop.example.com", "r2024", ours.RSA_SHA256)
    ed = ours.generate_key("shop.example.com", "e2024", ours.ED25519_SHA256)
    messages = [_message(i) for i in range(args.messages)]
    now = 1_707_125_400
    ours.sign(messages[0], [rsa, ed], now=now)  # warm the key cache, as a long-running sender is

    def canonicalise(message: bytes) -> object:
        head, body = ours._split(message)
        names = ours._header_plan(ours.DEFAULT_SIGNED_HEADERS)
        ours._select_headers(ours._parse_fields(head), names)
        return ours.hashlib.sha256(ours._canonical_body(body)).digest()

    result: dict[str, object] = {
        "message_bytes": len(messages[0]),
        "messages": args.messages,
        "both_us": _per_message(messages, lambda m: ours.sign(m, [rsa, ed], now=now)),
        "rsa_us": _per_message(messages, lambda m: ours.sign(m, [rsa], now=now)),
        "ed25519_us": _per_message(messages, lambda m: ours.sign(m, [ed], now=now)),
        "canonicalise_us": _per_message(messages, canonicalise),
    }
    if args.reference:
        result.update(_reference(messages[: args.reference], rsa, ed))
    print(json.dumps({k: round(v, 1) if isinstance(v, float) else v for k, v in result.items()}))


def _reference(messages: list[bytes], rsa: ours.DkimKey, ed: ours.DkimKey) -> dict[str, float]:
    import dkim  # noqa: PLC0415 - the reference is optional and only needed here

    def with_dkimpy(key: ours.DkimKey) -> Callable[[bytes], object]:
        private = key.private_key_pem
        if key.algorithm == ours.ED25519_SHA256:  # dkimpy takes the base64 of the raw seed
            loaded = ours._load_private_key(private)
            raw = loaded.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
            private = base64.b64encode(raw)
        return lambda m: dkim.sign(
            m,
            key.selector.encode(),
            key.domain.encode(),
            private,
            canonicalize=(b"relaxed", b"relaxed"),
            signature_algorithm=key.algorithm.encode(),
        )

    return {
        "dkimpy_rsa_us": _per_message(messages, with_dkimpy(rsa)),
        "dkimpy_ed25519_us": _per_message(messages, with_dkimpy(ed)),
    }


if __name__ == "__main__":
    main()
