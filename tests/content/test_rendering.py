"""Rendering as real contacts: escaping, headers, locale formats, fallbacks, opting out."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from rapport.automation.models import PointsEntry
from rapport.content.checks import TemplateProblem
from rapport.content.services import (
    TemplateContent,
    check_content,
    compile_content,
    render_for_contact,
)
from rapport.crm.models import CustomField
from rapport.segments.facts import refresh_facts
from tests.factories import make_contact, make_order, make_product

pytestmark = pytest.mark.django_db


def _render(contact_id: int, html: str, subject: str = "Hi", text: str = ""):  # type: ignore[no-untyped-def]
    content = TemplateContent(subject=subject, html=html, text=text)
    usage = check_content(content)
    return render_for_contact(compile_content(content), usage, contact_id)


def test_contact_data_is_escaped_in_html_and_kept_as_text_in_the_text_part() -> None:
    contact = make_contact(given_name="<script>alert(1)</script>", family_name="O'Brien & Co")
    message = _render(contact.pk, "<p>Hello {{ contact.first_name }} {{ contact.last_name }}</p>")
    assert "<script>" not in message.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in message.html
    assert "O&#39;Brien &amp; Co" in message.html
    assert "Hello <script>alert(1)</script> O'Brien & Co" in message.text


def test_a_value_cannot_inject_headers_through_the_subject() -> None:
    contact = make_contact(given_name="Wei\r\nBcc: victim@example.com\nX-Evil: 1")
    message = _render(contact.pk, "<p>x</p>", subject="Hello {{ contact.first_name }}!")
    assert "\r" not in message.subject and "\n" not in message.subject
    assert message.subject == "Hello Wei Bcc: victim@example.com X-Evil: 1!"


def test_fallbacks_apply_to_missing_and_empty_values() -> None:
    nameless = make_contact(given_name="", family_name="", city="")
    message = _render(
        nameless.pk,
        '<p>Hi {{ contact.first_name | default("friend") }} from '
        '{{ contact.city | default("your town") }}, {{ contact.salutation }}</p>',
    )
    assert "Hi friend from your town, Dear customer" in message.html


@pytest.mark.parametrize(
    ("locale", "honorific", "expected"),
    [
        ("en", "ms", "Dear Ms Li"),
        ("en", "", "Dear Na"),
        ("zh-Hans", "ms", "亲爱的李女士"),
        ("zh-Hans", "mr", "亲爱的李先生"),
        ("zh-Hans", "", "亲爱的李娜"),
    ],
)
def test_greetings_follow_the_contacts_language(locale: str, honorific: str, expected: str) -> None:
    contact = make_contact(
        given_name="娜" if locale.startswith("zh") else "Na",
        family_name="李" if locale.startswith("zh") else "Li",
        honorific=honorific,
        locale=locale,
    )
    assert expected in _render(contact.pk, "<p>{{ contact.salutation }}</p>").html


@pytest.mark.parametrize(
    ("locale", "money", "day"),
    [
        ("en", "CN¥1,234.50", "February 10, 2027"),
        ("en-GB", "CN¥1,234.50", "10 February 2027"),
        ("zh-Hans", "¥1,234.50", "2027年2月10日"),
        ("de", "1.234,50\xa0CN¥", "10. Februar 2027"),
    ],
)
def test_money_and_dates_are_formatted_for_the_contacts_locale(
    locale: str, money: str, day: str
) -> None:
    CustomField.objects.create(key="renewal", label="Renewal", type="date")
    contact = make_contact(locale=locale, custom={"renewal": "2027-02-10"})
    html = (
        "<p>{{ 1234.5 | currency('CNY') }}|{{ contact.birthday | date('long') }}|"
        "{{ contact.custom.renewal }}</p>"
    )
    contact.birthday = dt.date(2027, 2, 10)
    contact.save()
    assert f"{money}|{day}|2027-02-10" in _render(contact.pk, html).html


def test_last_order_and_lifecycle_come_from_the_contacts_orders() -> None:
    contact = make_contact()
    lens = make_product(name="Kestrel 50mm Lens", price=Decimal("449.00"))
    make_order(contact, [lens], external_id="A-1", placed_at=timezone.now() - dt.timedelta(days=3))
    refresh_facts([contact.pk])
    html = (
        "<p>{{ contact.lifecycle }}: {{ contact.last_order.number }} "
        "{{ contact.last_order.items | join(', ') }} "
        "{{ contact.last_order.total | currency(contact.last_order.currency) }}</p>"
    )
    assert "new: A-1 Kestrel 50mm Lens CN¥449.00" in _render(contact.pk, html).html


def test_points_are_the_contacts_ledger_balance() -> None:
    """Journeys award points (automation.PointsEntry); a template shows the balance, and a
    contact without any shows 0 (the welcome template's "you already have" stays hidden)."""
    rich, poor = make_contact(), make_contact()
    now = timezone.now()
    PointsEntry.objects.bulk_create(
        [
            PointsEntry(contact=rich, points=100, reason="birthday", created_at=now),
            PointsEntry(contact=rich, points=50, reason="review", created_at=now),
            PointsEntry(contact=rich, points=-30, reason="redeemed", created_at=now),
        ]
    )
    html = "<p>{% if contact.points %}{{ contact.points }} points{% else %}none{% endif %}</p>"

    assert "<p>120 points</p>" in _render(rich.pk, html).html
    assert "<p>none</p>" in _render(poor.pk, html).html


def test_a_contact_who_turned_personalisation_off_gets_the_generic_email() -> None:
    contact = make_contact(
        given_name="Wei", family_name="Li", city="Shanghai", personalisation=False
    )
    make_order(contact, [make_product()], external_id="B-1")
    refresh_facts([contact.pk])
    html = (
        '<p>{{ contact.salutation }}, {{ contact.first_name | default("friend") }}, '
        '{{ contact.city | default("everywhere") }}'
        "{% if contact.last_order %} last order {{ contact.last_order.number }}{% endif %}</p>"
    )
    rendered = _render(contact.pk, html).html
    assert "Dear customer, friend, everywhere</p>" in rendered
    assert "Wei" not in rendered and "B-1" not in rendered


def test_text_part_is_derived_once_and_personalised_per_contact() -> None:
    contact = make_contact(given_name="Mei")
    message = _render(
        contact.pk,
        "<html><head><title>x</title><style>p{color:red}</style></head><body>"
        '<p>Hello {{ contact.first_name }}</p><p><a href="{{ unsubscribe_url }}">Unsubscribe</a>'
        "</p></body></html>",
    )
    assert message.text.startswith("Hello Mei\n")
    assert "Unsubscribe: http" in message.text
    assert 'style="color: red;"' in message.html


def test_unknown_names_are_refused_at_save_time_with_the_line() -> None:
    with pytest.raises(TemplateProblem) as caught:
        check_content(TemplateContent(subject="x", html="<p>\n{{ contact.frist_name }}</p>"))
    assert caught.value.line == 2
    assert "'contact.frist_name' is not a contact field" in caught.value.message


@pytest.mark.parametrize(
    ("html", "line", "words"),
    [
        ("<p>{{ contact.first_name }</p>", 1, "'}'"),
        ("<p>\n{% if contact.city %}x</p>", 2, "{% endif %}"),
        ("<p>{{ customer.name }}</p>", 1, "'customer' is not something"),
        ("<p>\n\n{{ contact.custom.tier }}</p>", 3, "not a custom field"),
        ('<p>{{ coupon("NOPE") }}</p>', 1, "no coupon series 'NOPE'"),
        ("<p>{{ recommendations(50) }}</p>", 1, "from 1 to 12"),
        ("<p>{{ x | nosuchfilter }}</p>", 1, "no filter called 'nosuchfilter'"),
        ("<p>{% include 'x.html' %}</p>", 1, "{% include %} is not available"),
    ],
)
def test_template_errors_name_the_line_in_words_a_marketer_understands(
    html: str, line: int, words: str
) -> None:
    with pytest.raises(TemplateProblem) as caught:
        check_content(TemplateContent(subject="Hello", html=html))
    assert caught.value.line == line
    assert words in caught.value.message
