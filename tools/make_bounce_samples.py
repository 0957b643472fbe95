"""Make real bounce reports with a private Postfix, for tests/delivery/bounce_samples/.

Usage: ``python tools/make_bounce_samples.py [--out DIR]``, as root, with the ``postfix`` package
(``python tools/system_packages.py postfix``); about 10 s. ``--check`` only prints what
flufl.bounce finds in the samples already there.

Hand-written bounces drift from what servers send, so the Postfix ones are made by Postfix: a
private instance (its own config, queue, log and loopback ports in a temporary folder; the system
Postfix's configuration is neither used nor changed) relays each test message to an aiosmtpd server
here that refuses the recipient as a real one would. Postfix writes its RFC 3464 report to the
message's VERP envelope sender and relays that to the same aiosmtpd server, which keeps it.
"""

from __future__ import annotations

import argparse
import ctypes
import email
import email.policy
import os
import shutil
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, localtime
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

if __package__ in (None, ""):  # run as a script: make `tools` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tools.with_postgres import free_port

OUT = Path(__file__).resolve().parent.parent / "tests" / "delivery" / "bounce_samples"
POSTFIX = "/usr/sbin/postfix"
BOUNCE_DOMAIN = "bounce.example.com"
# Seconds: Postfix retries a deferred message every second or two, warns after 1 s, gives up
# after LIFETIME.
LIFETIME = 8
TIMEOUT = 60


@dataclass(frozen=True)
class Sample:
    """One test message and how the next hop answers its recipient."""

    file: str
    delivery_id: int
    token: str  # stands in for the VERP signature: 10 lower-case hex digits
    recipient: str
    answer: str
    at_data: bool = False  # refuse after DATA instead of at RCPT TO
    report: str = "failed"  # the report kept: "failed" or "delayed"

    @property
    def verp(self) -> str:
        return f"bounces+{self.delivery_id}-{self.token}@{BOUNCE_DOMAIN}"


SAMPLES = [
    Sample(
        "postfix-550-user-unknown.eml",
        123,
        "4f9c2a71de",
        "no-such-user@example.net",
        "550 5.1.1 <no-such-user@example.net>: Recipient address rejected: "
        "User unknown in virtual mailbox table",
    ),
    # Refused after DATA, so that one report says "(in reply to end of DATA command)".
    Sample(
        "postfix-552-mailbox-full.eml",
        124,
        "b03e6d58c1",
        "full-mailbox@example.org",
        "552 5.2.2 <full-mailbox@example.org>: Mailbox full: quota exceeded (1024000/1024000 KB)",
        at_data=True,
    ),
    Sample(
        "postfix-4xx-gave-up.eml",
        125,
        "7a1d94e20b",
        "unreachable@example.net",
        "451 4.3.0 <unreachable@example.net>: Temporary lookup failure, try again later",
    ),
    # Greylisted until Postfix has warned the sender, then accepted: the warning is the sample.
    Sample(
        "postfix-delay-warning.eml",
        126,
        "e5c0b8327f",
        "greylisted@example.org",
        "450 4.2.0 <greylisted@example.org>: Recipient address rejected: Greylisted, "
        "see https://postgrey.schweikert.ch/help/example.org.html",
        report="delayed",
    ),
]


def original(sample: Sample) -> bytes:
    """A campaign message as Rapport sends it: VERP return path, our Message-ID."""
    message = EmailMessage()
    message["From"] = "Lantern Tea House <news@shop.example.com>"
    message["To"] = sample.recipient
    message["Subject"] = "New spring teas are in / 春茶上新"
    message["Date"] = format_datetime(localtime())
    message["Message-ID"] = f"<{sample.delivery_id}.{sample.token}@shop.example.com>"
    message["List-Unsubscribe"] = (
        f"<mailto:unsubscribe+{sample.delivery_id}-{sample.token}@{BOUNCE_DOMAIN}>, "
        f"<https://shop.example.com/u/{sample.delivery_id}-{sample.token}>"
    )
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(
        "Hello,\n\nOur first-flush Longjing and Biluochun have arrived.\n"
        "今年的明前龙井和碧螺春到了。\n\nLantern Tea House, 1 Bund, Shanghai\n"
    )
    return message.as_bytes(policy=email.policy.SMTP)


# -- the next hop ------------------------------------------------------------------------


@dataclass
class NextHop:
    """Refuses the samples' recipients as told; keeps everything it accepts (the reports)."""

    rcpt_answers: dict[str, str] = field(default_factory=dict)
    data_answers: dict[str, str] = field(default_factory=dict)
    kept: list[tuple[str, list[str], bytes]] = field(default_factory=list)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        answer = self.rcpt_answers.get(address.lower())
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        answer = self.data_answers.get(envelope.rcpt_tos[0].lower())
        if answer:
            return answer
        self.kept.append((envelope.mail_from or "", list(envelope.rcpt_tos), envelope.content))
        return "250 2.0.0 Ok: queued"


# -- a private Postfix -------------------------------------------------------------------

MASTER_CF = """\
{listen} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""

# No chroot (Debian's master.cf chroots most services, which needs copies of /etc files in the
# queue); mail for every domain goes to the next hop; retries and warnings in seconds.
MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {root}/queue
data_directory = {root}/data
maillog_file = {root}/postfix.log
maillog_file_prefixes = {root}
mail_owner = postfix
setgid_group = postdrop
myhostname = mail.example.com
mydomain = example.com
myorigin = $myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:{next_hop}
smtp_dns_support_level = disabled
smtp_tls_security_level = none
smtpd_tls_security_level = none
alias_maps =
alias_database =
local_recipient_maps =
biff = no
notify_classes =
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
delay_warning_time = 1s
maximal_queue_lifetime = {lifetime}s
bounce_queue_lifetime = {lifetime}s
"""


def _subreaper() -> None:
    """Postfix's daemons outlive the master by a moment; where PID 1 does not reap (our VMs)
    they would stay zombies, so this process adopts and reaps them."""
    with suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def _reap(timeout: float = 5) -> None:
    """Wait for the adopted daemons, which exit once they see the master gone."""
    deadline = time.monotonic() + timeout
    with suppress(ChildProcessError):  # no children left
        while time.monotonic() < deadline:
            if not os.waitpid(-1, os.WNOHANG)[0]:
                time.sleep(0.05)


def _wait_for_banner(port: int, process: subprocess.Popen[bytes], root: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        with suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            if sock.recv(100).startswith(b"220"):
                sock.sendall(b"QUIT\r\n")
                return
        time.sleep(0.1)
    raise SystemExit(f"Postfix did not start on 127.0.0.1:{port}:\n{_tail(root)}")


def _tail(root: Path) -> str:
    """The end of what the start command printed and of the mail log."""
    text = ""
    for name in ("start.log", "postfix.log"):
        if (root / name).exists():
            text += (root / name).read_text(errors="replace")
    return "\n".join(text.splitlines()[-40:]) or "(no log)"


@contextmanager
def postfix(next_hop: int) -> Iterator[tuple[int, Path]]:
    """Yield the SMTP port and folder of a private Postfix relaying everything to
    ``next_hop``."""
    root = Path(tempfile.mkdtemp(prefix="rapport-postfix-"))
    root.chmod(0o755)
    conf = root / "conf"
    conf.mkdir()
    for name in ("queue", "data"):
        (root / name).mkdir()
    shutil.chown(root / "data", "postfix")
    port = free_port()
    (conf / "main.cf").write_text(MAIN_CF.format(root=root, next_hop=next_hop, lifetime=LIFETIME))
    (conf / "master.cf").write_text(MASTER_CF.format(listen=f"127.0.0.1:{port}"))
    if Path("/etc/postfix/dynamicmaps.cf").exists():  # Debian lists its map types there
        shutil.copy("/etc/postfix/dynamicmaps.cf", conf)
    output = root / "start.log"
    process: subprocess.Popen[bytes] | None = None
    try:
        with output.open("wb") as out:
            # start-fg: the master is our grandchild, not a daemon PID 1 would have to reap.
            process = subprocess.Popen(
                [POSTFIX, "-c", str(conf), "start-fg"], stdout=out, stderr=out
            )
        _wait_for_banner(port, process, root)
        yield port, root
    finally:
        if process is not None:
            if process.poll() is None:
                for command in ("stop", "abort"):  # abort: stop without waiting for deliveries
                    run = [POSTFIX, "-c", str(conf), command]
                    subprocess.run(run, check=False, capture_output=True)
                    with suppress(subprocess.TimeoutExpired):
                        process.wait(timeout=20)
                        break
                else:
                    process.kill()
            process.wait()
            _reap()
        shutil.rmtree(root, ignore_errors=True)


# -- making and writing the samples -----------------------------------------------------


def _report(sample: Sample, kept: list[tuple[str, list[str], bytes]]) -> bytes | None:
    """The report of the kind the sample wants, sent to its VERP address by the mailer daemon."""
    for sender, recipients, raw in kept:
        subject = email.message_from_bytes(raw, policy=email.policy.default)["Subject"]
        delayed = str(subject or "").startswith("Delayed Mail")
        from_daemon = sender in ("", "<>")  # aiosmtpd keeps the null sender as "<>"
        if from_daemon and recipients == [sample.verp] and delayed == (sample.report == "delayed"):
            return raw
    return None


def make(out: Path) -> None:
    if not os.path.exists(POSTFIX):
        sys.exit("Postfix is not installed: run `python tools/system_packages.py postfix`.")
    if os.geteuid() != 0:
        sys.exit("run as root: a Postfix instance starts as root and drops to its own user")
    _subreaper()
    hop = NextHop()
    for sample in SAMPLES:
        answers = hop.data_answers if sample.at_data else hop.rcpt_answers
        answers[sample.recipient] = sample.answer
    next_hop = free_port()
    controller = Controller(hop, hostname="127.0.0.1", port=next_hop, decode_data=False)
    controller.start()
    found: dict[Sample, bytes] = {}
    started = time.monotonic()
    try:
        with postfix(next_hop) as (port, root), smtplib.SMTP("127.0.0.1", port) as client:
            for sample in SAMPLES:
                client.sendmail(sample.verp, [sample.recipient], original(sample))
            client.quit()
            while len(found) < len(SAMPLES):
                if time.monotonic() - started > TIMEOUT:
                    missing = [s.file for s in SAMPLES if s not in found]
                    sys.exit(f"no report for {missing} in {TIMEOUT} s:\n{_tail(root)}")
                for sample in SAMPLES:
                    raw = _report(sample, hop.kept)
                    if raw is not None and sample not in found:
                        found[sample] = raw
                        hop.rcpt_answers.pop(sample.recipient, None)  # greylisting over
                time.sleep(0.2)
    finally:
        controller.stop()
    out.mkdir(parents=True, exist_ok=True)
    for sample, raw in found.items():
        # What the bounce mailbox's server adds on delivery, as Postfix's virtual(8) would.
        head = f"Return-Path: <>\nDelivered-To: {sample.verp}\n".encode()
        (out / sample.file).write_bytes(head + raw.replace(b"\r\n", b"\n"))
        print(f"wrote {out / sample.file}")
    print(f"took {time.monotonic() - started:.0f} s")


def check(out: Path) -> None:
    """A Markdown table of what flufl.bounce finds in each sample, and which detector."""
    from flufl.bounce import all_failures  # noqa: PLC0415
    from flufl.bounce._scan import _DETECTORS  # noqa: PLC0415

    def show(addresses: frozenset[bytes]) -> str:
        return ", ".join(sorted(a.decode() for a in addresses)) or "-"

    print("| file | temporary | permanent | detector |\n| --- | --- | --- | --- |")
    for path in sorted(out.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.compat32)
        temporary, permanent = all_failures(message)
        detector = next(
            (d.__name__ for d in _DETECTORS if any(d().process(message))), "none"
        )  # the first that finds anything is the one all_failures stopped at
        print(f"| {path.name} | {show(temporary)} | {show(permanent)} | {detector} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--check", action="store_true", help="only run flufl.bounce on them")
    args = parser.parse_args()
    if not args.check:
        make(args.out)
    check(args.out)


if __name__ == "__main__":
    main()
