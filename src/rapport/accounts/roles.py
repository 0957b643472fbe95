"""Roles and what each may do: the whole permission table in one place.

Views, API handlers and CLI commands ask ``can(user, Perm.X)`` (or ``require``); none of them
compares role names itself, so changing what a role may do is a one-line change here.
"""

from __future__ import annotations

from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    MARKETER = "marketer", _("Marketer")
    SUPPORT = "support", _("Support agent")
    VIEWER = "viewer", _("Viewer")


class Perm(StrEnum):
    VIEW_CONTACTS = "contacts.view"
    EDIT_CONTACTS = "contacts.edit"
    DELETE_CONTACTS = "contacts.delete"
    EDIT_CATALOG = "catalog.edit"
    EDIT_CONTENT = "content.edit"  # templates, coupon series, test sends
    MANAGE_JOURNEYS = "journeys.manage"  # build, switch on and off automation journeys
    IMPORT_DATA = "data.import"
    EXPORT_DATA = "data.export"
    MANAGE_USERS = "users.manage"
    MANAGE_SENDING = "sending.manage"  # SMTP servers, sending domains, the bounce policy
    VIEW_AUDIT = "audit.view"
    VIEW_REPORTS = "reports.view"  # campaign reports, their CSV tables, the dashboard's figures


_READ = frozenset({Perm.VIEW_CONTACTS, Perm.VIEW_REPORTS})
_SUPPORT = _READ | {Perm.EDIT_CONTACTS}
_MARKETER = _SUPPORT | {
    Perm.EDIT_CATALOG,
    Perm.EDIT_CONTENT,
    Perm.MANAGE_JOURNEYS,
    Perm.IMPORT_DATA,
    Perm.EXPORT_DATA,
}
_ADMIN = _MARKETER | {
    Perm.DELETE_CONTACTS,
    Perm.MANAGE_USERS,
    Perm.VIEW_AUDIT,
    Perm.MANAGE_SENDING,
}

ROLE_PERMISSIONS: dict[str, frozenset[Perm]] = {
    Role.OWNER: frozenset(Perm),
    Role.ADMIN: _ADMIN,
    Role.MARKETER: _MARKETER,
    Role.SUPPORT: _SUPPORT,
    Role.VIEWER: _READ,
}
