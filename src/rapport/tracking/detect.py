"""Telling people from machines: which opens are prefetches and which clicks are scanners.

Machines open and click a lot of email now, and counting them as people makes every rate a lie:

- **Apple Mail Privacy Protection** fetches every image of every message through Apple's proxy
  when it arrives, opened or not. The proxy sends the bare user agent ``Mozilla/5.0`` from
  Apple's address block (17.0.0.0/8). Those opens are machine opens.
- **Security gateways** (Mimecast, Proofpoint, Barracuda, Microsoft's and others) fetch images
  and follow every link within seconds of delivery, sometimes with a HEAD request, sometimes
  with a tool's user agent, and often several links of one message at once.
- **Gmail's and Yahoo's image proxies** fetch an image when a person opens the message: those are
  real opens, recorded with the client named; the proxy hides the device.

So an open is a machine open when it comes through Apple's proxy, from a known robot, by a
HEAD request, or within
``PREFETCH_SECONDS`` of the message being built (nobody reads that fast). A click is a scanner
click on a HEAD request, from a known robot, within ``SCANNER_SECONDS`` of sending, or as part
of a burst (``BURST_LINKS`` different links of one message within ``BURST_SECONDS``; see
``recorder``). These are heuristics: they are stored with the event (``machine``/``scanner``
and a ``reason``), so reports show them apart and nothing is thrown away.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

PREFETCH_SECONDS = 10
SCANNER_SECONDS = 10
BURST_LINKS = 3
BURST_SECONDS = 2.0

APPLE_PROXY_AGENT = "Mozilla/5.0"
_APPLE_NETWORK = "17."  # Apple's own /8, where its privacy proxy fetches from
_ROBOT_MARKS = (
    "bot", "spider", "crawl", "python-requests", "python-urllib", "aiohttp", "curl/", "wget/",
    "go-http-client", "java/", "libwww", "okhttp", "headlesschrome", "phantomjs", "scanner",
    "barracuda", "mimecast", "proofpoint", "symantec", "messagelabs", "trendmicro",
    "forcepoint", "fireeye", "ironport", "sophos", "zscaler", "safelinks",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Agent:
    device: str  # desktop | mobile | tablet | unknown
    client: str  # Apple Mail, Gmail, Outlook, Chrome, …, or "unknown"
    apple_proxy: bool
    robot: bool


@lru_cache(maxsize=4096)  # user agents repeat: a campaign sees a few hundred distinct ones
def _from_user_agent(user_agent: str) -> Agent:
    ua = user_agent.lower()
    if not ua:
        return Agent("unknown", "unknown", apple_proxy=False, robot=True)
    if user_agent.strip() == APPLE_PROXY_AGENT:
        return Agent("unknown", "Apple Mail", apple_proxy=True, robot=False)
    if "googleimageproxy" in ua:
        return Agent("unknown", "Gmail", apple_proxy=False, robot=False)
    if "yahoomailproxy" in ua:
        return Agent("unknown", "Yahoo Mail", apple_proxy=False, robot=False)
    robot = any(mark in ua for mark in _ROBOT_MARKS)
    return Agent(_device(ua), _client(ua), apple_proxy=False, robot=robot)


def _device(ua: str) -> str:
    if "ipad" in ua or "tablet" in ua or ("android" in ua and "mobile" not in ua):
        return "tablet"
    if "iphone" in ua or "android" in ua or "mobile" in ua:
        return "mobile"
    if any(mark in ua for mark in ("windows", "macintosh", "x11", "linux", "cros")):
        return "desktop"
    return "unknown"


def _client(ua: str) -> str:
    if "outlook" in ua or "ms-office" in ua or "microsoft office" in ua:
        return "Outlook"
    if "thunderbird" in ua:
        return "Thunderbird"
    if "edg/" in ua:
        return "Edge"
    if "chrome/" in ua or "crios/" in ua:
        return "Chrome"
    if "firefox/" in ua or "fxios/" in ua:
        return "Firefox"
    if "applewebkit" in ua and "safari" not in ua and "version/" not in ua:
        return "Apple Mail"  # Mail's web view: WebKit without Safari's own marks
    if "safari/" in ua:
        return "Safari"
    return "unknown"


def agent_of(user_agent: str, ip: str) -> Agent:
    agent = _from_user_agent(user_agent[:512])
    if not agent.apple_proxy and ip.startswith(_APPLE_NETWORK) and agent.client == "Apple Mail":
        return Agent("unknown", "Apple Mail", apple_proxy=True, robot=False)
    return agent


def machine_open_reason(agent: Agent, method: str, seconds_after_send: float) -> str:
    """Why an open was a machine's ("" for a person)."""
    if method == "HEAD":
        return "head-request"  # checked, not shown: nobody sees a HEAD
    if agent.apple_proxy:
        return "apple-privacy-proxy"
    if agent.robot:
        return "robot-agent"
    if seconds_after_send < PREFETCH_SECONDS:
        return "prefetch-on-arrival"
    return ""


def scanner_click_reason(agent: Agent, method: str, seconds_after_send: float) -> str:
    """Why a click was a scanner's ("" for a person, as far as one click can tell)."""
    if method == "HEAD":
        return "head-request"
    if agent.robot:
        return "robot-agent"
    if seconds_after_send < SCANNER_SECONDS:
        return "clicked-on-arrival"
    return ""


def in_burst(moment: float, others: list[tuple[float, int]]) -> bool:
    """True when a click at ``moment`` lies in some ``BURST_SECONDS`` span that holds at least
    ``BURST_LINKS`` different links of the same message (``others``: (time, link) of all its
    clicks near that moment, this one included)."""
    near = sorted(o for o in others if abs(o[0] - moment) <= BURST_SECONDS)
    for start, _ in near:
        if start > moment:
            break
        links = {link for at, link in near if start <= at <= start + BURST_SECONDS}
        if moment <= start + BURST_SECONDS and len(links) >= BURST_LINKS:
            return True
    return False
