"""Which file column feeds which field: common English and Chinese headers, or a mapping."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

from rapport.errors import InvalidInput

# Field -> header spellings, compared after lower-casing and dropping spaces, "_", "-", ".".
CONTACT_HEADERS: dict[str, tuple[str, ...]] = {
    "email": (
        "email",
        "emailaddress",
        "e-mail",
        "mail",
        "邮箱",
        "电子邮件",
        "电子邮箱",
        "邮件",
        "邮件地址",
        "邮箱地址",
    ),
    "full_name": (
        "name",
        "fullname",
        "contactname",
        "customername",
        "姓名",
        "名称",
        "客户姓名",
        "联系人",
        "客户名称",
    ),
    "given_name": ("firstname", "givenname", "first", "forename", "名", "名字"),
    "family_name": ("lastname", "familyname", "surname", "last", "姓", "姓氏"),
    "honorific": ("title", "salutation", "honorific", "称呼", "称谓"),
    "phone": (
        "phone",
        "phonenumber",
        "mobile",
        "mobilephone",
        "cell",
        "tel",
        "telephone",
        "电话",
        "手机",
        "手机号",
        "手机号码",
        "联系电话",
        "电话号码",
    ),
    "birthday": ("birthday", "birthdate", "dateofbirth", "dob", "生日", "出生日期"),
    "locale": ("locale", "language", "lang", "语言"),
    "timezone": ("timezone", "tz", "时区"),
    "country": ("country", "countrycode", "国家", "国家地区", "国家/地区"),
    "region": ("region", "state", "province", "county", "省", "省份", "地区", "州"),
    "city": ("city", "town", "城市", "市"),
    "audience": ("audience", "type", "customertype", "contacttype", "segment", "类型", "客户类型"),
    "company": (
        "company",
        "companyname",
        "organisation",
        "organization",
        "org",
        "公司",
        "单位",
        "公司名称",
        "机构",
    ),
    "interests": ("interests", "interest", "兴趣", "兴趣爱好", "爱好"),
    "tags": ("tags", "tag", "labels", "标签"),
    "status": ("status", "subscriptionstatus", "subscribed", "订阅状态", "状态"),
    "consent_source": ("consentsource", "consent", "同意来源"),
    "personalisation": ("personalisation", "personalization", "个性化"),
    "tracking": ("tracking", "emailtracking", "邮件追踪", "追踪"),
}

PRODUCT_HEADERS: dict[str, tuple[str, ...]] = {
    "sku": (
        "sku",
        "productid",
        "itemid",
        "code",
        "productcode",
        "商品编号",
        "货号",
        "编码",
        "商品编码",
        "sku编码",
    ),
    "name": ("name", "productname", "title", "商品名称", "名称", "产品名称", "品名"),
    "category": ("category", "productcategory", "type", "类别", "分类", "品类", "商品分类"),
    "price": ("price", "unitprice", "价格", "单价", "售价"),
    "currency": ("currency", "币种", "货币"),
    "consumable": ("consumable", "消耗品"),
    "active": ("active", "enabled", "onsale", "上架", "在售"),
    "url": ("url", "link", "producturl", "productpage", "链接", "商品链接"),
    "image_url": ("image", "imageurl", "picture", "图片", "图片链接", "商品图片"),
}

ORDER_HEADERS: dict[str, tuple[str, ...]] = {
    "order_id": ("orderid", "order", "ordernumber", "orderno", "订单号", "订单编号", "订单id"),
    "email": CONTACT_HEADERS["email"],
    "placed_at": (
        "placedat",
        "orderdate",
        "date",
        "createdat",
        "time",
        "ordertime",
        "下单时间",
        "订单日期",
        "日期",
        "时间",
        "下单日期",
    ),
    "currency": ("currency", "币种", "货币"),
    "total": ("total", "ordertotal", "amount", "总额", "订单金额", "金额", "合计", "实付金额"),
    "sku": PRODUCT_HEADERS["sku"],
    "quantity": ("quantity", "qty", "数量"),
    "unit_price": ("unitprice", "lineprice", "itemprice", "price", "单价", "价格"),
    "coupon_code": ("coupon", "couponcode", "discountcode", "优惠码", "优惠券", "券码"),
}

REJECT_COLUMNS = ("reject_row", "reject_column", "reject_reason")

_FOLD = re.compile(r"[\s_\-.]+")


def fold(header: str) -> str:
    return _FOLD.sub("", header.strip().lstrip("\ufeff").lower())


@dataclass(frozen=True)
class ColumnPlan:
    """Where each field is read from: ``fields[i]`` is the field of column i, or None."""

    headers: tuple[str, ...]
    fields: tuple[str | None, ...]
    ignored: tuple[str, ...]

    @cached_property
    def mapped(self) -> tuple[tuple[int, str], ...]:
        """``(column index, field)`` of the columns that feed a field."""
        return tuple((i, f) for i, f in enumerate(self.fields) if f is not None)

    def column_of(self, field: str) -> str:
        index = self.fields.index(field)
        return self.headers[index]


def plan_columns(
    headers: Sequence[str],
    known: Mapping[str, tuple[str, ...]],
    *,
    explicit: Mapping[str, str | None] | None = None,
    extra_fields: Mapping[str, str] | None = None,
    required: Sequence[str] = (),
) -> ColumnPlan:
    """Match headers to fields.

    ``explicit`` (from a mapping file) maps a header to a field or to None (skip it);
    ``extra_fields`` maps folded spellings to more fields (custom fields by key and label).
    A header matched twice to the same field keeps the first; a required field with no
    column is an error that lists the headers found.
    """
    lookup: dict[str, str] = {}
    for name, spellings in known.items():
        for spelling in (name, *spellings):
            lookup.setdefault(fold(spelling), name)
    for spelling, name in (extra_fields or {}).items():
        lookup.setdefault(fold(spelling), name)
    allowed = set(known) | set((extra_fields or {}).values())
    explicit_folded = {fold(h): f for h, f in (explicit or {}).items()}

    fields: list[str | None] = []
    ignored: list[str] = []
    taken: set[str] = set()
    for header in headers:
        key = fold(header)
        field: str | None
        if key in explicit_folded:
            field = explicit_folded[key]
            if field is not None and field not in allowed:
                raise InvalidInput(
                    f"The mapping sends column {header!r} to {field!r}, which is not a field "
                    f"here; fields are: {', '.join(sorted(allowed))}."
                )
        else:
            field = lookup.get(key)
        if field is None or field in taken:
            fields.append(None)
            skipped_on_purpose = key in explicit_folded and explicit_folded[key] is None
            if header.strip() and header not in REJECT_COLUMNS and not skipped_on_purpose:
                ignored.append(header)
            continue
        taken.add(field)
        fields.append(field)
    missing = [name for name in required if name not in taken]
    if missing:
        found = ", ".join(repr(h) for h in headers) or "none"
        raise InvalidInput(
            f"No column for {', '.join(missing)} was found (columns: {found}). Rename the "
            "column or give a mapping (--map FILE)."
        )
    return ColumnPlan(headers=tuple(headers), fields=tuple(fields), ignored=tuple(ignored))
