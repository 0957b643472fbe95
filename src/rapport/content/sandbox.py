"""The sandbox every user-written template runs in.

Jinja's ``ImmutableSandboxedEnvironment`` already stops templates from reaching Python
internals (``__class__``, ``__globals__``, mutating lists). It does nothing about denial of
service, and marketers' templates run in the worker that sends everyone's mail, so this module
adds budgets that make a hostile or careless template fail fast with a clear message instead of
hanging or eating memory:

- every ``{% for %}`` loop draws from one per-render iteration budget, and ``range`` is bounded;
- every call (functions, methods, macros) and every loop step checks a wall-clock deadline;
- ``* ** + %`` and ``~`` refuse results beyond the output limit *before* building them where
  the size is predictable, and container literals carry their weight, so doubling a value in
  a chain of ``{% set %}`` stops after a few steps;
- string methods are an allow-list, and integer arguments to calls and filters are bounded (no
  ``"x".center(10**9)``);
- the output is charged to a budget as it is produced: every printed value, and a loop body's
  fixed text once per pass, so the render stops at the limit (the template's own text outside
  loops is bounded by the size of a template).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from functools import wraps
from typing import Any

from jinja2 import ChainableUndefined, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.nodes import EvalContext
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import Namespace

MAX_OUTPUT_CHARS = 1_000_000
MAX_ITERATIONS = 100_000
MAX_SECONDS = 2.0
MAX_INT_ARGUMENT = 10_000
_CHECK_CLOCK_EVERY = 256

# Methods of str a template may call; the rest (center, zfill, expandtabs, format, encode …)
# either inflate output from a small argument or are of no use in an email.
SAFE_STR_METHODS = frozenset(
    {
        "capitalize", "casefold", "count", "endswith", "find", "isalnum", "isalpha",
        "isdigit", "islower", "isnumeric", "isspace", "istitle", "isupper", "join",
        "lower", "lstrip", "partition", "removeprefix", "removesuffix", "replace",
        "rfind", "rpartition", "rsplit", "rstrip", "split", "splitlines", "startswith",
        "strip", "swapcase", "title", "upper",
    }
)  # fmt: skip
# Filters whose arguments can make their output far larger than their input, or that build
# structures sized by a number; the others are bounded by their input and run unwrapped.
GUARDED_FILTERS = frozenset(
    {
        "batch", "center", "filesizeformat", "format", "indent", "join", "replace", "round",
        "slice", "truncate", "wordwrap",
    }
)  # fmt: skip
_WIDE_FORMAT = re.compile(r"%[-#0 +]*(?:\*|\d{4,})|\{[^{}]*:[^{}]*(?:\d{4,})")


class RenderLimitExceeded(Exception):
    """A template used more than its share; the message says which limit and how to fix it."""


@dataclass(slots=True)
class _Budget:
    iterations_left: int
    deadline: float
    ticks: int = 0
    output_left: int = MAX_OUTPUT_CHARS

    def spend_output(self, size: int) -> None:
        self.output_left -= size
        if self.output_left < 0:
            raise RenderLimitExceeded(
                f"the message grew beyond {MAX_OUTPUT_CHARS:,} characters; email clients "
                "cut messages far shorter than that"
            )

    def tick(self) -> None:
        self.ticks += 1
        if self.ticks % _CHECK_CLOCK_EVERY == 0 and time.monotonic() > self.deadline:
            raise RenderLimitExceeded(
                f"the template took longer than {MAX_SECONDS:g} seconds to render; "
                "look for loops inside loops or a macro that calls itself"
            )


_budget: ContextVar[_Budget | None] = ContextVar("rapport_render_budget", default=None)


def start_budget() -> object:
    """Give the render about to run its own budget; returns a token for ``end_budget``."""
    return _budget.set(_Budget(MAX_ITERATIONS, time.monotonic() + MAX_SECONDS))


def end_budget(token: object) -> None:
    _budget.reset(token)  # type: ignore[arg-type]


def _current() -> _Budget:
    budget = _budget.get()
    if budget is None:  # rendered outside ``render_limited`` (a test, a shell): still bounded
        budget = _Budget(MAX_ITERATIONS, time.monotonic() + MAX_SECONDS)
        _budget.set(budget)
    return budget


def _weight(value: object) -> int:
    """About how many characters ``value`` turns into when printed."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, _Weighed):
        return value.weight
    if isinstance(value, (list, tuple, set, frozenset, dict)):
        return len(value) + sum(_weight(item) for item in value)
    return 1


class _Weighed:
    weight: int


class WeighedList(list[Any], _Weighed):
    """A list literal built by a template, remembering how big it prints."""


class WeighedTuple(tuple[Any, ...], _Weighed):
    pass


class WeighedDict(dict[Any, Any], _Weighed):
    pass


def _too_big(what: str, size: int) -> RenderLimitExceeded:
    return RenderLimitExceeded(
        f"{what} would be {size:,} characters long; a message may be at most {MAX_OUTPUT_CHARS:,}"
    )


def _check_size(size: int, what: str = "a value") -> None:
    if size > MAX_OUTPUT_CHARS:
        raise _too_big(what, size)


def _check_int_arguments(args: Iterable[object], what: str) -> None:
    for value in args:
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT_ARGUMENT:
            raise RenderLimitExceeded(
                f"{what} was given {value:,}; numbers passed to functions and filters "
                f"may be at most {MAX_INT_ARGUMENT:,}"
            )


def bounded_range(*args: int) -> range:
    _check_int_arguments(args, "range()")
    numbers = range(*args)
    if len(numbers) > MAX_INT_ARGUMENT:
        raise RenderLimitExceeded(f"range() may count at most {MAX_INT_ARGUMENT:,} numbers")
    return numbers


def guard_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a filter so that its numeric arguments are bounded and its output measured."""

    @wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        _check_int_arguments([*args, *kwargs.values()], f"the filter {name!r}")
        _precheck_filter(name, args, kwargs)
        result = function(*args, **kwargs)
        if isinstance(result, str):
            _check_size(len(result), f"the result of {name!r}")
        return result

    return guarded


def _without_context(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """Filters marked pass_context and the like get that object first; drop it."""
    if args and isinstance(args[0], (Context, EvalContext, ImmutableSandboxedEnvironment)):
        return args[1:]
    return args


def _precheck_filter(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Refuse before building: these filters can turn a short value into a huge one."""
    rest = _without_context(args)
    if not rest:
        return
    value = rest[0]
    if name == "replace" and len(rest) >= 3:
        text, old, new = str(value), str(rest[1]), str(rest[2])
        _check_size(len(text) + text.count(old or " ") * len(new), "the result of 'replace'")
    elif name in {"indent", "center"}:
        width = next((a for a in [*rest[1:], *kwargs.values()] if isinstance(a, int)), 80)
        text = str(value)
        _check_size(len(text) + (text.count("\n") + 1) * width, f"the result of {name!r}")
    elif name == "format" and _WIDE_FORMAT.search(str(value)):
        raise RenderLimitExceeded("'format' may not pad to 1,000 characters or more")
    elif name == "join":
        items = list(value)
        separator = str(rest[1]) if len(rest) > 1 else str(kwargs.get("d", ""))
        _check_size(_weight(items) + len(separator) * len(items), "the result of 'join'")


class _GuardedCodeGenerator(CodeGenerator):
    """Routes loops, concatenation and container literals through the budget checks."""

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        # Each pass prints the loop body's fixed text again: charge it against the output
        # budget per iteration (values printed inside are charged by ``_finalize``).
        fixed_text = sum(
            len(data.data) for part in node.body for data in part.find_all(nodes.TemplateData)
        )
        node.iter = nodes.Call(
            nodes.EnvironmentAttribute("guard_iter"),
            [node.iter, nodes.Const(fixed_text)],
            [],
            None,
            None,
            lineno=node.iter.lineno,
        )
        super().visit_For(node, frame)

    def visit_Call(self, node: nodes.Call, frame: Frame, forward_caller: bool = False) -> None:
        hook = node.node
        if isinstance(hook, nodes.EnvironmentAttribute) and hook.name == "guard_iter":
            # Our own hook (templates cannot name environment attributes): called directly,
            # without the sandbox's checks for calls a template makes.
            self.write("environment.guard_iter(")
            self.visit(node.args[0], frame)
            self.write(f", {int(node.args[1].as_const())})")
            return
        super().visit_Call(node, frame, forward_caller=forward_caller)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.guard_text(")
        super().visit_Concat(node, frame)
        self.write(")")

    def visit_List(self, node: nodes.List, frame: Frame) -> None:
        self.write("environment.weigh(environment.WeighedList, ")
        super().visit_List(node, frame)
        self.write(")")

    def visit_Tuple(self, node: nodes.Tuple, frame: Frame) -> None:
        if node.ctx != "load":  # an assignment target: ``{% for a, b in … %}``
            super().visit_Tuple(node, frame)
            return
        self.write("environment.weigh(environment.WeighedTuple, ")
        super().visit_Tuple(node, frame)
        self.write(")")

    def visit_Dict(self, node: nodes.Dict, frame: Frame) -> None:
        self.write("environment.weigh(environment.WeighedDict, ")
        super().visit_Dict(node, frame)
        self.write(")")


class MissingValue(ChainableUndefined):
    """What a template gets for data a contact does not have: prints as nothing, and chains
    (``contact.last_order.number`` is empty for someone who never ordered)."""

    __slots__ = ()


class RapportSandbox(ImmutableSandboxedEnvironment):
    """The environment for marketer-written templates; see the module docstring."""

    code_generator_class = _GuardedCodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "%", "//"})
    WeighedList = WeighedList
    WeighedTuple = WeighedTuple
    WeighedDict = WeighedDict

    def __init__(self, **options: Any) -> None:
        options.setdefault("undefined", MissingValue)
        options.setdefault("finalize", _finalize)
        super().__init__(**options)
        for name in ("lipsum", "cycler", "joiner", "namespace"):
            self.globals.pop(name, None)
        self.globals["range"] = bounded_range
        for name in ("pprint", "xmlattr"):
            self.filters.pop(name, None)
        self.filters = {
            name: guard_filter(name, f) if name in GUARDED_FILTERS else f
            for name, f in self.filters.items()
        }

    # -- what a template may touch ------------------------------------------------------------

    def getattr(self, obj: Any, attribute: str) -> Any:
        """``contact.first_name`` on the plain dicts templates get: the key, not a dict method
        of the same name (a custom field called ``items`` stays a field), and no exception
        raised and caught per lookup on the way."""
        if type(obj) is dict:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, str) and callable(value):
            return attr in SAFE_STR_METHODS
        if isinstance(obj, Namespace):
            return False
        return bool(super().is_safe_attribute(obj, attr, value))

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _current().tick()
        _check_int_arguments([*args, *kwargs.values()], "a function")
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str):
            _precheck_str_method(owner, getattr(__obj, "__name__", ""), args)
        return super().call(__context, __obj, *args, **kwargs)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for sequence, count in ((left, right), (right, left)):
                if isinstance(sequence, (str, list, tuple)) and isinstance(count, int):
                    _check_size(_weight(sequence) * count, "a repeated value")
        elif operator == "**":
            if isinstance(right, int) and isinstance(left, (int, float)) and abs(right) > 64:
                raise RenderLimitExceeded("powers above 64 are not allowed in templates")
        elif operator == "+":
            if isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple)):
                _check_size(_weight(left) + _weight(right), "a joined value")
        elif operator == "%" and isinstance(left, str) and _WIDE_FORMAT.search(left):
            raise RenderLimitExceeded("formats may not pad to 1,000 characters or more")
        return super().call_binop(context, operator, left, right)

    # -- hooks the generated code calls -------------------------------------------------------

    @staticmethod
    def guard_iter(iterable: Iterable[Any], fixed_text: int = 0) -> Iterator[Any]:
        budget = _current()
        for item in iterable:
            budget.iterations_left -= 1
            if budget.iterations_left < 0:
                raise RenderLimitExceeded(
                    f"the template's loops ran more than {MAX_ITERATIONS:,} times; "
                    "a loop inside a loop multiplies its length"
                )
            budget.tick()
            if fixed_text:
                budget.spend_output(fixed_text)
            yield item

    @staticmethod
    def guard_text(text: str) -> str:
        _check_size(len(text), "a joined value")
        return text

    @staticmethod
    def weigh(kind: type[Any], literal: Any) -> Any:
        weight = _weight(literal)
        _check_size(weight, "a list")
        value = kind(literal)
        value.weight = weight
        return value


def _precheck_str_method(text: str, name: str, args: tuple[Any, ...]) -> None:
    if name == "replace" and len(args) >= 2:
        old, new = str(args[0]), str(args[1])
        _check_size(len(text) + text.count(old or " ") * len(new), "the result of replace()")
    elif name == "join" and args:
        items = list(args[0])
        _check_size(_weight(items) + len(text) * len(items), "the result of join()")


def _finalize(value: Any) -> Any:
    """Every ``{{ … }}`` passes through here before it is printed: its size is charged to the
    render's output budget, so the output need not be counted piece by piece afterwards."""
    budget = _budget.get()
    if budget is not None:
        budget.output_left -= len(value) if type(value) is str else _weight(value)
        if budget.output_left < 0:
            budget.spend_output(0)  # raises, with the message
    elif isinstance(value, (list, tuple, dict, set)):
        _check_size(_weight(value), "a printed list")
    return value
