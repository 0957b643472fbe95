"""The per-contact tracking switch travels through CSV imports and exports."""

from __future__ import annotations

from pathlib import Path

import pytest

from rapport.crm.exporting import contact_rows
from rapport.crm.imports import import_file
from rapport.crm.models import Contact
from tests.factories import make_contact

pytestmark = pytest.mark.django_db


def test_contacts_import_and_export_carry_the_tracking_switch(tmp_path: Path) -> None:
    kept = make_contact(email="kept@example.com")
    csv = tmp_path / "contacts.csv"
    csv.write_text(
        "email,tracking\nkept@example.com,no\nnew@example.com,否\nplain@example.com,\n",
        encoding="utf-8",
    )
    import_file("contacts", csv, acting_user=None)
    kept.refresh_from_db()
    assert kept.tracking is False
    assert Contact.objects.get(email="new@example.com").tracking is False
    assert Contact.objects.get(email="plain@example.com").tracking is True

    header, *rows = list(contact_rows(Contact.objects.all()))
    column = header.index("tracking")
    assert {row[0]: row[column] for row in rows}["kept@example.com"] == "False"
