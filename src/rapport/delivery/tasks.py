"""Background tasks of the delivery app: they take ids and hand the work on."""

from __future__ import annotations

from django.tasks import task


@task(queue_name="send")
def send_campaign(campaign_id: int) -> None:
    """Send what is due now; safe to run twice or on several workers at once."""
    from rapport.campaigns.services import get_campaign_for  # noqa: PLC0415 - light start-up
    from rapport.delivery.pipeline import CampaignSender, default_pool  # noqa: PLC0415

    campaign = get_campaign_for(None, campaign_id)
    with default_pool() as pool:
        CampaignSender(campaign, pool).run()


@task(queue_name="send")
def read_bounce_mailbox() -> dict[str, object]:
    """Read the bounce mailbox of ``RAPPORT_BOUNCE_IMAP_URL`` once."""
    from django.conf import settings  # noqa: PLC0415

    from rapport.delivery.mailbox import MailboxSettings, read_bounces  # noqa: PLC0415

    if not settings.BOUNCE_MAILBOX:
        return {"read": 0}
    return read_bounces(MailboxSettings(**settings.BOUNCE_MAILBOX)).as_dict()
