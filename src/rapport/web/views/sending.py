"""Settings → Sending: who sends (name, postal address, default sender), through which SMTP
server, from which DKIM-signed domains, and when bounces suppress or pause. Admins only: these
decide whether mail arrives at all."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rapport.accounts.access import require
from rapport.accounts.roles import Perm
from rapport.content.models import Workspace
from rapport.content.services import save_workspace
from rapport.delivery import servers
from rapport.delivery.bouncing import save_bounce_policy
from rapport.delivery.domains import add_domain, records_to_publish
from rapport.delivery.models import BouncePolicy, SendingDomain, SmtpServer
from rapport.errors import Conflict, InvalidInput
from rapport.tracking.forms import TrackingSettingsForm
from rapport.tracking.models import TrackingSettings
from rapport.tracking.services import save_tracking_settings
from rapport.web.decorators import acting_user, page
from rapport.web.forms import BouncePolicyForm, DomainForm, SmtpServerForm, WorkspaceForm


def _policy_initial() -> dict[str, Any]:
    policy = BouncePolicy.current()
    return {
        "soft_bounces_to_suppress": policy.soft_bounces_to_suppress,
        "soft_bounce_days": policy.soft_bounce_days,
        "pause_bounce_rate": round(policy.pause_bounce_rate * 100, 2),
        "pause_complaint_rate": round(policy.pause_complaint_rate * 100, 3),
        "minimum_sent": policy.minimum_sent,
    }


def _workspace_initial() -> dict[str, Any]:
    workspace = Workspace.current()
    fields = ("name", "postal_address", "website", "from_name", "from_email", "reply_to",
              "locale", "window_days", "window_start", "window_end")  # fmt: skip
    return {field: getattr(workspace, field) for field in fields}


def _tracking_initial() -> dict[str, Any]:
    choices = TrackingSettings.current()
    fields = ("enabled", "click_window_hours", "attribute_opens", "open_window_hours")
    return {field: getattr(choices, field) for field in fields}


def _render(request: HttpRequest, **forms: Any) -> HttpResponse:
    context = {
        "workspace_form": forms.get("workspace_form")
        or WorkspaceForm(initial=_workspace_initial()),
        "server_form": forms.get("server_form") or SmtpServerForm(),
        "policy_form": forms.get("policy_form") or BouncePolicyForm(initial=_policy_initial()),
        "domain_form": forms.get("domain_form") or DomainForm(),
        "tracking_form": forms.get("tracking_form")
        or TrackingSettingsForm(initial=_tracking_initial()),
        "servers": SmtpServer.objects.order_by("name"),
        "active_url_is_env": not SmtpServer.objects.filter(active=True).exists(),
        "domains": [(d, records_to_publish(d)) for d in SendingDomain.objects.order_by("domain")],
    }
    return render(request, "web/settings/sending.html", context)


@page
def sending_page(request: HttpRequest) -> HttpResponse:
    require(acting_user(request), Perm.MANAGE_SENDING)
    return _render(request)


@page
@require_POST
def sending_save(request: HttpRequest, part: str) -> HttpResponse:
    """One form of the page at a time; on a mistake the page comes back with it marked."""
    user = acting_user(request)
    require(user, Perm.MANAGE_SENDING)
    handlers = {
        "workspace": (WorkspaceForm, _save_workspace),
        "server": (SmtpServerForm, _save_server),
        "policy": (BouncePolicyForm, _save_policy),
        "domain": (DomainForm, _save_domain),
        "tracking": (TrackingSettingsForm, _save_tracking),
    }
    if part not in handlers:
        return redirect("sending")
    form_class, save = handlers[part]
    form = form_class(request.POST)
    if form.is_valid():
        try:
            save(form.cleaned_data, user)
        except (InvalidInput, Conflict) as error:
            field = getattr(error, "field", None)
            form.add_error(field if field in form.fields else None, error.message)
        else:
            messages.success(request, _("Saved."))
            return redirect("sending")
    return _render(request, **{f"{part}_form": form})


def _save_workspace(data: dict[str, Any], user: Any) -> None:
    save_workspace(**data, acting_user=user)


def _save_server(data: dict[str, Any], user: Any) -> None:
    servers.save_server(servers.ServerInput(**data), acting_user=user)


def _save_policy(data: dict[str, Any], user: Any) -> None:
    data = dict(data)
    data["pause_bounce_rate"] /= 100
    data["pause_complaint_rate"] /= 100
    save_bounce_policy(**data, acting_user=user)


def _save_domain(data: dict[str, Any], user: Any) -> None:
    add_domain(data["domain"], acting_user=user)


def _save_tracking(data: dict[str, Any], user: Any) -> None:
    save_tracking_settings(**data, acting_user=user)


@page
@require_POST
def server_action(request: HttpRequest, server_id: int, action: str) -> HttpResponse:
    user = acting_user(request)
    if action == "use":
        servers.use_server(server_id, acting_user=user)
        messages.success(request, _("Campaigns now go through this server."))
    elif action == "stop":
        servers.use_server(None, acting_user=user)
        messages.success(request, _("Campaigns go through RAPPORT_SMTP_URL again."))
    elif action == "delete":
        servers.delete_server(server_id, acting_user=user)
        messages.success(request, _("Server removed."))
    return redirect("sending")
