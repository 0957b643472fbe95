"""English and Simplified Chinese: the switch, where the choice is kept, the catalogue."""

from __future__ import annotations

from collections.abc import Callable

from babel.messages.pofile import read_po
from django.test import Client

from rapport.accounts.models import AuditEntry, User
from rapport.accounts.roles import Role
from tests.factories import PASSWORD, make_contact, make_order, make_product, make_user
from tests.web.messages import CATALOGUES, ui_messages

ClientFor = Callable[[str], Client]


def test_switch_saves_the_language_on_the_user(client_for: ClientFor) -> None:
    client = client_for(Role.VIEWER)
    user = client.user  # type: ignore[attr-defined]
    response = client.post("/account/language/", {"language": "zh-hans", "next": "/contacts/"})
    assert response.status_code == 302
    assert response["Location"] == "/contacts/"
    assert User.objects.get(pk=user.pk).language == "zh-hans"
    assert AuditEntry.objects.filter(action="user.language", actor=user).exists()

    # A new browser (no cookie) still gets Chinese: the choice is on the account.
    fresh = Client()
    fresh.force_login(User.objects.get(pk=user.pk))
    page = fresh.get("/contacts/").content.decode()
    assert "联系人" in page and "搜索" in page
    assert '<html lang="zh-hans">' in page


def test_pages_render_in_chinese(client_for: ClientFor) -> None:
    contact = make_contact(given_name="伟", family_name="张", status="unsubscribed")
    make_order(contact, [make_product()])
    client = client_for(Role.OWNER, language="zh-hans")  # type: ignore[call-arg]
    expected = {
        "/": ["概览", "最新联系人", "近 30 天收入"],
        "/contacts/": ["共 1 位联系人", "已退订", "导出 CSV"],
        f"/contacts/{contact.pk}/": ["资料", "订单", "动态", "下单", "邮箱"],
        "/imports/": ["上传文件", "文件内容", "最近导入"],
        "/account/password/": ["修改密码"],
    }
    for url, texts in expected.items():
        page = client.get(url).content.decode()
        for text in texts:
            assert text in page, (url, text)


def test_anonymous_switch_uses_the_cookie(client: Client, db: None) -> None:
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/login/"})
    assert response.status_code == 302
    assert "登录" in client.get("/login/").content.decode()
    assert "zh-hans" in client.get("/login/").content.decode()


def test_unknown_language_is_refused(client_for: ClientFor) -> None:
    client = client_for(Role.VIEWER)
    assert client.post("/account/language/", {"language": "xx"}).status_code == 400


def test_catalogue_translates_every_message_of_the_ui() -> None:
    catalogues = []
    for path in CATALOGUES:
        with path.open("rb") as source:
            catalogues.append(read_po(source))
    missing = []
    for message in ui_messages():
        key = message[0] if isinstance(message, tuple) else message
        entry = next((c.get(key) for c in catalogues if c.get(key) is not None), None)
        strings = entry.string if entry is not None else None
        texts = strings if isinstance(strings, tuple | list) else [strings]
        if entry is None or entry.fuzzy or not all(texts):
            missing.append(message)
    assert not missing, f"translate these in one of {CATALOGUES}: {missing}"


def test_language_chosen_on_the_login_page_is_kept_after_sign_in(client: Client, db: None) -> None:
    user = make_user(Role.SUPPORT)
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/login/"})
    response = client.post("/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    assert User.objects.get(pk=user.pk).language == "zh-hans"
    assert "概览" in client.get("/").content.decode()
