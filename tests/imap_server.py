"""A private Dovecot IMAP server for tests, so that bounce processing reads a real mailbox.

Each ``imap_server()`` starts its own Dovecot (foreground, on a free loopback port, plaintext
login, no SSL, one maildir user) in a temporary folder and removes it afterwards, so tests never
share state and nothing outside the folder is touched.
"""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from tools.with_postgres import free_port

START_TIMEOUT = 15.0


@dataclass(frozen=True)
class ImapAccount:
    host: str
    port: int
    user: str
    password: str
    root: Path  # the server's temporary folder: config, log and mail


def _config(root: Path, port: int, mail_user: str, login_user: str, internal_user: str) -> str:
    owner = pwd.getpwnam(mail_user)
    # Dovecot 2.3 wants each block's braces on lines of their own, not `name { key = value }`.
    return f"""\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
instance_name = rapport-test-{port}
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {grp.getgrgid(pwd.getpwnam(internal_user).pw_gid).gr_name}
mail_location = maildir:~/Maildir
mail_fsync = never
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/users
}}
userdb {{
  driver = static
  args = uid={owner.pw_uid} gid={owner.pw_gid} home={root}/mail/%u
}}
# No chroots: only root may chroot, and a test server gains nothing from them.
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


def _tail(root: Path, lines: int = 30) -> str:
    text = ""
    for name in ("stderr.log", "dovecot.log"):
        path = root / name
        if path.exists():
            text += path.read_text(errors="replace")
    return "\n".join(text.splitlines()[-lines:]) or "(Dovecot wrote no log)"


def _wait_for_greeting(process: subprocess.Popen[bytes], root: Path, port: int) -> None:
    """Wait for the IMAP greeting, not just an open port: the port is bound at once, but the
    greeting only comes once the auth process is up."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"Dovecot exited with code {process.returncode} on start:\n{_tail(root)}"
            )
        with suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            if sock.recv(100).startswith(b"* OK"):
                sock.sendall(b"a LOGOUT\r\n")
                return
        time.sleep(0.05)
    raise RuntimeError(
        f"Dovecot did not answer on 127.0.0.1:{port} within {START_TIMEOUT:.0f} s:\n{_tail(root)}"
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    """A clean stop (about 1 s: the master waits that long for its children) lets the master reap
    them; killing the group outright leaves zombies where PID 1 does not reap, as in our VMs. The
    group kill is only the fallback."""
    if process.poll() is None:
        process.terminate()
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # whatever outlived the master
    process.wait()


@contextmanager
def imap_server(user: str = "bounces@example.com") -> Iterator[ImapAccount]:
    """Yield the account of a fresh server; stop it and delete its mail even if the test
    fails."""
    dovecot = shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/usr/bin")
    if dovecot is None:
        raise RuntimeError(
            "Dovecot is not installed: run `python tools/system_packages.py dovecot-imapd`."
        )
    # As root (CI) mail belongs to nobody and Dovecot's own users run the login processes;
    # otherwise everything runs as the current user, the only one we can be.
    if os.geteuid() == 0:
        mail_user, login_user, internal_user = "nobody", "dovenull", "dovecot"
    else:
        mail_user = login_user = internal_user = pwd.getpwuid(os.geteuid()).pw_name
    owner = pwd.getpwnam(mail_user)

    root = Path(tempfile.mkdtemp(prefix="rapport-imap-"))
    root.chmod(0o755)  # the mail user must reach its home below it
    password = secrets.token_urlsafe(16)
    port = free_port()
    account = ImapAccount("127.0.0.1", port, user, password, root)
    (root / "mail").mkdir()
    os.chown(root / "mail", owner.pw_uid, owner.pw_gid)
    (root / "users").write_text(f"{user}:{{PLAIN}}{password}\n")
    conf = root / "dovecot.conf"
    conf.write_text(_config(root, port, mail_user, login_user, internal_user))

    process: subprocess.Popen[bytes] | None = None
    try:
        with (root / "stderr.log").open("wb") as stderr:
            process = subprocess.Popen(
                [dovecot, "-F", "-c", str(conf)],
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=stderr,
                start_new_session=True,  # its own process group, to stop it with its children
            )
        _wait_for_greeting(process, root, port)
        yield account
    finally:
        if process is not None:
            _stop(process)
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def _login(account: ImapAccount) -> Iterator[imaplib.IMAP4]:
    imap = imaplib.IMAP4(account.host, account.port, timeout=10)
    try:
        imap.login(account.user, account.password)
        yield imap
    finally:
        with suppress(imaplib.IMAP4.error, OSError):
            imap.logout()


def deliver(account: ImapAccount, raw: bytes, folder: str = "INBOX") -> None:
    """Put a message in a folder as a mail server would (IMAP APPEND; the folder is created if
    missing). imaplib sends line endings as CRLF, so that is what reads back."""
    with _login(account) as imap:
        if folder.upper() != "INBOX":
            imap.create(folder)  # answers NO if it exists, which is fine
        status, answer = imap.append(folder, "", None, raw)
        if status != "OK":
            raise RuntimeError(f"APPEND to {folder} failed: {answer!r}")


def folder_messages(account: ImapAccount, folder: str = "INBOX") -> list[bytes]:
    """The raw messages in a folder, oldest first, without marking them read."""
    with _login(account) as imap:
        status, answer = imap.select(folder, readonly=True)
        if status != "OK":
            raise RuntimeError(f"cannot open {folder}: {answer!r}")
        if int(answer[0] or 0) == 0:
            return []
        status, data = imap.fetch("1:*", "(BODY.PEEK[])")
        if status != "OK":
            raise RuntimeError(f"FETCH in {folder} failed: {data!r}")
        return [part[1] for part in data if isinstance(part, tuple)]
