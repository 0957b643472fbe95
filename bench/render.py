"""Benchmark: personalised rendering against a bare Jinja2 render of the same template.

Run: ``.venv/bin/python bench/render.py [--messages N] [--contacts N]`` (100,000 messages over
the 20,000-contact demo shop, cycling through the contacts). The template is a 10 KB
newsletter with 12 merge fields and 4 recommendations, saved through the product (CSS
inlined, text part derived once). Measured:

- **full**: what a send does per batch of 1,000 contacts: load their data and purchases
  (ContextBuilder: a few queries), build each context, recommend, render subject, HTML and the
  plain-text part in the sandbox, with the garbage-collector setting a send runs with;
- **baseline**: ``jinja2.Environment(autoescape=True)`` (no sandbox) rendering the same HTML
  with contexts computed beforehand (recommendations included), in the same run.

Prints JSON ``{"messages", "us_per_msg", "baseline_us_per_msg", "ratio"}`` (target: ratio ≤ 3).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BATCH = 1000
_STORY = (
    "<tr><td class='story'><h2>{title}</h2><p>{body}</p>"
    "<p><a class='more' href='{{{{ workspace.website | default(\"https://shop.example.com\") }}}}'>"
    "Read more</a></p></td></tr>"
)
_BODY = (
    "Our team spent the season testing gear in the mountains and by the sea, and we came back "
    "with notes on what lasts, what travels well and what is worth your money this year. "
) * 7

TEMPLATE = (
    "<!doctype html><html><head><meta charset='utf-8'><title>News</title><style>"
    "body{margin:0;background:#f3f4f6;font-family:Helvetica,Arial,sans-serif}"
    ".card{max-width:600px;margin:0 auto;background:#fff}.story{padding:16px 24px;color:#1f2937}"
    "h2{font-size:20px;margin:0 0 8px}.more{color:#2563eb}.product{padding:12px;width:50%}"
    "@media (max-width:600px){.product{display:block;width:100%}}</style></head><body>"
    "<table class='card' role='presentation' width='100%'>"
    "<tr><td class='story'><p>{{ contact.salutation }},</p>"  # 1
    "<p>News for {{ contact.first_name | default('you') }} in "  # 2
    "{{ contact.city | default('your city') }}, {{ contact.country_name }}.</p>"  # 3, 4
    "<p>You have {{ contact.points | number }} points as a {{ contact.lifecycle }} customer, "  # 5, 6
    "{{ contact.orders_count }} orders so far.</p>"  # 7
    "{% if contact.last_order %}<p>Your last order {{ contact.last_order.number }} on "  # 8
    "{{ contact.last_order.date | date('long') }}.</p>{% endif %}</td></tr>"  # 9
    + "".join(_STORY.format(title=f"Story {n}", body=_BODY) for n in range(1, 7))
    + "<tr><td><table role='presentation' width='100%'>"
    "{% for row in recommendations(4) | batch(2) %}<tr>{% for p in row %}"
    "<td class='product'><a href='{{ p.url }}'>{{ p.name }}</a><br>"
    "{{ p.price | currency(p.currency) }}</td>{% endfor %}</tr>{% endfor %}</table></td></tr>"
    "<tr><td class='story'><p>{{ workspace.name }} · {{ workspace.address }}</p>"  # 10
    "<p><a href='{{ preferences_url }}'>Preferences</a> · "  # 11
    "<a href='{{ unsubscribe_url }}'>Unsubscribe</a></p></td></tr></table></body></html>"  # 12
)
SUBJECT = "{{ contact.first_name | default('Hello') }}, this month's picks"


def _database(contacts: int) -> None:
    directory = ROOT / "var" / "bench" / f"demo-{contacts}"
    directory.mkdir(parents=True, exist_ok=True)
    os.environ["RAPPORT_DATA_DIR"] = str(directory)
    os.environ["RAPPORT_DATABASE_URL"] = f"sqlite:///{directory / 'rapport.sqlite3'}"


def main() -> None:  # noqa: PLR0915 - one measurement, top to bottom
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--contacts", type=int, default=20_000)
    args = parser.parse_args()
    _database(args.contacts)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rapport.settings")
    import django  # noqa: PLC0415

    django.setup()
    import jinja2  # noqa: PLC0415
    from django.core.management import call_command  # noqa: PLC0415
    from django.utils import timezone  # noqa: PLC0415

    from rapport.content.context import ContextBuilder, Sender  # noqa: PLC0415
    from rapport.content.recommend import Recommender, train  # noqa: PLC0415
    from rapport.content.rendering import OUR_FILTERS  # noqa: PLC0415
    from rapport.content.services import (  # noqa: PLC0415
        TemplateContent,
        check_content,
        compile_content,
    )
    from rapport.crm.models import Contact  # noqa: PLC0415
    from rapport.demo.shop import build_demo_shop  # noqa: PLC0415
    from rapport.perf import fewer_gc_pauses  # noqa: PLC0415
    from rapport.segments.facts import rebuild_all_facts  # noqa: PLC0415
    from rapport.segments.models import ContactFacts  # noqa: PLC0415

    call_command("migrate", verbosity=0)
    if Contact.objects.count() < args.contacts:
        print(f"building the demo shop with {args.contacts:,} contacts…", file=sys.stderr)
        build_demo_shop(contacts=args.contacts - Contact.objects.count(), seed=1, force=True)
    if not ContactFacts.objects.exists():
        rebuild_all_facts()
    train()

    content = TemplateContent(subject=SUBJECT, html=TEMPLATE)
    usage = check_content(content)
    compiled = compile_content(content)
    ids = list(Contact.objects.order_by("pk").values_list("pk", flat=True)[: args.contacts])
    stream = [ids[i % len(ids)] for i in range(args.messages)]
    now = timezone.now()
    recommender = Recommender.load()
    size = 0

    def full() -> None:
        nonlocal size
        builder = ContextBuilder(
            sender=Sender("campaign:0", "Bench"), usage=usage, now=now, recommender=recommender
        )
        with fewer_gc_pauses():  # as CampaignSender.run does
            for start in range(0, len(stream), BATCH):
                for context in builder.build(stream[start : start + BATCH]):
                    message = compiled.render(context)
                    size += len(message.html) + len(message.text)

    # The baseline gets everything precomputed: plain dicts, the recommendations as lists.
    contexts: list[dict[str, Any]] = []
    builder = ContextBuilder(
        sender=Sender("campaign:0", "Bench"), usage=usage, now=now, recommender=recommender
    )
    for start in range(0, len(ids), BATCH):
        for context in builder.build(ids[start : start + BATCH]):
            products = context["recommendations"](4)
            context["recommendations"] = lambda n=4, products=products: products[:n]
            contexts.append(context)
    bare_environment = jinja2.Environment(autoescape=True)
    bare_environment.filters.update(OUR_FILTERS)  # the locale filters, without the guards
    bare = bare_environment.from_string(compiled.html_source)

    def baseline() -> None:
        for i in range(args.messages):
            bare.render(contexts[i % len(contexts)])

    started = time.perf_counter()
    baseline()
    baseline_seconds = time.perf_counter() - started
    started = time.perf_counter()
    full()
    full_seconds = time.perf_counter() - started
    us = full_seconds / args.messages * 1e6
    baseline_us = baseline_seconds / args.messages * 1e6
    print(
        json.dumps(
            {
                "messages": args.messages,
                "contacts": len(ids),
                "template_bytes": len(compiled.html_source.encode()),
                "avg_output_chars": round(size / args.messages),
                "us_per_msg": round(us, 1),
                "baseline_us_per_msg": round(baseline_us, 1),
                "ratio": round(us / baseline_us, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
