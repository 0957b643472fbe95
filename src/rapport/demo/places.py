"""Where invented customers live and work: countries, cities, phones, mail domains, companies.

Every mail domain is under example.com, example.net or example.org (reserved by RFC 2606),
and phone numbers use the ranges set aside for fiction where a country has one, so the demo
can never mail or call a real person.
"""

from __future__ import annotations

import itertools
import random
from typing import NamedTuple


class City(NamedTuple):
    name: str
    region: str
    timezone: str
    area_code: str  # for North American numbers


class Country(NamedTuple):
    code: str
    weight: float
    locale: str
    currency: str
    cities: tuple[City, ...]
    domains: tuple[str, ...]


_WEST_DOMAINS = (
    "mail.example.com",
    "inbox.example.com",
    "post.example.org",
    "webmail.example.net",
    "me.example.org",
)

COUNTRIES: tuple[Country, ...] = (
    Country(
        "CN",
        0.50,
        "zh-CN",
        "CNY",
        (
            City("上海", "上海", "Asia/Shanghai", ""),
            City("北京", "北京", "Asia/Shanghai", ""),
            City("深圳", "广东", "Asia/Shanghai", ""),
            City("杭州", "浙江", "Asia/Shanghai", ""),
            City("成都", "四川", "Asia/Shanghai", ""),
            City("广州", "广东", "Asia/Shanghai", ""),
        ),
        (
            "qq.example.net",
            "163.example.net",
            "126.example.net",
            "foxmail.example.net",
            "sina.example.net",
        ),
    ),
    Country(
        "US",
        0.18,
        "en-US",
        "USD",
        (
            City("New York", "NY", "America/New_York", "212"),
            City("Chicago", "IL", "America/Chicago", "312"),
            City("Austin", "TX", "America/Chicago", "512"),
            City("Denver", "CO", "America/Denver", "303"),
            City("Los Angeles", "CA", "America/Los_Angeles", "213"),
            City("Seattle", "WA", "America/Los_Angeles", "206"),
        ),
        _WEST_DOMAINS,
    ),
    Country(
        "GB",
        0.08,
        "en-GB",
        "USD",
        (
            City("London", "England", "Europe/London", ""),
            City("Manchester", "England", "Europe/London", ""),
            City("Bristol", "England", "Europe/London", ""),
            City("Edinburgh", "Scotland", "Europe/London", ""),
        ),
        _WEST_DOMAINS,
    ),
    Country(
        "SG", 0.06, "en-SG", "USD", (City("Singapore", "", "Asia/Singapore", ""),), _WEST_DOMAINS
    ),
    Country(
        "AU",
        0.06,
        "en-AU",
        "USD",
        (
            City("Sydney", "NSW", "Australia/Sydney", ""),
            City("Melbourne", "VIC", "Australia/Melbourne", ""),
            City("Brisbane", "QLD", "Australia/Brisbane", ""),
            City("Perth", "WA", "Australia/Perth", ""),
        ),
        _WEST_DOMAINS,
    ),
    Country(
        "DE",
        0.06,
        "de-DE",
        "USD",
        (
            City("Berlin", "Berlin", "Europe/Berlin", ""),
            City("München", "Bayern", "Europe/Berlin", ""),
            City("Hamburg", "Hamburg", "Europe/Berlin", ""),
            City("Köln", "Nordrhein-Westfalen", "Europe/Berlin", ""),
        ),
        _WEST_DOMAINS,
    ),
    Country(
        "CA",
        0.06,
        "en-CA",
        "USD",
        (
            City("Toronto", "ON", "America/Toronto", "416"),
            City("Vancouver", "BC", "America/Vancouver", "604"),
            City("Montreal", "QC", "America/Toronto", "514"),
            City("Calgary", "AB", "America/Edmonton", "403"),
        ),
        _WEST_DOMAINS,
    ),
)
COUNTRY_WEIGHTS = tuple(c.weight for c in COUNTRIES)


def phone(rng: random.Random, country: Country, city: City) -> str:
    """A number in its normalised form (``+8613812345678``), as an import would store it."""
    code = country.code
    if code == "CN":
        return f"+861{rng.choice('3456789')}{rng.randrange(10**9):09d}"
    if code in {"US", "CA"}:  # 555-0100 to 555-0199 are reserved for fiction
        return f"+1{city.area_code}55501{rng.randrange(100):02d}"
    if code == "GB":  # Ofcom's drama range 07700 900000-900999
        return f"+447700900{rng.randrange(1000):03d}"
    if code == "AU":  # ACMA's fictitious mobile block 0491 570 xxx
        return f"+61491570{rng.randrange(1000):03d}"
    if code == "DE":  # Bundesnetzagentur's drama range 030 23125 xxx
        return f"+493023125{rng.randrange(1000):03d}"
    return f"+65{rng.choice('89')}{rng.randrange(10**7):07d}"


class Organisation(NamedTuple):
    name: str
    domain: str
    chinese: bool
    nonprofit: bool


def _organisations() -> tuple[Organisation, ...]:
    """A fixed list, the same in every process, so a batch can refer to one by position."""
    orgs: list[Organisation] = []
    cn_places = (
        ("上海", "sh"),
        ("北京", "bj"),
        ("深圳", "sz"),
        ("杭州", "hz"),
        ("成都", "cd"),
        ("广州", "gz"),
    )
    cn_marks = (
        ("星河", "xinghe"),
        ("远景", "yuanjing"),
        ("海川", "haichuan"),
        ("云起", "yunqi"),
        ("锦程", "jincheng"),
        ("南风", "nanfeng"),
    )
    cn_trades = (
        ("贸易", "trading"),
        ("科技", "tech"),
        ("文化传媒", "media"),
        ("影像", "imaging"),
        ("咖啡", "coffee"),
        ("户外用品", "outdoor"),
    )
    # Every other combination: about a hundred names, none repeating a whole pattern.
    for i, ((place, p), (mark, m), (trade, t)) in enumerate(
        itertools.product(cn_places, cn_marks, cn_trades)
    ):
        if i % 2 == 0:
            orgs.append(
                Organisation(
                    f"{place}{mark}{trade}有限公司",
                    f"{p}{m}-{t}.example.com",
                    chinese=True,
                    nonprofit=False,
                )
            )
    marks = (
        "Northwind",
        "Bluefield",
        "Harbour",
        "Redwood",
        "Silverline",
        "Oakridge",
        "Brightwater",
        "Summit",
        "Lakeside",
        "Ironbark",
    )
    trades = (
        "Studio",
        "Media",
        "Outfitters",
        "Roasters",
        "Trading",
        "Design",
        "Travel",
        "Productions",
    )
    for mark in marks:
        for trade in trades:
            slug = f"{mark}-{trade}".lower()
            orgs.append(
                Organisation(
                    f"{mark} {trade} Ltd", f"{slug}.example.com", chinese=False, nonprofit=False
                )
            )
    for name, domain, chinese in (
        ("城市观鸟协会", "birdwatch-cn.example.org", True),
        ("青山徒步俱乐部", "qingshan-hiking.example.org", True),
        ("益行公益基金会", "yixing-foundation.example.org", True),
        ("Riverside Photography Society", "riverside-photo.example.org", False),
        ("Green Hills Hiking Club", "greenhills-hiking.example.org", False),
        ("Open Lens Foundation", "openlens.example.org", False),
        ("Harbour Community Radio", "harbour-radio.example.org", False),
    ):
        orgs.append(Organisation(name, domain, chinese=chinese, nonprofit=True))
    return tuple(orgs)


ORGANISATIONS = _organisations()
# Positions in ORGANISATIONS by (chinese, nonprofit), for drawing a fitting employer.
ORGANISATIONS_BY_KIND: dict[tuple[bool, bool], tuple[int, ...]] = {
    kind: tuple(i for i, o in enumerate(ORGANISATIONS) if (o.chinese, o.nonprofit) == kind)
    for kind in ((True, False), (False, False), (True, True), (False, True))
}
