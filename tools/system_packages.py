"""Install the Debian packages the tests need (PostgreSQL, Chromium, …) when they are missing.

Runs ``apt-get`` only for what is absent, so on a prepared machine it costs nothing. CI runs as
root on a fresh Debian machine; elsewhere a missing package is reported, not installed.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys

# package -> how we tell it is installed
PRESENT = {
    "postgresql": lambda: bool(glob.glob("/usr/lib/postgresql/*/bin/initdb")),
    "chromium": lambda: shutil.which("chromium") is not None,
    "redis-server": lambda: shutil.which("redis-server") is not None,
    "dovecot-imapd": lambda: shutil.which("dovecot") is not None,
    "postfix": lambda: os.path.exists("/usr/sbin/postfix"),
}


def main(packages: list[str]) -> int:
    missing = [p for p in packages if not PRESENT.get(p, lambda: False)()]
    if not missing:
        return 0
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        print(
            f"missing system packages: {' '.join(missing)} (install them with apt-get)",
            file=sys.stderr,
        )
        return 1
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    apt = ["apt-get", "-o", "DPkg::Lock::Timeout=600"]
    print(f"installing {' '.join(missing)} …", file=sys.stderr)
    subprocess.run([*apt, "update", "-qq"], check=True, env=env)
    subprocess.run(
        [*apt, "install", "-y", "-qq", "--no-install-recommends", *missing],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
