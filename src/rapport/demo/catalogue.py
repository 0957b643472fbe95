"""The demo catalogue and which categories are bought together.

The co-purchase graph is what makes recommendations and segments worth showing: a camera
buyer comes back for a lens, a coffee machine owner for beans every few weeks. Brands are
invented. Prices are set in US dollars and rounded to a shop-like yuan price (¥6,999).
"""

from __future__ import annotations

from typing import NamedTuple


class Item(NamedTuple):
    sku: str
    name: str
    category: str
    usd_cents: int
    cny_cents: int
    consumable: bool


def _cny_cents(usd: float) -> int:
    """$999 -> ¥6,999; $18 -> ¥129: about seven yuan to the dollar, ending in 9."""
    return max(9, round(usd * 7 / 10) * 10 - 1) * 100


# category: [(name, usd price), ...]; consumable categories are listed in CONSUMABLES.
_PRODUCTS: dict[str, list[tuple[str, float]]] = {
    "camera": [
        ("Lumora X100 Mirrorless Camera", 999),
        ("Lumora X200 Full-Frame Camera", 1899),
        ("Lumora Z5 Compact Camera", 549),
        ("Kestrel K7 Mirrorless Camera", 1299),
        ("Kestrel Instant Film Camera", 129),
        ("Lumora X100 Camera Kit", 1199),
    ],
    "lens": [
        ("Kestrel 35mm f/1.8 Prime Lens", 399),
        ("Kestrel 50mm f/1.4 Prime Lens", 449),
        ("Kestrel 24-70mm f/2.8 Zoom Lens", 1199),
        ("Kestrel 70-200mm f/4 Zoom Lens", 899),
        ("Lumora 16mm f/2.8 Wide Lens", 299),
        ("Lumora 90mm f/2.8 Macro Lens", 649),
        ("Kestrel 100-400mm Telephoto Lens", 1499),
    ],
    "tripod": [
        ("Ridgeline Travel Tripod", 149),
        ("Ridgeline Carbon Tripod", 349),
        ("Ridgeline Tabletop Tripod", 29),
        ("Ridgeline Video Monopod", 89),
    ],
    "memory-card": [
        ("Tervo 128GB SD Card V60", 39),
        ("Tervo 256GB SD Card V90", 89),
        ("Tervo 128GB microSD Card", 25),
        ("Tervo 1TB Portable SSD", 119),
    ],
    "camera-bag": [
        ("Bramble Sling Camera Bag", 79),
        ("Bramble Camera Backpack 25L", 159),
        ("Bramble Lens Pouch", 25),
        ("Bramble Rolling Camera Case", 249),
    ],
    "action-camera": [
        ("Tervo Go Action Camera", 349),
        ("Tervo Go Mini Action Camera", 199),
        ("Tervo 360 Camera", 429),
    ],
    "video-accessory": [
        ("Corvid Wireless Microphone Kit", 199),
        ("Tervo Three-Axis Gimbal", 139),
        ("Tervo LED Video Light", 59),
        ("Corvid Shotgun Microphone", 129),
        ("Tervo Spare Battery Pack", 29),
    ],
    "headphones": [
        ("Corvid Studio Headphones", 249),
        ("Corvid Noise-Cancelling Headphones", 349),
        ("Corvid True Wireless Earbuds", 149),
        ("Corvid Sport Earbuds", 89),
    ],
    "speaker": [
        ("Corvid Bookshelf Speakers", 399),
        ("Corvid Portable Speaker", 99),
        ("Corvid Smart Speaker", 129),
    ],
    "audio-accessory": [
        ("Corvid USB DAC Amplifier", 179),
        ("Corvid Earbud Tips (3 pairs)", 15),
        ("Corvid Headphone Stand", 39),
        ("Corvid Braided Audio Cable", 19),
    ],
    "coffee-machine": [
        ("Morrow Espresso Machine", 699),
        ("Morrow Bean-to-Cup Machine", 999),
        ("Morrow Pour-Over Brewer Set", 59),
        ("Morrow Capsule Machine", 149),
        ("Morrow Cold Brew Maker", 39),
    ],
    "grinder": [
        ("Morrow Burr Grinder", 199),
        ("Morrow Hand Grinder", 89),
        ("Morrow Flat Burr Grinder Pro", 449),
    ],
    "coffee-beans": [
        ("Yunnan Catimor Beans 500g", 18),
        ("Ethiopia Yirgacheffe Beans 250g", 16),
        ("Colombia Huila Beans 500g", 17),
        ("House Espresso Blend 1kg", 29),
        ("Decaf Brazil Beans 250g", 14),
        ("Kenya AA Beans 250g", 19),
        ("Espresso Capsules (50)", 24),
    ],
    "coffee-accessory": [
        ("Morrow Paper Filters (100)", 6),
        ("Morrow Gooseneck Kettle", 69),
        ("Morrow Coffee Scale", 49),
        ("Morrow Milk Pitcher", 25),
        ("Morrow Descaler (4 doses)", 12),
    ],
    "hiking-boots": [
        ("Summitry Trail Boots", 179),
        ("Summitry Waterproof Hiking Boots", 229),
        ("Summitry Trail Running Shoes", 139),
        ("Summitry Alpine Boots", 329),
    ],
    "hiking-socks": [
        ("Summitry Merino Hiking Socks", 22),
        ("Summitry Liner Socks (3 pairs)", 18),
        ("Summitry Trail Running Socks", 16),
    ],
    "backpack": [
        ("Summitry Daypack 22L", 89),
        ("Summitry Trekking Pack 45L", 199),
        ("Summitry Ultralight Pack 30L", 149),
        ("Summitry Hydration Pack 12L", 69),
    ],
    "trekking-gear": [
        ("Summitry Carbon Trekking Poles", 119),
        ("Summitry Two-Person Tent", 299),
        ("Summitry Down Sleeping Bag", 249),
        ("Summitry Headlamp", 39),
        ("Summitry Rain Shell Jacket", 189),
    ],
    "luggage": [
        ("Halden Carry-On Spinner", 229),
        ("Halden Check-In Spinner 70L", 299),
        ("Halden Weekender Duffel", 129),
    ],
    "travel-accessory": [
        ("Halden Packing Cubes (4)", 35),
        ("Halden Universal Travel Adapter", 29),
        ("Halden Neck Pillow", 25),
        ("Halden Luggage Tag Set", 12),
        ("Halden Toiletry Bag", 29),
    ],
    "home": [
        ("Nimbus Air Purifier", 299),
        ("Nimbus Smart Lamp", 59),
        ("Nimbus Humidifier", 89),
        ("Nimbus Robot Vacuum", 399),
    ],
    "home-consumable": [
        ("Nimbus Purifier Filter", 39),
        ("Nimbus Humidifier Wick (2)", 15),
        ("Nimbus Vacuum Brush Set", 19),
    ],
}
CONSUMABLES = frozenset({"memory-card", "coffee-beans", "hiking-socks", "home-consumable"})
# Categories that also sell again to the same person (filters, spare batteries).
_REPEATABLE = CONSUMABLES | {"coffee-accessory", "video-accessory"}

# What an owner of a category buys next, and how strongly: (category, weight).
FOLLOW_UPS: dict[str, tuple[tuple[str, float], ...]] = {
    "camera": (("lens", 0.6), ("memory-card", 0.5), ("tripod", 0.35), ("camera-bag", 0.35)),
    "lens": (("lens", 0.2), ("camera-bag", 0.2)),
    "action-camera": (("memory-card", 0.6), ("video-accessory", 0.5), ("tripod", 0.2)),
    "headphones": (("audio-accessory", 0.4), ("speaker", 0.15)),
    "speaker": (("audio-accessory", 0.3), ("speaker", 0.15)),
    "coffee-machine": (("coffee-beans", 1.0), ("grinder", 0.45), ("coffee-accessory", 0.4)),
    "grinder": (("coffee-beans", 0.8), ("coffee-accessory", 0.3)),
    "coffee-beans": (("coffee-beans", 0.5),),
    "hiking-boots": (("hiking-socks", 0.6), ("backpack", 0.4), ("trekking-gear", 0.35)),
    "backpack": (("trekking-gear", 0.3), ("hiking-socks", 0.2)),
    "luggage": (("travel-accessory", 0.6),),
    "home": (("home-consumable", 0.7), ("home", 0.15)),
}
# What a first purchase for an interest is; interests name what a newsletter is about.
ANCHORS: dict[str, tuple[str, ...]] = {
    "photography": ("camera", "camera", "lens"),
    "video": ("action-camera", "video-accessory"),
    "audio": ("headphones", "speaker"),
    "coffee": ("coffee-machine", "grinder", "coffee-beans"),
    "hiking": ("hiking-boots", "backpack"),
    "travel": ("luggage", "backpack", "travel-accessory"),
    "home": ("home",),
}
INTERESTS = tuple(ANCHORS)


def _items() -> tuple[Item, ...]:
    items: list[Item] = []
    for category, products in _PRODUCTS.items():
        prefix = "".join(part[:3] for part in category.upper().split("-"))
        for n, (name, usd) in enumerate(products, start=1):
            items.append(
                Item(
                    f"{prefix}-{n:03d}",
                    name,
                    category,
                    round(usd * 100),
                    _cny_cents(usd),
                    category in CONSUMABLES,
                )
            )
    return tuple(items)


ITEMS = _items()
BY_CATEGORY: dict[str, tuple[int, ...]] = {
    category: tuple(i for i, item in enumerate(ITEMS) if item.category == category)
    for category in _PRODUCTS
}


def repeatable(category: str) -> bool:
    return category in _REPEATABLE
