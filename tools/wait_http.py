"""Wait for a server process we started to answer on a loopback port (tests, benchmarks)."""

from __future__ import annotations

import http.client
import subprocess
import time


def wait_until_answering(
    port: int, process: subprocess.Popen[bytes], path: str = "/t/pixel.gif", seconds: float = 60
) -> None:
    """Return once ``GET path`` answers 200; RuntimeError if the process exits or time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited early with {process.returncode}")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("GET", path)
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass  # not listening yet
        finally:
            connection.close()
        time.sleep(0.2)  # also after an answer other than 200: no busy loop
    raise RuntimeError(f"nothing answered on port {port} within {seconds}s")
