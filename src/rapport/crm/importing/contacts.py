"""Contacts import: upsert by normalised email; blank cells never erase stored values.

Re-importing the same file changes nothing: a row whose merged values equal the stored
ones is not written. Interests, tags and custom fields are merged, never replaced, and
an unsubscribed, bounced or complained contact is never turned back into a subscriber.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils import timezone

from rapport.crm import fields as f
from rapport.crm.bulk import insert_rows, update_rows
from rapport.crm.custom_fields import CustomFieldDef, load_definitions, value_parser
from rapport.crm.importing.base import (
    BatchOutcome,
    ImportOptions,
    ParsedRow,
    Parser,
    RowError,
    limited,
    memoised,
    read_cells,
)
from rapport.crm.importing.columns import CONTACT_HEADERS, ColumnPlan, plan_columns
from rapport.crm.models import SUPPRESSED_STATUSES, Company, Contact, ContactStatus
from rapport.crm.names import search_key, split_full_name

# Columns written for a new contact, in this order.
INSERT_FIELDS = (
    "email",
    "given_name",
    "family_name",
    "honorific",
    "search_name",
    "phone",
    "birthday",
    "birthday_year_known",
    "locale",
    "timezone",
    "country",
    "region",
    "city",
    "audience",
    "company",
    "interests",
    "tags",
    "custom",
    "status",
    "consent_source",
    "consent_at",
    "personalisation",
    "source",
    "created_at",
    "updated_at",
)
# Columns written only when the file has them (new rows take the database default): the
# demo generator writes exactly ``INSERT_FIELDS``.
OPTIONAL_FIELDS = ("tracking",)
_DEFAULTS: dict[str, Any] = {
    "given_name": "",
    "family_name": "",
    "honorific": "",
    "phone": "",
    "birthday": None,
    "birthday_year_known": True,
    "locale": "",
    "timezone": "",
    "country": "",
    "region": "",
    "city": "",
    "audience": "b2c",
    "company": None,
    "interests": [],
    "tags": [],
    "custom": {},
    "consent_source": "",
    "consent_at": None,
    "personalisation": True,
    "tracking": True,
}


def new_contact_row(email: str, status: str, source: str, now: Any) -> list[Any]:
    """``INSERT_FIELDS`` values of a contact known only by email (e.g. a buyer)."""
    row = {
        **_DEFAULTS,
        "email": email,
        "status": status,
        "source": source,
        "search_name": "",
        "created_at": now,
        "updated_at": now,
    }
    return [row[name] for name in INSERT_FIELDS]


# Fields that are merged rather than overwritten.
_MERGED = ("interests", "tags", "custom")


class ContactImport:
    kind: str = "contacts"
    required: tuple[str, ...] = ("email",)

    def __init__(self) -> None:
        self.options = ImportOptions()
        self.plan_: ColumnPlan | None = None
        self.parsers: dict[str, Parser] = {}
        self.custom_defs: dict[str, CustomFieldDef] = {}
        self.companies: dict[str, int] = {}
        self.update_fields: tuple[str, ...] = ()
        self.insert_fields: tuple[str, ...] = INSERT_FIELDS
        self.custom_columns: tuple[str, ...] = ()

    def plan(self, headers: Sequence[str], options: ImportOptions) -> ColumnPlan:
        self.options = options
        new_status = f.normalise_status(options.status)
        if new_status not in {
            ContactStatus.SUBSCRIBED,
            ContactStatus.PENDING,
            ContactStatus.NOT_SUBSCRIBED,
        }:
            raise f.FieldError(f"new contacts cannot be imported as {new_status!r}")
        self.custom_defs = load_definitions()
        extra: dict[str, str] = {}
        for key, definition in self.custom_defs.items():
            for spelling in (key, f"custom.{key}", definition.label):
                extra[spelling] = f"custom.{key}"
        plan = plan_columns(
            headers,
            CONTACT_HEADERS,
            explicit=options.columns,
            extra_fields=extra,
            required=self.required,
        )
        date_format = options.date_format
        self.parsers = {
            "email": f.normalise_email,
            "full_name": limited(201),
            "given_name": memoised(limited(100)),
            "family_name": memoised(limited(100)),
            "honorific": memoised(f.normalise_honorific),
            "phone": f.normalise_phone,
            "birthday": memoised(lambda raw: f.parse_birthday(raw, date_format)),
            "locale": memoised(f.normalise_locale),
            "timezone": memoised(f.normalise_timezone),
            "country": memoised(f.normalise_country),
            "region": memoised(limited(100)),
            "city": memoised(limited(100)),
            "audience": memoised(f.normalise_audience),
            "company": memoised(limited(200)),
            # Lists are shared between rows by the cache; nothing downstream mutates them.
            "interests": memoised(f.split_list),
            "tags": memoised(f.split_list),
            "status": memoised(f.normalise_status),
            "consent_source": memoised(limited(200)),
            "personalisation": memoised(f.parse_bool),
            "tracking": memoised(f.parse_bool),
        }
        for key, definition in self.custom_defs.items():
            self.parsers[f"custom.{key}"] = value_parser(definition)
        present = {name for name in plan.fields if name}
        written = set()
        for name in present:
            if name == "full_name" or name in {"given_name", "family_name"}:
                written |= {"given_name", "family_name", "search_name"}
            elif name == "birthday":
                written |= {"birthday", "birthday_year_known"}
            elif name.startswith("custom."):
                written.add("custom")
            elif name == "status":
                written |= {"status", "consent_source", "consent_at"}
            elif name != "email":
                written.add(name)
        self.insert_fields = INSERT_FIELDS + tuple(n for n in OPTIONAL_FIELDS if n in present)
        self.update_fields = tuple(n for n in self.insert_fields if n in written)
        self.custom_columns = tuple(n for n in present if n.startswith("custom."))
        self.plan_ = plan
        return plan

    def parse(self, line: int, cells: Sequence[str]) -> ParsedRow:
        assert self.plan_ is not None
        values = read_cells(self.plan_, self.parsers, cells)
        email = values.get("email")
        if not email:
            raise RowError(self.plan_.column_of("email"), "is empty; every contact needs an email")
        full_name = values.pop("full_name", None)
        if full_name and "given_name" not in values and "family_name" not in values:
            values["given_name"], values["family_name"] = split_full_name(full_name)
        if "birthday" in values:
            values["birthday"], values["birthday_year_known"] = values["birthday"]
        if self.custom_columns:
            custom = {k[7:]: values.pop(k) for k in self.custom_columns if k in values}
            if custom:
                values["custom"] = custom
        return ParsedRow(line=line, key=email, values=values, cells=cells)

    def _company_ids(self, rows: Sequence[ParsedRow]) -> None:
        names = {r.values["company"] for r in rows if "company" in r.values}
        missing = names - self.companies.keys()
        if not missing:
            return
        Company.objects.bulk_create([Company(name=n) for n in missing], ignore_conflicts=True)
        self.companies.update(Company.objects.filter(name__in=missing).values_list("name", "id"))

    def write(self, rows: Sequence[ParsedRow]) -> BatchOutcome:
        self._company_ids(rows)
        now = timezone.now()
        compare = self.update_fields
        stored = {
            record[1]: record
            for record in Contact.objects.filter(email__in=[r.key for r in rows]).values_list(
                "id", "email", "status", *(n for n in compare if n != "status")
            )
        }
        compare_order = ["status", *(n for n in compare if n != "status")]
        inserts: list[list[Any]] = []
        updates: list[list[Any]] = []
        for row in rows:
            values = self._resolved(row.values)
            record = stored.get(row.key)
            if record is None:
                inserts.append(self._new_row(row.key, values, now))
                continue
            current = dict(zip(compare_order, record[2:], strict=True))
            merged = self._merged(current, values, now)
            if any(merged[n] != current[n] for n in compare):
                updates.append([*(merged[n] for n in compare), now, record[0]])
        insert_rows(Contact, self.insert_fields, inserts)
        update_rows(Contact, [*compare, "updated_at"], updates)
        outcome = BatchOutcome(created=len(inserts), updated=len(updates))
        if self.options.list_name:
            outcome.contact_ids = [record[0] for record in stored.values()]
            if inserts:
                new_emails = [row[0] for row in inserts]
                outcome.contact_ids += list(
                    Contact.objects.filter(email__in=new_emails).values_list("pk", flat=True)
                )
        return outcome

    def _resolved(self, values: dict[str, Any]) -> dict[str, Any]:
        if "company" in values:
            values = {**values, "company": self.companies[values["company"]]}
        return values

    def _new_row(self, email: str, values: dict[str, Any], now: Any) -> list[Any]:
        row = {**_DEFAULTS, **values}
        # A file may record that someone already opted out; that status is kept as given.
        status = values.get("status") or self.options.status
        subscribed = status == ContactStatus.SUBSCRIBED
        row.update(
            email=email,
            created_at=now,
            updated_at=now,
            source=self.options.source,
            status=status,
            search_name=search_key(row["given_name"], row["family_name"]),
            consent_source=(values.get("consent_source") or self.options.consent_source)
            if subscribed
            else row["consent_source"],
            consent_at=now if subscribed else None,
        )
        return [row[name] for name in self.insert_fields]

    def _merged(self, current: dict[str, Any], values: dict[str, Any], now: Any) -> dict[str, Any]:
        merged = dict(current)
        for name, value in values.items():
            if name not in merged or name == "status":
                continue
            if name in ("interests", "tags"):
                merged[name] = current[name] + [v for v in value if v not in current[name]]
            elif name == "custom":
                merged[name] = {**current[name], **value}
            else:
                merged[name] = value
        if "given_name" in values or "family_name" in values:
            merged["search_name"] = search_key(merged["given_name"], merged["family_name"])
        new_status = values.get("status")
        # Only the person may leave a suppressed status; an import may record an opt-out.
        allowed = current["status"] not in SUPPRESSED_STATUSES or new_status in SUPPRESSED_STATUSES
        if new_status and new_status != current["status"] and allowed:
            merged["status"] = new_status
            if new_status == ContactStatus.SUBSCRIBED:
                merged["consent_at"] = now
                merged["consent_source"] = (
                    values.get("consent_source") or self.options.consent_source
                )
        return merged
