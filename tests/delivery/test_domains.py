"""``rapport domain add`` makes keys and prints records that verify; ``check`` reads DNS."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rapport.delivery.domains import add_domain
from rapport.errors import Conflict, InvalidInput
from tests.helpers import run_cli

pytestmark = pytest.mark.django_db


@pytest.mark.django_db(transaction=True)
def test_add_prints_dkim_spf_and_dmarc_records(tmp_path: Path) -> None:
    done = run_cli("domain", "add", "Shop.Example.com", "--json", tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    records = {r["name"]: r["value"] for r in json.loads(done.stdout)}
    assert records["rapport-rsa._domainkey.shop.example.com"].startswith("v=DKIM1; k=rsa; p=")
    assert records["rapport-ed._domainkey.shop.example.com"].startswith("v=DKIM1; k=ed25519; p=")
    assert records["shop.example.com"].startswith("v=spf1")
    assert records["_dmarc.shop.example.com"].startswith("v=DMARC1")
    again = run_cli("domain", "add", "shop.example.com", tmp_path=tmp_path)
    assert again.returncode == 2
    unknown = run_cli("domain", "check", "other.example.com", tmp_path=tmp_path)
    assert unknown.returncode == 2


def test_bad_names_and_repeats_are_refused() -> None:
    add_domain("mail.example.org", acting_user=None)
    with pytest.raises(Conflict):
        add_domain("MAIL.example.org.", acting_user=None)
    for bad in ("localhost", "user@example.org", "exa mple.org"):
        with pytest.raises(InvalidInput):
            add_domain(bad, acting_user=None)
