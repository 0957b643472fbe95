"""The main path in a real browser, in English and in 简体中文: sign in, import, search, open.

The live server runs in this process; ``settings.TASKS`` uses the ImmediateBackend (see
tests/conftest.py), so the uploaded file is imported before the upload's redirect.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from rapport.accounts.roles import Role
from rapport.crm.models import Contact
from tests.factories import PASSWORD, make_user

TEXT = {
    "en": {
        "sign_in": "Sign in",
        "done": "Done",
        "profile": "Profile",
        "imports": "Imports",
        "contacts": "Contacts",
        "import": "Import",
    },
    "zh-hans": {
        "sign_in": "登录",
        "done": "已完成",
        "profile": "资料",
        "imports": "导入",
        "contacts": "联系人",
        "import": "导入",
    },
}


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_sign_in_import_search_and_open_a_contact(
    browser: Browser, live_server: Any, tmp_path: Path, language: str
) -> None:
    text = TEXT[language]
    user = make_user(Role.MARKETER)
    csv_file = tmp_path / "customers.csv"
    csv_file.write_text(
        "邮箱,姓名,手机,国家\n"
        f"wei.zhang.{language}@example.cn,张伟,13812345678,CN\n"
        f"anna.{language}@example.com,Anna Schmidt,,DE\n",
        encoding="utf-8",
    )
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )

    page.goto(f"{live_server.url}/login/")
    if language != "en":
        page.locator(f".lang-switch button[value='{language}']").click()
    expect(page.locator("h1")).to_have_text(text["sign_in"])
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.locator("form button.btn-primary").click()
    expect(page.locator(".nav")).to_contain_text(text["contacts"])

    page.locator(".nav a[href='/imports/']").click()
    expect(page.locator("h1")).to_have_text(text["imports"])
    page.select_option("#id_kind", "contacts")
    page.set_input_files("#id_file", str(csv_file))
    page.locator("#import-form button[type=submit]").click()
    row = page.locator("#import-jobs tbody tr").first
    expect(row).to_contain_text("customers.csv")
    expect(row.locator(".badge")).to_have_text(text["done"])
    assert Contact.objects.filter(email=f"wei.zhang.{language}@example.cn").exists()

    page.locator(".nav a[href='/contacts/']").click()
    page.fill("input[name=q]", "张伟")
    page.keyboard.press("Enter")
    results = page.locator("#contacts-table tbody tr")
    expect(results).to_have_count(1)
    results.locator("a").first.click()
    expect(page.locator("h1")).to_have_text("张伟")
    expect(page.locator("main")).to_contain_text(text["profile"])
    expect(page.locator("main")).to_contain_text("13812345678")
    assert errors == [], errors  # no CSP violations, no failed scripts
    context.close()
