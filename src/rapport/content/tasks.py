"""Background tasks of the content app."""

from __future__ import annotations

from django.tasks import task


@task(queue_name="default")
def retrain_recommendations() -> None:
    """Retrain from all orders; queued after each import of orders or products."""
    from rapport.content.recommend import train  # noqa: PLC0415 - keeps worker start-up light

    train()
