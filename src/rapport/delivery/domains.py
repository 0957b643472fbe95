"""Sending domains: DKIM keys made here, the DNS records to publish, and a check of what DNS
actually says (SPF, DKIM, DMARC)."""

from __future__ import annotations

from dataclasses import dataclass

import dns.exception
import dns.resolver

from rapport.accounts.models import User
from rapport.accounts.services import record_audit
from rapport.delivery.dkim import ED25519_SHA256, RSA_SHA256, DkimKey, dns_record, generate_key
from rapport.delivery.models import SendingDomain
from rapport.errors import Conflict, InvalidInput


@dataclass(frozen=True, slots=True)
class DnsRecord:
    name: str
    value: str
    type: str


def _selectors(base: str) -> dict[str, str]:
    # One selector per algorithm: a name serves one key.
    return {RSA_SHA256: f"{base}-rsa", ED25519_SHA256: f"{base}-ed"}


def keys_of(domain: SendingDomain) -> list[DkimKey]:
    selectors = _selectors(domain.selector)
    return [
        DkimKey(domain.domain, selectors[RSA_SHA256], RSA_SHA256, bytes(domain.rsa_private_key)),
        DkimKey(
            domain.domain,
            selectors[ED25519_SHA256],
            ED25519_SHA256,
            bytes(domain.ed25519_private_key),
        ),
    ]


def add_domain(name: str, *, selector: str = "rapport", acting_user: User | None) -> SendingDomain:
    domain = name.strip().lower().rstrip(".")
    if "." not in domain or "@" in domain:
        raise InvalidInput(f"{name!r} is not a domain name (example.com).", field="domain")
    if SendingDomain.objects.filter(domain=domain).exists():
        raise Conflict(f"{domain} is set up already; its records: rapport domain records {domain}")
    selectors = _selectors(selector)
    try:
        rsa = generate_key(domain, selectors[RSA_SHA256], RSA_SHA256)
        ed = generate_key(domain, selectors[ED25519_SHA256], ED25519_SHA256)
    except ValueError as error:
        raise InvalidInput(str(error), field="domain") from None
    created = SendingDomain.objects.create(
        domain=domain,
        selector=selector,
        rsa_private_key=rsa.private_key_pem,
        ed25519_private_key=ed.private_key_pem,
    )
    record_audit(acting_user, "domain.add", target_type="domain", target_id=created.pk)
    return created


def records_to_publish(domain: SendingDomain) -> list[DnsRecord]:
    """The DKIM keys, plus a starting SPF and DMARC policy (SPF must also name the servers or
    provider that relay the mail: ``include:`` their domain)."""
    records = [DnsRecord(*dns_record(key), "TXT") for key in keys_of(domain)]
    records.append(DnsRecord(domain.domain, "v=spf1 mx ~all", "TXT"))
    dmarc = f"v=DMARC1; p=none; rua=mailto:dmarc@{domain.domain}"
    records.append(DnsRecord(f"_dmarc.{domain.domain}", dmarc, "TXT"))
    return records


def signing_keys(domain: str) -> tuple[DkimKey, ...]:
    """The keys to sign mail from ``domain`` with (none when it is not set up); read once per
    send run, so a key made or replaced in the UI is used from the next run on."""
    found = SendingDomain.objects.filter(domain=domain.lower()).first()
    return tuple(keys_of(found)) if found else ()


def _txt(name: str) -> list[str]:
    try:
        answer = dns.resolver.resolve(name, "TXT", lifetime=5)
    except (dns.exception.DNSException, OSError):
        return []
    return [b"".join(r.strings).decode("utf-8", "replace") for r in answer]


def check_domain(domain: SendingDomain) -> dict[str, object]:
    """What DNS says now: SPF, each DKIM key (published and matching), DMARC."""
    spf = [t for t in _txt(domain.domain) if t.lower().startswith("v=spf1")]
    dmarc = [t for t in _txt(f"_dmarc.{domain.domain}") if t.lower().startswith("v=dmarc1")]
    dkim = {}
    for key in keys_of(domain):
        name, expected = dns_record(key)
        published = _txt(name)
        dkim[name] = {"published": bool(published), "matches": expected in published}
    return {
        "domain": domain.domain,
        "spf": spf[0] if spf else None,
        "dkim": dkim,
        "dmarc": dmarc[0] if dmarc else None,
    }
