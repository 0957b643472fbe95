"""Save-time checks of a template: syntax, names, forbidden constructs, with the line and a
message a marketer can act on. Nothing is stored that would fail for every contact."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from jinja2 import TemplateSyntaxError, meta, nodes

from rapport.content.sandbox import RapportSandbox
from rapport.errors import InvalidInput

CONTACT_FIELDS = frozenset(
    {
        "email", "first_name", "last_name", "name", "salutation", "honorific", "city",
        "region", "country", "country_name", "locale", "timezone", "audience", "lifecycle",
        "points", "birthday", "interests", "company", "custom", "orders_count",
        "total_spent", "last_order",
    }
)  # fmt: skip
LAST_ORDER_FIELDS = frozenset({"number", "date", "total", "currency", "items"})
PRODUCT_FIELDS = frozenset({"name", "sku", "category", "price", "currency", "url", "image_url"})
OBJECT_FIELDS: dict[str, frozenset[str]] = {
    "workspace": frozenset({"name", "address", "website"}),
    "campaign": frozenset({"name"}),
}
TOP_LEVEL_NAMES = frozenset(
    {
        "contact", "workspace", "campaign", "unsubscribe_url", "preferences_url",
        "view_online_url", "today", "recommendations", "coupon", "range", "dict",
    }
)  # fmt: skip
MAX_RECOMMENDATIONS = 12
_FORBIDDEN_TAGS: dict[type[nodes.Node], str] = {
    nodes.Extends: "{% extends %}",
    nodes.Include: "{% include %}",
    nodes.Import: "{% import %}",
    nodes.FromImport: "{% from … import %}",
}


class TemplateProblem(InvalidInput):
    """A template that cannot be saved; ``part`` is subject, preheader, html or text."""

    def __init__(self, part: str, line: int | None, message: str) -> None:
        where = f"{part}, line {line}" if line else part
        super().__init__(f"{where}: {message}", field=part)
        self.part = part
        self.line = line


@dataclass(frozen=True, slots=True)
class Usage:
    """What a template needs at send time, found once when it is saved."""

    coupon_series: frozenset[str] = frozenset()
    recommendations: int = 0  # the most asked for, 0 when the template shows none
    names: frozenset[str] = field(default_factory=frozenset)
    contact_fields: frozenset[str] = CONTACT_FIELDS  # which ones a send must load


def check_source(
    environment: RapportSandbox,
    part: str,
    source: str,
    *,
    custom_keys: Iterable[str],
    coupon_series: Iterable[str],
) -> Usage:
    """Parse and inspect ``source``; raise ``TemplateProblem`` or return what it uses."""
    try:
        tree = environment.parse(source)
        environment.compile(source)  # unknown filters and tests surface here
    except TemplateSyntaxError as error:
        raise TemplateProblem(part, error.lineno, _plain_syntax_message(error.message)) from None
    for node_type, label in _FORBIDDEN_TAGS.items():
        found = next(iter(tree.find_all(node_type)), None)
        if found is not None:
            raise TemplateProblem(part, found.lineno, f"{label} is not available in emails")
    unknown = sorted(meta.find_undeclared_variables(tree) - TOP_LEVEL_NAMES)
    if unknown:
        line = _line_of_name(tree, unknown[0])
        raise TemplateProblem(part, line, _unknown_name_message(unknown[0]))
    _check_attributes(tree, part, frozenset(custom_keys))
    return Usage(
        coupon_series=_check_coupons(tree, part, frozenset(coupon_series)),
        recommendations=_check_recommendations(tree, part),
        names=frozenset(meta.find_undeclared_variables(tree)),
        contact_fields=_contact_fields_used(tree),
    )


def merge_usage(usages: Iterable[Usage]) -> Usage:
    series: set[str] = set()
    names: set[str] = set()
    fields: set[str] = set()
    most = 0
    for usage in usages:
        series |= usage.coupon_series
        names |= usage.names
        fields |= usage.contact_fields
        most = max(most, usage.recommendations)
    return Usage(frozenset(series), most, frozenset(names), frozenset(fields))


def _contact_fields_used(tree: nodes.Template) -> frozenset[str]:
    """The contact fields named as ``contact.x``; all of them when ``contact`` is passed around
    whole (``{% set c = contact %}``), since then we cannot tell."""
    named = [
        node.attr
        for node in tree.find_all(nodes.Getattr)
        if isinstance(node.node, nodes.Name) and node.node.name == "contact"
    ]
    uses = sum(1 for n in tree.find_all(nodes.Name) if n.name == "contact" and n.ctx == "load")
    return CONTACT_FIELDS if uses > len(named) else frozenset(named)


def _plain_syntax_message(message: str | None) -> str:
    text = message or "the template cannot be read"
    rewrites = (
        (r"unexpected '}'", "a '}' is out of place; every {{ needs a matching }}"),
        (r"unexpected end of template.*'(end\w+)'", r"a block is not closed: add {% \1 %}"),
        (r"Unexpected end of template", "the template ends inside a block; close every {% if %} "
         "and {% for %}"),
        (r"Encountered unknown tag '(\w+)'", r"there is no {% \1 %} tag"),
        (r"No filter named '(\w+)'", r"there is no filter called '\1'"),
        (r"No test named '(\w+)'", r"there is no test called '\1'"),
    )  # fmt: skip
    for pattern, replacement in rewrites:
        match = re.search(pattern, text, flags=re.IGNORECASE)
        if match:
            return match.expand(replacement)
    return text


def _unknown_name_message(name: str) -> str:
    return (
        f"'{name}' is not something a template can use; contact details are under "
        f"'contact.' (for example {{{{ contact.first_name }}}})"
    )


def _line_of_name(tree: nodes.Template, name: str) -> int | None:
    return next((n.lineno for n in tree.find_all(nodes.Name) if n.name == name), None)


def _check_attributes(tree: nodes.Template, part: str, custom_keys: frozenset[str]) -> None:
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        assert isinstance(node, (nodes.Getattr, nodes.Getitem))
        attribute = _attribute_name(node)
        if attribute is None:
            continue
        if attribute.startswith("_"):
            raise TemplateProblem(part, node.lineno, f"'{attribute}' cannot be used in emails")
        _check_known_attribute(node, attribute, part, custom_keys)


def _attribute_name(node: nodes.Node) -> str | None:
    if isinstance(node, nodes.Getattr):
        return str(node.attr)
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        return node.arg.value if isinstance(node.arg.value, str) else None
    return None


def _check_known_attribute(
    node: nodes.Getattr | nodes.Getitem, attribute: str, part: str, custom_keys: frozenset[str]
) -> None:
    owner = node.node
    path = _dotted(owner)
    if path == "contact":
        allowed, label = CONTACT_FIELDS, "a contact field"
    elif path == "contact.custom":
        allowed, label = custom_keys, "a custom field (see Contacts → Custom fields)"
    elif path == "contact.last_order":
        allowed, label = LAST_ORDER_FIELDS, "part of the last order"
    elif path in OBJECT_FIELDS:
        allowed, label = OBJECT_FIELDS[path], f"part of '{path}'"
    else:
        return
    if attribute not in allowed:
        known = ", ".join(sorted(allowed)) or "none defined yet"
        raise TemplateProblem(
            part, node.lineno, f"'{path}.{attribute}' is not {label}; known: {known}"
        )


def _dotted(node: nodes.Node) -> str | None:
    if isinstance(node, nodes.Name):
        return str(node.name)
    if isinstance(node, nodes.Getattr):
        parent = _dotted(node.node)
        return f"{parent}.{node.attr}" if parent else None
    return None


def _calls_to(tree: nodes.Template, name: str) -> Iterable[nodes.Call]:
    for call in tree.find_all(nodes.Call):
        if isinstance(call.node, nodes.Name) and call.node.name == name:
            yield call


def _check_coupons(tree: nodes.Template, part: str, known: frozenset[str]) -> frozenset[str]:
    used: set[str] = set()
    for call in _calls_to(tree, "coupon"):
        if len(call.args) != 1 or call.kwargs or not isinstance(call.args[0], nodes.Const):
            raise TemplateProblem(
                part, call.lineno, 'write coupon("SERIES") with the series name in quotes'
            )
        series = str(call.args[0].value)
        if series not in known:
            choices = ", ".join(sorted(known)) or "none yet: create one under Coupons"
            raise TemplateProblem(
                part, call.lineno, f"there is no coupon series '{series}' (known: {choices})"
            )
        used.add(series)
    return frozenset(used)


def _check_recommendations(tree: nodes.Template, part: str) -> int:
    most = 0
    for call in _calls_to(tree, "recommendations"):
        count: object = 4
        if call.args:
            count = call.args[0].value if isinstance(call.args[0], nodes.Const) else None
        if not isinstance(count, int) or not 1 <= count <= MAX_RECOMMENDATIONS:
            raise TemplateProblem(
                part,
                call.lineno,
                f"recommendations() takes a number from 1 to {MAX_RECOMMENDATIONS}, "
                "for example recommendations(4)",
            )
        most = max(most, count)
    return most
