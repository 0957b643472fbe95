"""The segments every workspace starts with: the lifecycle stages and VIP."""

from __future__ import annotations

from typing import Any

BUILTIN_SEGMENTS: list[tuple[str, str, dict[str, Any]]] = [
    (
        "Potential customers",
        "Subscribed, never bought.",
        {"field": "lifecycle", "op": "eq", "value": "potential"},
    ),
    (
        "New customers",
        "First order within the last 30 days.",
        {"field": "lifecycle", "op": "eq", "value": "new"},
    ),
    (
        "One-time buyers",
        "Bought once, more than 30 days ago, not yet lapsed.",
        {"field": "lifecycle", "op": "eq", "value": "one_time"},
    ),
    (
        "Returning customers",
        "Two or more orders, still buying.",
        {"field": "lifecycle", "op": "eq", "value": "returning"},
    ),
    (
        "Lapsed customers",
        "No order for longer than their usual interval (or 113 days).",
        {"field": "lifecycle", "op": "eq", "value": "lapsed"},
    ),
    (
        "VIP",
        "Top RFM: recent, frequent and big spenders (scores 4-5 on all three).",
        {
            "all": [
                {"field": "rfm.r", "op": "gte", "value": 4},
                {"field": "rfm.f", "op": "gte", "value": 4},
                {"field": "rfm.m", "op": "gte", "value": 4},
            ]
        },
    ),
]
