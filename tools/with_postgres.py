"""Run a command against a throw-away PostgreSQL server on a free loopback port.

Usage: ``python tools/with_postgres.py -- pytest …``. Starts a private cluster in a temporary
directory (as the ``postgres`` user when run as root, since PostgreSQL refuses root), sets
``RAPPORT_DATABASE_URL`` for the command, and stops and removes the cluster afterwards.
"""

from __future__ import annotations

import glob
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _bin_dir() -> Path:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    if not found:
        sys.exit("PostgreSQL is not installed: run `python tools/system_packages.py postgresql`.")
    return Path(found[-1]).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def postgres_server(keep: Path | None = None, extra_options: str = "") -> Iterator[str]:
    """Yield the URL of a server (user postgres, trust auth on loopback): a fresh one that is
    removed afterwards, or with ``keep`` one whose data stays in that folder for the next run
    (benchmarks reuse a database that takes half an hour to fill)."""
    bin_dir = _bin_dir()
    root = keep or Path(tempfile.mkdtemp(prefix="rapport-pg-"))
    root.mkdir(parents=True, exist_ok=True)
    data, log = root / "data", root / "server.log"
    fresh = not (data / "PG_VERSION").exists()
    port = free_port()
    as_postgres = os.geteuid() == 0
    if as_postgres:
        entry = pwd.getpwnam("postgres")
        os.chown(root, entry.pw_uid, entry.pw_gid)

    def run(*args: str) -> None:
        command = [str(bin_dir / args[0]), *args[1:]]
        if as_postgres:
            command = ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(command)]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)

    try:
        if fresh:
            run("initdb", "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                "--locale=C.UTF-8", "--no-sync")  # fmt: skip
        options = (
            f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200 "
            + extra_options
        )
        run("pg_ctl", "-D", str(data), "-l", str(log), "-w", "-o", options, "start")
        if fresh:
            run("createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "rapport")
        yield f"postgres://postgres@127.0.0.1:{port}/rapport"
    finally:
        if (data / "postmaster.pid").exists():
            # A kept database is stopped cleanly, so that it opens quickly next time.
            run("pg_ctl", "-D", str(data), "-m", "fast" if keep else "immediate", "-w", "stop")
        if keep is None:
            shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str]) -> int:
    command = argv[argv.index("--") + 1 :] if "--" in argv else argv
    if not command:
        sys.exit("usage: with_postgres.py -- COMMAND …")
    with postgres_server() as url:
        print(f"PostgreSQL ready at {url}", file=sys.stderr)
        env = dict(os.environ, RAPPORT_DATABASE_URL=url)
        return subprocess.run(command, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
