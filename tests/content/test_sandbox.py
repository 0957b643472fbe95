"""The sandbox against known template-injection payloads and resource exhaustion.

Payloads are the classic Jinja2 SSTI chains (PayloadsAllTheThings, HackTricks) and the ways a
template can burn CPU or memory; each must fail safely: refused at save time, or rendered to
nothing harmful, or stopped by a limit with a clear message, and always quickly.
"""

from __future__ import annotations

import time

import pytest

from rapport.content.checks import TemplateProblem, Usage
from rapport.content.context import sample_context
from rapport.content.rendering import HTML_ENVIRONMENT, RenderError, render_part
from rapport.content.services import TemplateContent, check_content

pytestmark = pytest.mark.django_db

SSTI_PAYLOADS = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ ''.__class__.__base__.__subclasses__() }}",
    "{{ contact.__class__.__init__.__globals__ }}",
    "{{ recommendations.__globals__['os'].popen('id').read() }}",
    "{{ coupon.__globals__.__builtins__.__import__('os').system('id') }}",
    "{{ self.__init__.__globals__.__builtins__ }}",
    "{{ self._TemplateReference__context }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ joiner.__init__.__globals__.os.popen('id').read() }}",
    "{{ namespace.__init__.__globals__.os.popen('id').read() }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ config.items() }}",
    "{{ settings.SECRET_KEY }}",
    "{{ request.environ }}",
    "{{ environment }}",
    "{{ contact['__class__'] }}",
    "{{ contact|attr('__class__') }}",
    "{{ (contact|attr('\\x5f\\x5fclass\\x5f\\x5f')) }}",
    "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    "{% include '/etc/passwd' %}",
    "{% extends '/etc/passwd' %}",
    "{% import 'x' as y %}",
    "{{ range.__self__ }}",
    "{{ dict.__base__.__subclasses__() }}",
    "{{ ''|format.__globals__ }}",
    "{% set x = contact.interests.append('pwned') %}{{ contact.interests }}",
    "{% set x = contact.update({'email': 'a@b.c'}) %}{{ contact.email }}",
]


def _content(html: str) -> TemplateContent:
    return TemplateContent(subject="Hello", html=html)


@pytest.mark.parametrize("payload", SSTI_PAYLOADS)
def test_injection_payloads_never_reach_python(payload: str) -> None:
    started = time.monotonic()
    try:
        check_content(_content(f"<p>{payload}</p>"))
    except TemplateProblem as problem:
        assert problem.line == 1
        assert problem.message
    else:  # accepted: then rendering must not leak anything or have changed anything
        html = render_part(HTML_ENVIRONMENT.from_string(payload), _sample(), "html")
        for leak in ("class '", "subclasses", "os", "SECRET", "pwned", "a@b.c", "uid="):
            assert leak not in html
    assert time.monotonic() - started < 5


def _sample() -> dict[str, object]:
    return dict(sample_context(Usage()))


RESOURCE_BOMBS = {
    "huge range": "{% for i in range(10**8) %}x{% endfor %}",
    "nested loops": "{% for a in range(9000) %}{% for b in range(9000) %}{% endfor %}{% endfor %}",
    "string repeat": "{{ 'x' * 100000000 }}",
    "list repeat": "{{ [1] * 100000000 }}",
    "power": "{{ 9 ** 999999 }}",
    "doubling": "{% set x = 'abcdefghij' * 1000 %}" + "{% set x = x ~ x %}" * 30 + "{{ x }}",
    "plus doubling": "{% set x = 'abcdefghij' * 1000 %}" + "{% set x = x + x %}" * 30 + "{{ x }}",
    "nested lists": "{% set x = [1, 2] %}" + "{% set x = [x, x] %}" * 50 + "{{ x }}",
    "center": "{{ 'x' | center(100000000) }}",
    "str method": "{{ 'x'.ljust(100000000) }}",
    "indent many lines": "{{ ('x\\n' * 9000) | indent(9000) }}",
    "replace": "{% set s = 'a' * 9000 %}{{ s | replace('a', s) }}",
    "format width": "{{ '%999999999s' | format(1) }}",
    "percent width": "{{ '%999999999d' % 1 }}",
    "recursive macro": (
        "{% macro m(n) %}{% if n > 0 %}{{ m(n - 1) }}{{ m(n - 1) }}{% endif %}{% endmacro %}"
        "{{ m(40) }}"
    ),
    "endless macro": "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
    "big output": "{% for i in range(9000) %}{{ 'y' * 9000 }}{% endfor %}",
    "join": "{% set s = 'a' * 9000 %}{{ [s, s] | join(s * 100) * 100 }}",
}


@pytest.mark.parametrize("name", RESOURCE_BOMBS)
def test_resource_bombs_stop_quickly_with_a_clear_message(name: str) -> None:
    template = HTML_ENVIRONMENT.from_string(RESOURCE_BOMBS[name])
    started = time.monotonic()
    with pytest.raises(RenderError) as caught:
        render_part(template, _sample(), "html")
    assert time.monotonic() - started < 3.5
    assert caught.value.part == "html"
    assert any(
        word in caught.value.message
        for word in (
            "at most",
            "longer than",
            "grew beyond",
            "loops",
            "macro",
            "pad",
            "not allowed",
        )
    ), caught.value.message


def test_bombs_are_refused_at_save_time_too() -> None:
    with pytest.raises(TemplateProblem) as caught:
        check_content(_content("<p>ok</p>\n<p>{{ 'x' * 100000000 }}</p>"))
    assert caught.value.line == 2
    assert caught.value.part == "html"


def test_ordinary_loops_and_filters_still_work() -> None:
    source = (
        "{% for a, b in [(1, 2), (3, 4)] %}{{ a + b }},{% endfor %}"
        "{{ range(3) | list | join('-') }} {{ 'Hi' | center(6) | trim }} {{ 2 ** 10 }}"
        "{% set ns = {'k': 'v'} %}{{ ns.k }} {{ 'a b' | replace(' ', '_') }} {{ 'ab'.upper() }}"
    )
    html = render_part(HTML_ENVIRONMENT.from_string(source), _sample(), "html")
    assert html == "3,7,0-1-2 Hi 1024v a_b AB"
