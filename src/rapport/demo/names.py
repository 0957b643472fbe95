"""Invented people: name tables with romanisations for email addresses.

Chinese names carry their pinyin, so that 张伟 can be ``zhang.wei…@…`` without a
transliteration library; German names carry an ASCII spelling for the same reason.
"""

from __future__ import annotations

import random
from typing import NamedTuple

# (family name, pinyin), roughly in order of frequency; the first ones are drawn more often.
CN_FAMILY: tuple[tuple[str, str], ...] = (
    ("王", "wang"),
    ("李", "li"),
    ("张", "zhang"),
    ("刘", "liu"),
    ("陈", "chen"),
    ("杨", "yang"),
    ("黄", "huang"),
    ("赵", "zhao"),
    ("吴", "wu"),
    ("周", "zhou"),
    ("徐", "xu"),
    ("孙", "sun"),
    ("马", "ma"),
    ("朱", "zhu"),
    ("胡", "hu"),
    ("郭", "guo"),
    ("何", "he"),
    ("高", "gao"),
    ("林", "lin"),
    ("罗", "luo"),
    ("郑", "zheng"),
    ("梁", "liang"),
    ("谢", "xie"),
    ("宋", "song"),
    ("唐", "tang"),
    ("许", "xu"),
    ("韩", "han"),
    ("冯", "feng"),
    ("邓", "deng"),
    ("曹", "cao"),
    ("彭", "peng"),
    ("曾", "zeng"),
    ("肖", "xiao"),
    ("田", "tian"),
    ("董", "dong"),
    ("袁", "yuan"),
    ("潘", "pan"),
    ("蒋", "jiang"),
    ("蔡", "cai"),
    ("余", "yu"),
    ("杜", "du"),
    ("叶", "ye"),
    ("程", "cheng"),
    ("苏", "su"),
    ("魏", "wei"),
    ("吕", "lv"),
    ("丁", "ding"),
    ("沈", "shen"),
    ("姚", "yao"),
    ("钟", "zhong"),
    ("陆", "lu"),
    ("欧阳", "ouyang"),
    ("司马", "sima"),
    ("上官", "shangguan"),
)
CN_GIVEN_MALE: tuple[tuple[str, str], ...] = (
    ("伟", "wei"),
    ("强", "qiang"),
    ("磊", "lei"),
    ("军", "jun"),
    ("洋", "yang"),
    ("勇", "yong"),
    ("杰", "jie"),
    ("涛", "tao"),
    ("明", "ming"),
    ("超", "chao"),
    ("浩然", "haoran"),
    ("子轩", "zixuan"),
    ("宇航", "yuhang"),
    ("俊杰", "junjie"),
    ("志强", "zhiqiang"),
    ("建国", "jianguo"),
    ("文博", "wenbo"),
    ("嘉豪", "jiahao"),
    ("一鸣", "yiming"),
    ("天宇", "tianyu"),
    ("鹏", "peng"),
    ("辉", "hui"),
    ("斌", "bin"),
)
CN_GIVEN_FEMALE: tuple[tuple[str, str], ...] = (
    ("芳", "fang"),
    ("娜", "na"),
    ("敏", "min"),
    ("静", "jing"),
    ("丽", "li"),
    ("艳", "yan"),
    ("婷", "ting"),
    ("雪", "xue"),
    ("琳", "lin"),
    ("欣怡", "xinyi"),
    ("梓涵", "zihan"),
    ("诗涵", "shihan"),
    ("雨萱", "yuxuan"),
    ("佳怡", "jiayi"),
    ("思琪", "siqi"),
    ("晓燕", "xiaoyan"),
    ("慧", "hui"),
    ("颖", "ying"),
    ("倩", "qian"),
    ("秀英", "xiuying"),
    ("桂英", "guiying"),
    ("玉兰", "yulan"),
    ("悦", "yue"),
)
EN_GIVEN_MALE = (
    "James",
    "John",
    "Michael",
    "David",
    "Daniel",
    "Matthew",
    "Andrew",
    "Thomas",
    "Ryan",
    "Oliver",
    "Jack",
    "Harry",
    "Liam",
    "Noah",
    "Ethan",
    "Lucas",
    "Samuel",
    "Benjamin",
)
EN_GIVEN_FEMALE = (
    "Emma",
    "Olivia",
    "Sophie",
    "Emily",
    "Grace",
    "Chloe",
    "Hannah",
    "Charlotte",
    "Amelia",
    "Jessica",
    "Sarah",
    "Laura",
    "Rachel",
    "Mia",
    "Zoe",
    "Isabella",
    "Lucy",
    "Ava",
)
EN_FAMILY = (
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Miller",
    "Davis",
    "Wilson",
    "Taylor",
    "Anderson",
    "Thomas",
    "Moore",
    "Martin",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Walker",
    "Hall",
    "Young",
    "King",
    "Wright",
    "Scott",
    "Green",
    "Baker",
    "Adams",
    "Nelson",
    "Campbell",
    "Mitchell",
    "Roberts",
    "Carter",
    "Evans",
    "Turner",
    "Murphy",
    "Cooper",
)
# Singapore: Chinese family names in their Hokkien/Cantonese romanisations, English given names.
SG_FAMILY = ("Tan", "Lim", "Lee", "Ng", "Ong", "Wong", "Goh", "Chua", "Koh", "Teo", "Chan")
DE_GIVEN_MALE = ("Lukas", "Leon", "Felix", "Jonas", "Maximilian", "Paul", "Jan", "Tobias")
DE_GIVEN_FEMALE = ("Anna", "Lena", "Lea", "Hannah", "Laura", "Julia", "Katharina", "Sophie")
DE_FAMILY: tuple[tuple[str, str], ...] = (
    ("Müller", "mueller"),
    ("Schmidt", "schmidt"),
    ("Schneider", "schneider"),
    ("Fischer", "fischer"),
    ("Weber", "weber"),
    ("Meyer", "meyer"),
    ("Wagner", "wagner"),
    ("Becker", "becker"),
    ("Schulz", "schulz"),
    ("Hoffmann", "hoffmann"),
    ("Schäfer", "schaefer"),
    ("Koch", "koch"),
    ("Bauer", "bauer"),
    ("Weiß", "weiss"),
)


class Person(NamedTuple):
    given: str
    family: str
    female: bool
    given_ascii: str  # lower-case ASCII, for the email address
    family_ascii: str


def _skewed(rng: random.Random, size: int) -> int:
    """An index favouring the start of a list: common names are common."""
    return min(size - 1, int(size * rng.random() ** 1.8))


def person(rng: random.Random, country: str) -> Person:
    female = rng.random() < 0.5
    if country == "CN":
        family, family_py = CN_FAMILY[_skewed(rng, len(CN_FAMILY))]
        given, given_py = rng.choice(CN_GIVEN_FEMALE if female else CN_GIVEN_MALE)
        return Person(given, family, female, given_py, family_py)
    if country == "DE":
        family, family_ascii = rng.choice(DE_FAMILY)
        given = rng.choice(DE_GIVEN_FEMALE if female else DE_GIVEN_MALE)
        return Person(given, family, female, given.lower(), family_ascii)
    given = rng.choice(EN_GIVEN_FEMALE if female else EN_GIVEN_MALE)
    family = rng.choice(SG_FAMILY) if country == "SG" else EN_FAMILY[_skewed(rng, len(EN_FAMILY))]
    return Person(given, family, female, given.lower(), family.lower())


def email_local_part(rng: random.Random, who: Person, number: int) -> str:
    """A plausible local part that ends in the contact's unique number.

    The names never end in a digit, so the trailing digits are exactly ``number``: two
    contacts can never get the same address, whatever names and patterns they draw.
    """
    given, family = who.given_ascii, who.family_ascii
    pattern = rng.random()
    if pattern < 0.35:
        return f"{given}.{family}{number}"
    if pattern < 0.6:
        return f"{family}{given}{number}"
    if pattern < 0.8:
        return f"{given[0]}{family}{number}"
    return f"{given}_{number}"
