"""Who a campaign goes to: its segments and lists, minus its exclusions, minus everyone who may
not get marketing mail (no consent, or on the suppression list), all as one query."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet

from rapport.campaigns.models import Campaign
from rapport.crm.models import Contact, ContactStatus
from rapport.delivery.suppressions import not_suppressed
from rapport.segments.queries import segment_queryset


def may_receive_marketing() -> Q:
    """Consent given and not suppressed (by address or domain); checked again right before
    each hand-off."""
    return Q(status=ContactStatus.SUBSCRIBED) & not_suppressed()


def audience_queryset(campaign: Campaign, *, now: dt.datetime) -> QuerySet[Contact]:
    included = Q()
    excluded = Q()
    for member in campaign.audience.select_related("segment"):
        ids = segment_queryset(member.segment, now=now).values("pk")
        if member.exclude:
            excluded |= Q(pk__in=ids)
        else:
            included |= Q(pk__in=ids)
    if not included:
        return Contact.objects.none()
    query = Contact.objects.filter(included).filter(may_receive_marketing())
    return query.exclude(excluded) if excluded else query
