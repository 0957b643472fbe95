"""Unique coupon codes: one per contact per series and sender, issued in bulk before a batch is
rendered, and redeemed when an order carrying the code arrives.

Uniqueness rests on two database constraints (the code; the series, contact and sender), not
on locks: concurrent issuers insert with ``ignore_conflicts`` and then read back what won, so two
workers rendering the same contact end with one code between them.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from rapport.accounts.access import require
from rapport.accounts.models import User
from rapport.accounts.roles import Perm
from rapport.accounts.services import record_audit
from rapport.content.models import Coupon, CouponRedemption, CouponSeries, DiscountKind
from rapport.crm.models import Order
from rapport.errors import Conflict, InvalidInput, NotFound

# No 0/O, 1/I/L: codes are read aloud and typed from phones.
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
_CODE_LENGTH = 8  # 31^8 ≈ 8.5e11 codes per prefix: collisions are rare and retried
_MAX_ROUNDS = 5


@dataclass(frozen=True, slots=True)
class SeriesDefaults:
    description: str
    kind: str
    value: Decimal
    valid_days: int


# The series the starting templates use, created with them.
BUILTIN_SERIES: dict[str, SeriesDefaults] = {
    "BDAY": SeriesDefaults("Birthday: 15% off, 30 days", DiscountKind.PERCENT, Decimal(15), 30),
    "WINBACK": SeriesDefaults("Win-back: 20% off, 14 days", DiscountKind.PERCENT, Decimal(20), 14),
}


def ensure_builtin_series() -> None:
    for name, defaults in BUILTIN_SERIES.items():
        CouponSeries.objects.get_or_create(
            name=name,
            defaults={
                "description": defaults.description,
                "prefix": name,
                "kind": defaults.kind,
                "value": defaults.value,
                "valid_days": defaults.valid_days,
            },
        )


def active_series_names() -> frozenset[str]:
    return frozenset(CouponSeries.objects.filter(active=True).values_list("name", flat=True))


def new_code(prefix: str) -> str:
    body = "".join(secrets.choice(_ALPHABET) for _ in range(_CODE_LENGTH))
    return f"{prefix.upper()}-{body}" if prefix else body


def _series(name: str) -> CouponSeries:
    try:
        return CouponSeries.objects.get(name=name)
    except CouponSeries.DoesNotExist:
        raise NotFound(f"There is no coupon series {name!r}.") from None


def _expiry(series: CouponSeries, now: dt.datetime) -> dt.datetime | None:
    candidates = [series.expires_at] if series.expires_at else []
    if series.valid_days:
        candidates.append(now + dt.timedelta(days=series.valid_days))
    return min(candidates) if candidates else None


def issue_codes(series_name: str, contact_ids: Sequence[int], issued_for: str) -> dict[int, str]:
    """The code of each contact in this series for this sender, creating missing ones."""
    series = _series(series_name)
    if not series.active:
        raise InvalidInput(f"The coupon series {series_name!r} is switched off.")
    codes = _existing(series, contact_ids, issued_for)
    now = timezone.now()
    for _round in range(_MAX_ROUNDS):
        missing = [cid for cid in contact_ids if cid not in codes]
        if not missing:
            return codes
        Coupon.objects.bulk_create(
            [
                Coupon(
                    series=series,
                    contact_id=cid,
                    issued_for=issued_for,
                    code=new_code(series.prefix),
                    expires_at=_expiry(series, now),
                )
                for cid in missing
            ],
            ignore_conflicts=True,  # another worker issued it first, or a code collided
        )
        codes.update(_existing(series, missing, issued_for))
    raise InvalidInput(f"Could not issue unique codes in series {series_name!r}; try again.")


def _existing(series: CouponSeries, contact_ids: Iterable[int], issued_for: str) -> dict[int, str]:
    return dict(
        Coupon.objects.filter(
            series=series, issued_for=issued_for, contact_id__in=list(contact_ids)
        ).values_list("contact_id", "code")
    )


def existing_code(series_name: str, contact_id: int) -> str | None:
    """The newest code a contact holds in a series, for previews (which never issue codes)."""
    return (
        Coupon.objects.filter(series__name=series_name, contact_id=contact_id)
        .order_by("-created_at")
        .values_list("code", flat=True)
        .first()
    )


@transaction.atomic
def redeem_orders_of(contact_ids: Iterable[int]) -> int:
    """Record redemptions for these contacts' orders that carry one of our codes and are not
    recorded yet; idempotent, so re-importing an order changes nothing."""
    orders = list(
        Order.objects.filter(contact_id__in=list(contact_ids), coupon_redemption__isnull=True)
        .exclude(coupon_code="")
        .values_list("pk", "contact_id", "coupon_code", "placed_at")
    )
    if not orders:
        return 0
    coupons = {
        coupon.code: coupon
        for coupon in Coupon.objects.select_for_update()
        .select_related("series")
        .filter(code__in={code.strip().upper() for _, _, code, _ in orders})
    }
    recorded = 0
    for order_id, contact_id, raw_code, placed_at in sorted(orders, key=lambda o: o[3]):
        coupon = coupons.get(raw_code.strip().upper())
        if coupon is None:
            continue  # a code of the shop's own, not one we issued
        reason = _refusal(coupon, contact_id, placed_at)
        CouponRedemption.objects.create(
            coupon=coupon,
            order_id=order_id,
            accepted=not reason,
            reason=reason,
            redeemed_at=placed_at,
        )
        if not reason:
            Coupon.objects.filter(pk=coupon.pk).update(times_used=F("times_used") + 1)
            coupon.times_used += 1
        recorded += 1
    return recorded


def _refusal(coupon: Coupon, contact_id: int, placed_at: dt.datetime) -> str:
    if coupon.contact_id != contact_id:
        return "issued to another contact"
    if coupon.expires_at and placed_at > coupon.expires_at:
        return "expired"
    if coupon.times_used >= coupon.series.usage_limit:
        return "already used"
    return ""


def create_series(
    *,
    name: str,
    kind: str,
    value: Decimal,
    description: str = "",
    prefix: str = "",
    currency: str = "",
    valid_days: int | None = None,
    expires_at: dt.datetime | None = None,
    usage_limit: int = 1,
    acting_user: User | None,
) -> CouponSeries:
    """A new offer that templates can hand out with ``coupon("NAME")``."""
    if acting_user is not None:
        require(acting_user, Perm.EDIT_CONTENT)
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", name):
        raise InvalidInput(
            "A series name is letters, digits, - and _ (e.g. SPRING25).", field="name"
        )
    if kind not in DiscountKind.values:
        raise InvalidInput(f"{kind!r} is not percent, amount or shipping.", field="kind")
    if kind == DiscountKind.PERCENT and not Decimal(0) < value <= Decimal(100):
        raise InvalidInput("A percentage is more than 0 and at most 100.", field="value")
    if usage_limit < 1:
        raise InvalidInput("A code can be used at least once.", field="usage_limit")
    if CouponSeries.objects.filter(name=name).exists():
        raise Conflict(f"There is already a coupon series {name!r}.")
    series = CouponSeries.objects.create(
        name=name,
        kind=kind,
        value=value,
        description=description,
        prefix=(prefix or name).upper()[:12],
        currency=currency.upper(),
        valid_days=valid_days,
        expires_at=expires_at,
        usage_limit=usage_limit,
    )
    record_audit(
        acting_user, "coupon_series.create", target_type="coupon_series", target_id=series.pk
    )
    return series
