"""Settings → Sending: the organisation, SMTP servers, DKIM domains and the bounce policy,
for admins only, each form answering a mistake with the reason next to the field."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.test import Client
from django.utils import timezone

from rapport.accounts.roles import Role
from rapport.campaigns.models import Campaign
from rapport.campaigns.services import schedule_of
from rapport.content.models import Workspace
from rapport.delivery.models import BouncePolicy, SendingDomain, SmtpServer
from rapport.delivery.servers import sending_url
from tests.smtp_server import smtp_server
from tools.with_postgres import free_port

ClientFor = Callable[..., Client]


def test_only_admins_see_and_change_sending_settings(client_for: ClientFor) -> None:
    assert client_for(Role.MARKETER).get("/settings/sending/").status_code == 403
    assert client_for(Role.MARKETER).post("/settings/sending/policy", {}).status_code == 403
    page = client_for(Role.ADMIN).get("/settings/sending/").content.decode()
    assert 'id="workspace-form"' in page and 'id="server-form"' in page


def test_the_postal_address_campaigns_need_is_set_here(client_for: ClientFor) -> None:
    client = client_for(Role.OWNER)
    response = client.post(
        "/settings/sending/workspace",
        {"name": "Lotus Tea", "postal_address": "88 Century Ave\nShanghai",
         "from_email": "news@lotus-tea.cn", "locale": "zh-hans"},
    )  # fmt: skip
    assert response.status_code == 302
    workspace = Workspace.current()
    assert workspace.postal_address == "88 Century Ave\nShanghai"
    assert workspace.from_email == "news@lotus-tea.cn"

    broken = client.post(
        "/settings/sending/workspace",
        {"name": "Lotus\r\nBcc: all@example.com", "from_email": "news@lotus-tea.cn",
         "locale": "en"},
    )  # fmt: skip
    assert broken.status_code == 200
    assert "Line breaks are not allowed here." in broken.content.decode()
    assert Workspace.current().name == "Lotus Tea"


def test_a_server_is_tried_saved_used_and_removed(client_for: ClientFor) -> None:
    client = client_for(Role.ADMIN)
    fields = {"name": "Relay", "host": "127.0.0.1", "security": "none", "connections": 2,
              "per_domain": 2, "rate": 0}  # fmt: skip
    closed = client.post("/settings/sending/server", {**fields, "port": free_port()})
    assert "Cannot use 127.0.0.1" in closed.content.decode()
    assert not SmtpServer.objects.exists()

    with smtp_server() as (_, port):
        assert client.post("/settings/sending/server", {**fields, "port": port}).status_code == 302
    server = SmtpServer.objects.get()
    assert f"127.0.0.1:{port}" in client.get("/settings/sending/").content.decode()

    client.post(f"/settings/smtp-servers/{server.pk}/use")
    assert sending_url().startswith(f"smtp://127.0.0.1:{port}?")
    client.post(f"/settings/smtp-servers/{server.pk}/stop")
    assert not SmtpServer.objects.filter(active=True).exists()
    client.post(f"/settings/smtp-servers/{server.pk}/delete")
    assert not SmtpServer.objects.exists()


def test_the_bounce_policy_is_entered_in_percent(client_for: ClientFor) -> None:
    response = client_for(Role.ADMIN).post(
        "/settings/sending/policy",
        {"soft_bounces_to_suppress": 5, "soft_bounce_days": 14, "pause_bounce_rate": 8,
         "pause_complaint_rate": 0.2, "minimum_sent": 500},
    )  # fmt: skip
    assert response.status_code == 302
    policy = BouncePolicy.current()
    assert (policy.soft_bounces_to_suppress, policy.soft_bounce_days) == (5, 14)
    assert abs(policy.pause_bounce_rate - 0.08) < 1e-9
    assert abs(policy.pause_complaint_rate - 0.002) < 1e-9


def test_a_sending_domain_gets_keys_and_its_records_are_shown(client_for: ClientFor) -> None:
    client = client_for(Role.ADMIN)
    assert client.post("/settings/sending/domain", {"domain": "Lotus-Tea.cn"}).status_code == 302
    assert SendingDomain.objects.filter(domain="lotus-tea.cn").exists()
    page = client.get("/settings/sending/").content.decode()
    assert "rapport._domainkey.lotus-tea.cn" in page or "._domainkey.lotus-tea.cn" in page
    again = client.post("/settings/sending/domain", {"domain": "lotus-tea.cn"}).content.decode()
    assert "set up already" in again


def test_the_workspace_window_is_the_default_of_campaigns_without_their_own(
    client_for: ClientFor,
) -> None:
    client = client_for(Role.OWNER)
    fields = {"name": "Lotus Tea", "postal_address": "88 Century Ave", "locale": "en",
              "from_email": "news@lotus-tea.cn"}  # fmt: skip
    wrong = client.post(
        "/settings/sending/workspace",
        {**fields, "window_days": [0], "window_start": "15:00", "window_end": "09:00"},
    )
    assert "opening time before its closing time" in wrong.content.decode()
    client.post(
        "/settings/sending/workspace",
        {**fields, "window_days": [0, 4], "window_start": "09:00", "window_end": "11:00"},
    )
    campaign = Campaign(name="x", schedule_mode="window")

    window = schedule_of(campaign, timezone.now()).window

    assert (window.weekdays, window.start, window.end) == (
        frozenset({0, 4}),
        dt.time(9),
        dt.time(11),
    )
    campaign.window_days, campaign.window_start, campaign.window_end = [2], dt.time(8), dt.time(9)
    assert schedule_of(campaign, timezone.now()).window.weekdays == frozenset({2})
