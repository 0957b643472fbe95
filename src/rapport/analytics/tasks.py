"""Background work of the analytics app: tasks take ids and stay thin."""

from __future__ import annotations

from django.tasks import task


@task()
def refresh_campaign_snapshot(campaign_id: int) -> None:
    """Retake a large campaign's delivery snapshot outside the page that found it stale."""
    from rapport.analytics.snapshot import refresh_snapshot  # noqa: PLC0415 - snapshot imports us

    refresh_snapshot(campaign_id)
