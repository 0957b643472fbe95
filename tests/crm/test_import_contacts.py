"""Contacts import: encodings, headers, rejects, duplicates, idempotent upserts."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from rapport.crm.importing.base import ImportOptions
from rapport.crm.importing.runner import run_import
from rapport.crm.models import Company, Contact, ContactStatus
from rapport.errors import InvalidInput

pytestmark = pytest.mark.django_db

CHINESE = (
    "邮箱,姓名,电话,城市,生日,兴趣,国家\n"
    "zhang.wei@example.com,张伟,138 0013 8000,上海,1990年3月8日,摄影、旅行,中国\n"
    "ouyang@example.com,欧阳娜娜,+86 139 0000 1111,北京,2月29日,咖啡,CN\n"
)


def read_rejects(path: str) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("utf-8", False), ("utf-8", True), ("gb18030", False), ("gbk", False), ("utf-16", False)],
)
def test_chinese_headers_in_every_encoding_spreadsheets_write(write_csv, encoding, bom):
    result = run_import("contacts", write_csv("c.csv", CHINESE, encoding=encoding, bom=bom))

    assert (result.rows, result.created, result.rejected) == (2, 2, 0)
    zhang = Contact.objects.get(email="zhang.wei@example.com")
    assert (zhang.family_name, zhang.given_name) == ("张", "伟")
    assert zhang.display_name == "张伟"
    assert zhang.phone == "13800138000"
    assert (zhang.city, zhang.country) == ("上海", "CN")
    assert zhang.birthday == dt.date(1990, 3, 8)
    assert zhang.interests == ["摄影", "旅行"]
    ouyang = Contact.objects.get(email="ouyang@example.com")
    assert (ouyang.family_name, ouyang.given_name) == ("欧阳", "娜娜")
    assert ouyang.birthday == dt.date(1904, 2, 29)
    assert ouyang.birthday_year_known is False


def test_bad_rows_go_to_rejects_with_line_column_and_reason_and_good_rows_import(write_csv):
    text = (
        "Email,First Name,Last Name,Birthday,Country,Timezone\n"
        "good@example.com,Ann,Lee,1985-01-02,SG,Asia/Singapore\n"
        "not-an-email,Bob,Ray,,,\n"
        "late@example.com,Cy,Day,1990-02-31,,\n"
        "tz@example.com,Di,Eve,,,Mars/Olympus\n"
        "amb@example.com,Ed,Fox,03/04/1990,,\n"
        "land@example.com,Fi,Gu,,Atlantis,\n"
        "fine@example.com,Gil,Ho,13/04/1990,GB,Europe/London\n"
    )
    result = run_import("contacts", write_csv("c.csv", text))

    assert (result.rows, result.created, result.rejected) == (7, 2, 5)
    rejects = read_rejects(result.rejects_path)
    by_line = {r["reject_row"]: r for r in rejects}
    assert by_line["3"]["reject_column"] == "Email"
    assert "not a valid email address" in by_line["3"]["reject_reason"]
    assert by_line["4"]["reject_column"] == "Birthday"
    assert "not a real date" in by_line["4"]["reject_reason"]
    assert by_line["5"]["reject_column"] == "Timezone"
    assert "ambiguous" in by_line["6"]["reject_reason"]
    assert by_line["7"]["reject_column"] == "Country"
    # The original cells come along, so the file can be fixed and imported again.
    assert by_line["3"]["Email"] == "not-an-email"
    assert by_line["3"]["First Name"] == "Bob"
    assert Contact.objects.get(email="fine@example.com").birthday == dt.date(1990, 4, 13)


def test_fixed_rejects_file_imports_cleanly(write_csv, tmp_path):
    result = run_import("contacts", write_csv("c.csv", "email,city\nbad@@x,Paris\n"))
    rejects = Path(result.rejects_path).read_text(encoding="utf-8-sig")
    fixed = tmp_path / "fixed.csv"
    fixed.write_text(rejects.replace("bad@@x", "good@example.fr"), encoding="utf-8")

    again = run_import("contacts", fixed)

    assert (again.created, again.rejected, again.ignored_columns) == (1, 0, [])
    assert Contact.objects.get(email="good@example.fr").city == "Paris"


def test_duplicate_emails_in_a_file_keep_the_first_and_reject_the_rest(write_csv):
    text = (
        "email,city\nA@Example.com,Oslo\nb@example.com,Rome\na@example.com,Lima\n"
        "A@EXAMPLE.COM,Kyiv\n"
    )
    result = run_import("contacts", write_csv("c.csv", text), batch_size=2)

    assert (result.created, result.rejected) == (2, 2)
    assert Contact.objects.get(email="a@example.com").city == "Oslo"
    reasons = [r["reject_reason"] for r in read_rejects(result.rejects_path)]
    assert all("already appeared at line 2" in reason for reason in reasons)


def test_reimporting_the_same_file_changes_nothing(write_csv):
    path = write_csv("c.csv", CHINESE)
    run_import("contacts", path)
    before = list(Contact.objects.values_list("email", "updated_at").order_by("email"))

    again = run_import("contacts", path)

    assert (again.created, again.updated, again.as_json()["unchanged"]) == (0, 0, 2)
    assert list(Contact.objects.values_list("email", "updated_at").order_by("email")) == before


def test_blank_cells_keep_stored_values_and_lists_are_merged(write_csv):
    run_import(
        "contacts",
        write_csv("a.csv", "email,city,phone,interests\nx@example.com,Hangzhou,13800000000,tea\n"),
    )
    result = run_import(
        "contacts",
        write_csv("b.csv", "email,city,phone,interests\nx@example.com,Suzhou,,hiking; tea\n"),
    )

    assert result.updated == 1
    contact = Contact.objects.get(email="x@example.com")
    assert (contact.city, contact.phone) == ("Suzhou", "13800000000")
    assert contact.interests == ["tea", "hiking"]


def test_an_import_never_resubscribes_someone_who_unsubscribed(write_csv):
    Contact.objects.create(email="gone@example.com", status=ContactStatus.UNSUBSCRIBED)
    result = run_import(
        "contacts", write_csv("c.csv", "email,status\ngone@example.com,subscribed\n")
    )

    assert result.updated == 0
    assert Contact.objects.get(email="gone@example.com").status == ContactStatus.UNSUBSCRIBED


def test_new_contacts_record_consent_source_and_status(write_csv):
    options = ImportOptions(consent_source="trade fair 2026 sign-up sheet")
    run_import("contacts", write_csv("c.csv", "email\nnew@example.com\n"), options)
    contact = Contact.objects.get(email="new@example.com")
    assert contact.status == ContactStatus.SUBSCRIBED
    assert contact.consent_source == "trade fair 2026 sign-up sheet"
    assert contact.consent_at is not None


def test_mixed_encodings_line_by_line_and_undecodable_bytes(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        b"email,city\n"
        + "u8@example.com,深圳\n".encode()
        + "gbk@example.com,广州\n".encode("gbk")
        + b"junk@example.com,\xff\xfe\xff\n"
    )
    result = run_import("contacts", path)

    assert (result.created, result.rejected) == (2, 1)
    assert Contact.objects.get(email="gbk@example.com").city == "广州"
    (reject,) = read_rejects(result.rejects_path)
    assert reject["reject_column"] == "city"
    assert "neither UTF-8 nor GB18030" in reject["reject_reason"]


def test_mapping_names_columns_and_date_format(write_csv):
    text = "Correo,Cumple,Notes\nm@example.es,03/04/1990,call back\n"
    options = ImportOptions(
        columns={"Correo": "email", "Cumple": "birthday", "Notes": None}, date_format="%d/%m/%Y"
    )
    result = run_import("contacts", write_csv("c.csv", text), options)

    assert (result.created, result.ignored_columns) == (1, [])
    assert Contact.objects.get(email="m@example.es").birthday == dt.date(1990, 4, 3)


def test_unknown_columns_are_reported_not_silently_dropped(write_csv):
    result = run_import("contacts", write_csv("c.csv", "email,shoe size\ns@example.com,44\n"))
    assert result.ignored_columns == ["shoe size"]


def test_companies_are_created_once_and_linked(write_csv):
    text = "email,company\na@acme.example.com,Acme\nb@acme.example.com,Acme\n"
    run_import("contacts", write_csv("c.csv", text))
    assert Company.objects.count() == 1
    assert set(Contact.objects.values_list("company__name", flat=True)) == {"Acme"}


def test_a_row_with_too_many_cells_is_refused_not_shifted(write_csv):
    result = run_import("contacts", write_csv("c.csv", "email,city\nq@example.com,Xi,an,x\n"))
    assert result.rejected == 1
    assert "needs quotes" in read_rejects(result.rejects_path)[0]["reject_reason"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"PK\x03\x04rest-of-an-xlsx", "Excel (.xlsx)"),
        (b"", "is empty"),
        (b"name,city\nAnn,Oslo\n", "No column for email"),
        (b"\x00\x01\x02binary", "not a text file"),
    ],
)
def test_files_that_cannot_be_read_are_clear_errors(tmp_path, content, message):
    path = tmp_path / "upload.csv"
    path.write_bytes(content)
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        run_import("contacts", path)


@pytest.mark.parametrize("parallel", [False, True])
def test_a_hundred_thousand_rows_with_broken_ones(tmp_path, parallel):
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["email", "name", "city"])
        for i in range(100_000):
            email = f"bad-{i}" if i % 1000 == 7 else f"person{i}@example.com"
            writer.writerow([email, "Li Na" if i % 2 else "李娜", "Chengdu"])
        writer.writerow(["person5@example.com", "dup", ""])

    result = run_import("contacts", path, parallel=parallel)

    assert result.rows == 100_001
    assert result.created == 99_900
    assert result.rejected == 101
    assert Contact.objects.count() == 99_900
    assert len(read_rejects(result.rejects_path)) == 101


def test_query_count_per_batch_does_not_grow_with_rows(write_csv, django_assert_max_num_queries):
    rows = "".join(f"q{i}@example.com,Hefei,Tea\n" for i in range(500))
    path = write_csv("c.csv", "email,city,company\n" + rows)
    # per batch: look up stored rows, insert; plus companies and savepoints
    with django_assert_max_num_queries(12):
        run_import("contacts", path, batch_size=1000, parallel=False)
