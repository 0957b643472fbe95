"""Templates with versions, the starting library, and a test send through a real SMTP server."""

from __future__ import annotations

import email
import email.policy

import pytest

from rapport.accounts.roles import Role
from rapport.content.library import library
from rapport.content.models import Template
from rapport.content.services import (
    TemplateContent,
    create_template,
    save_version,
    send_test,
)
from rapport.delivery.mailcatcher import make_controller
from rapport.delivery.models import CaughtMessage
from rapport.errors import PermissionDenied
from tests.factories import make_contact, make_user
from tools.with_postgres import free_port


@pytest.mark.django_db
def test_the_library_is_installed_in_both_languages_and_renders_cleanly() -> None:
    installed = {t.library_key: t for t in Template.objects.exclude(library_key="")}
    assert set(installed) == {entry.key for entry in library()}
    assert {key.split(".")[1] for key in installed} == {"en", "zh-hans"}
    assert {t.kind for t in installed.values()} == {
        "newsletter", "welcome", "birthday", "promotion", "winback"
    }  # fmt: skip
    for template in installed.values():
        version = template.current
        assert version is not None
        assert version.warnings == []
        assert "@media" in version.compiled_html  # phones get their own layout
        assert 'style="' in version.compiled_html  # and the CSS is inlined
        assert "{{ unsubscribe_url }}" in version.compiled_text


@pytest.mark.django_db
def test_saving_makes_a_new_version_and_keeps_the_old_one() -> None:
    marketer = make_user(Role.MARKETER)
    template = create_template(
        name="Spring news",
        content=TemplateContent(subject="Spring", html="<p>v1 {{ contact.first_name }}</p>"),
        acting_user=marketer,
    )
    first = template.current
    second = save_version(
        template.pk,
        TemplateContent(subject="Spring!", html="<p>v2</p>", text="Plain v2"),
        acting_user=marketer,
    )
    template.refresh_from_db()
    assert first is not None
    assert (first.number, second.number) == (1, 2)
    assert template.current == second
    assert second.compiled_text == "Plain v2"
    first.refresh_from_db()
    assert "v1" in first.html


@pytest.mark.django_db
def test_a_viewer_cannot_edit_templates() -> None:
    with pytest.raises(PermissionDenied):
        create_template(
            name="x",
            content=TemplateContent(subject="x", html="<p>x</p>"),
            acting_user=make_user(Role.VIEWER),
        )


@pytest.mark.django_db(transaction=True)
def test_a_test_send_arrives_over_smtp_rendered_as_the_chosen_contact(settings) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 10},
        }
    }
    contact = make_contact(given_name="娜", family_name="李", honorific="ms", locale="zh-Hans")
    template = create_template(
        name="Greeting",
        content=TemplateContent(
            subject="{{ contact.salutation }}，新品到了",
            html="<p>{{ contact.salutation }}：欢迎！</p>",
            from_email="shop@example.com",
        ),
        acting_user=None,
    )
    controller = make_controller("127.0.0.1", port)
    controller.start()
    try:
        send_test(
            template, contact_id=contact.pk, to_address="Tester@Example.com", acting_user=None
        )
    finally:
        controller.stop()

    caught = CaughtMessage.objects.get()
    assert caught.recipients == ["tester@example.com"]
    parsed = email.message_from_bytes(bytes(caught.raw), policy=email.policy.default)
    assert parsed["Subject"] == "[Test] 亲爱的李女士，新品到了"
    assert parsed["X-Rapport-Test"] == "1"
    html = parsed.get_body(("html",))
    text = parsed.get_body(("plain",))
    assert html is not None and text is not None
    assert "亲爱的李女士：欢迎！" in html.get_content()
    assert "亲爱的李女士：欢迎！" in text.get_content()
