"""Product recommendations learnt from purchase history.

Training streams every order line once, by contact, and learns:

- *what people buy next*: for each order after a contact's first, every product the contact
  already owned "leads to" the products in that order, giving ``P(j in the next order | owns
  i)``. It is directional (a camera leads to a lens, a lens hardly to a camera) and measures
  what an email can change, the next purchase. Rare products borrow strength from their
  category's estimate, shared out by popularity within the category;
- *saturation*: owners of a lens rarely want a third, coffee drinkers keep buying beans. The
  sum over owned products cannot say this, so a second look at a sample of contacts compares
  what the sum predicted with what they bought, per category and number already owned, and
  keeps the ratio;
- *popularity*: purchases weighted by age (half-life of 180 days), the fallback and tie-break;
- *interests*: how much more contacts with an interest buy each category than all buyers
  (lift, shrunk toward 1 when few buyers back it), for contacts with little history;
- each product's category and whether it is consumable.

The result is one JSON document (``RecommendationModel``). ``Recommender.load`` turns it into
plain dicts and tuples once per send, so that ``recommend`` costs a few dozen dict operations.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from operator import itemgetter
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from rapport.content.models import RecommendationModel
from rapport.crm.models import Contact, Order, OrderLine, Product

FORMAT = 1
MAX_RESULTS = 12
CHUNK = 5_000  # rows per fetch while streaming order lines
HISTORY = 50  # most recent distinct products of a contact that count as owned
NEIGHBOURS = 30  # kept per product
NEIGHBOURS_USED = 16  # read per purchase when recommending: as good as 30, twice as fast
HALF_LIFE_DAYS = 180.0  # popularity: a purchase this old counts half
CATEGORY_PRIOR = 20.0  # pseudo-observations of the category-level estimate, per product
CATEGORY_SPREAD = 40  # most popular products of a category that inherit its estimate
SATURATION_SAMPLE = 20_000  # contacts with repeat orders that calibrate saturation
SATURATION_PRIOR = 10.0  # expected purchases pulling a category's ratio toward the average
OWNED_BUCKETS = 4  # saturation by 0, 1, 2, or 3+ products of the category owned
INTEREST_PRIOR = 30.0  # pseudo-buyers pulling an interest's category lift toward 1
INTEREST_ITEMS = 12  # products kept per interest
INTEREST_WEIGHT = 0.1  # interests against neighbours: they decide few repeat orders
RECENCY = 0.8  # each older purchase counts this much of the next newer one
POPULARITY_WEIGHT = 1e-3  # popularity breaks ties among equally related products

# The fields of RecommendedProduct, in its order.
_SHOWN = ("id", "sku", "name", "category", "price", "currency", "url", "image_url")
# (contact id, order id, placed at, product id), ordered by contact, then time.
LineRow = tuple[int, int, dt.datetime, int]
Scored = tuple[tuple[int, float], ...]


@dataclass(frozen=True, slots=True)
class RecommendedProduct:
    id: int
    sku: str
    name: str
    category: str
    price: Decimal
    currency: str
    url: str
    image_url: str


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    """What training needs to know of a product."""

    category: str
    consumable: bool
    active: bool


@dataclass(frozen=True)
class Learnt:
    data: dict[str, Any]
    orders: int


# --- training -----------------------------------------------------------------------------


def train(
    now: dt.datetime | None = None, *, exclude_order_ids: Collection[int] = ()
) -> RecommendationModel:
    """Learn from all orders and replace the stored model. ``exclude_order_ids`` holds orders
    back, so that an evaluation can ask about purchases the model has not seen."""
    now = now or timezone.now()
    if timezone.is_naive(now):
        raise ValueError("train() needs an aware datetime for now.")
    catalogue = {
        pk: CatalogueEntry(category, consumable, active)
        for pk, category, consumable, active in Product.objects.values_list(
            "id", "category", "consumable", "active"
        )
    }
    newest = Product.objects.filter(active=True).order_by("-created_at", "-id")
    learnt = learn(
        _lines(frozenset(exclude_order_ids)),
        _interests(),
        catalogue,
        newest=list(newest.values_list("id", flat=True)),
        now=now,
    )
    with transaction.atomic():
        model = RecommendationModel.objects.create(
            data=learnt.data, orders=learnt.orders, products=len(learnt.data["products"])
        )
        RecommendationModel.objects.exclude(pk=model.pk).delete()
    return model


def _lines(excluded: frozenset[int]) -> Iterator[LineRow]:
    """Order lines of catalogue products, by contact then time, in chunks: flat memory."""
    rows = (
        OrderLine.objects.filter(product__isnull=False)
        .order_by("order__contact_id", "order__placed_at", "order_id")
        .values_list("order__contact_id", "order_id", "order__placed_at", "product_id")
        .iterator(chunk_size=CHUNK)
    )
    for contact, order, placed_at, product in rows:
        if order not in excluded and product is not None:
            yield contact, order, placed_at, product


def _interests() -> Iterator[tuple[int, list[str]]]:
    """Interests of contacts who ordered, by id, to merge with the lines as both stream."""
    return (
        Contact.objects.filter(Exists(Order.objects.filter(contact=OuterRef("pk"))))
        .order_by("id")
        .values_list("id", "interests")
        .iterator(chunk_size=CHUNK)
    )


def learn(
    lines: Iterable[LineRow],
    interests: Iterable[tuple[int, list[str]]],
    catalogue: Mapping[int, CatalogueEntry],
    *,
    now: dt.datetime,
    newest: Sequence[int] = (),
) -> Learnt:
    """The model document from order lines and contacts' interests, both sorted by contact.

    ``newest`` lists active products newest first: the popularity of a shop without orders.
    """
    tally = _Tally(now, catalogue)
    pending = iter(interests)
    upcoming = next(pending, None)

    def interests_of(contact: int) -> list[str]:
        nonlocal upcoming
        while upcoming is not None and upcoming[0] < contact:
            upcoming = next(pending, None)
        if upcoming is None or upcoming[0] != contact or not isinstance(upcoming[1], list):
            return []
        return [interest for interest in upcoming[1] if isinstance(interest, str)]

    current = last_order = -1
    orders: list[tuple[dt.datetime, list[int]]] = []
    for contact, order, placed_at, product in lines:
        if contact != current:
            if orders:
                tally.contact(current, orders, interests_of(current))
            current, orders = contact, []
        if order != last_order or not orders:
            orders.append((placed_at, []))
            last_order = order
        items = orders[-1][1]
        if product not in items:
            items.append(product)
    if orders:
        tally.contact(current, orders, interests_of(current))
    return Learnt(tally.document(newest), tally.orders)


class _Tally:
    """Counts gathered contact by contact; the model is derived from them at the end."""

    def __init__(self, now: dt.datetime, catalogue: Mapping[int, CatalogueEntry]) -> None:
        self.now = now
        self.catalogue = catalogue
        # i -> j -> next orders with j placed while owning i; owned[i]: all such next orders.
        # Each contact's next orders weigh one in all, as each contact gets one email: a
        # weekly beans buyer must not teach the model more than ten one-time buyers.
        self.follow: defaultdict[int, defaultdict[int, float]] = defaultdict(
            lambda: defaultdict(float)
        )
        self.owned: defaultdict[int, float] = defaultdict(float)
        self.popularity: defaultdict[int, float] = defaultdict(float)
        self.orders = 0
        self.buyers = 0
        self.interest_buyers: Counter[str] = Counter()
        self.category_buyers: Counter[str] = Counter()
        self.interest_category: Counter[tuple[str, str]] = Counter()
        # A bottom-k sample by hashed contact id: the same contacts whatever the row order.
        self.sample: list[tuple[int, list[list[int]], list[str]]] = []

    def contact(
        self, contact: int, orders: list[tuple[dt.datetime, list[int]]], interests: list[str]
    ) -> None:
        """One contact's orders, oldest first, each with its distinct products."""
        history: dict[int, None] = {}  # insertion order: the latest purchase last
        half_life = HALF_LIFE_DAYS * 86_400
        share = 1.0 / max(1, len(orders) - 1)
        for position, (placed_at, items) in enumerate(orders):
            age = max(0.0, (self.now - placed_at).total_seconds())
            weight = 0.5 ** (age / half_life)
            for j in items:
                self.popularity[j] += weight
            if position:
                for i in list(history)[-HISTORY:]:
                    self.owned[i] += share
                    row = self.follow[i]
                    for j in items:
                        row[j] += share
            for j in items:
                history.pop(j, None)
                history[j] = None
        self.orders += len(orders)
        self.buyers += 1
        categories = {self.catalogue[j].category for j in history if j in self.catalogue}
        categories.discard("")
        self.category_buyers.update(categories)
        for interest in set(interests):
            self.interest_buyers[interest] += 1
            for category in categories:
                self.interest_category[interest, category] += 1
        if len(orders) > 1:
            key = -((contact * 2_654_435_761) % 2**32)
            entry = (key, [items for _, items in orders], interests)
            if len(self.sample) < SATURATION_SAMPLE:
                heapq.heappush(self.sample, entry)
            elif key > self.sample[0][0]:
                heapq.heapreplace(self.sample, entry)

    def document(self, newest: Sequence[int]) -> dict[str, Any]:
        active = {pk for pk, entry in self.catalogue.items() if entry.active}
        total = sum(self.popularity.values()) or 1.0
        share = {pk: weight / total for pk, weight in self.popularity.items()}
        popular = sorted((pk for pk in share if pk in active), key=lambda pk: (-share[pk], -pk))
        ranked = set(popular)
        popular += [pk for pk in newest if pk not in ranked]
        neighbours = self.neighbours(active, share)
        interests = self.interest_lifts()
        shown = {pk: value for pk, value in share.items() if pk in active}
        return {
            "format": FORMAT,
            "trained_at": self.now.isoformat(),
            "products": {
                str(pk): [entry.category, int(entry.consumable)]
                for pk, entry in self.catalogue.items()
                if entry.active
            },
            "popular": [[pk, _round(share.get(pk, 0.0))] for pk in popular],
            "neighbours": {
                str(i): [[j, _round(s)] for j, s in row] for i, row in neighbours.items()
            },
            "saturation": self.saturation(neighbours, interests, shown),
            "interests": interests,
        }

    def neighbours(self, active: set[int], share: dict[int, float]) -> dict[int, Scored]:
        """What owners of each product bought next (for inactive products too: a discontinued
        camera's owner still needs lenses), smoothed by the category's estimate."""
        category_of = {pk: entry.category for pk, entry in self.catalogue.items()}
        category_follow: defaultdict[str, defaultdict[str, float]] = defaultdict(
            lambda: defaultdict(float)
        )
        category_owned: defaultdict[str, float] = defaultdict(float)
        for i, row in self.follow.items():
            a = category_of.get(i, "")
            category_owned[a] += self.owned[i]
            target = category_follow[a]
            for j, count in row.items():
                target[category_of.get(j, "")] += count
        members: defaultdict[str, list[int]] = defaultdict(list)
        for pk in sorted(share, key=share.__getitem__, reverse=True):
            if pk in active:
                members[category_of[pk]].append(pk)
        category_share = {c: sum(share[pk] for pk in pks) for c, pks in members.items()}

        result: dict[int, Scored] = {}
        for i, row in self.follow.items():
            prior: dict[int, float] = {}
            a = category_of.get(i, "")
            if a and category_owned[a]:
                for b, count in category_follow[a].items():
                    if b and b in category_share:
                        rate = count / category_owned[a] / category_share[b]
                        for j in members[b][:CATEGORY_SPREAD]:
                            prior[j] = rate * share[j]
            weight = CATEGORY_PRIOR if prior else 0.0
            owned = self.owned[i] + weight
            scores = {
                j: (row.get(j, 0) + weight * prior.get(j, 0.0)) / owned
                + POPULARITY_WEIGHT * share.get(j, 0.0)
                for j in row.keys() | prior.keys()
                if j in active
            }
            best = heapq.nlargest(NEIGHBOURS, scores.items(), key=itemgetter(1))
            if best:
                result[i] = tuple(best)
        return result

    def saturation(
        self,
        neighbours: dict[int, Scored],
        interests: dict[str, dict[str, float]],
        share: dict[int, float],
    ) -> dict[str, list[float]]:
        """Per category, bought / predicted for 0, 1, 2 and 3+ products of it owned, replaying
        the sampled contacts' orders through the blend that ``Recommender.recommend`` uses
        (with whole neighbour lists: cut ones make the categories they cut look underrated)."""
        category_of = {pk: entry.category for pk, entry in self.catalogue.items()}
        consumable = {pk for pk, entry in self.catalogue.items() if entry.consumable}
        by_interest = _interest_items(interests, share, category_of)
        observed: Counter[tuple[str, int]] = Counter()
        expected: defaultdict[tuple[str, int], float] = defaultdict(float)
        for _, orders, contact_interests in self.sample:
            history: dict[int, None] = {}
            for position, items in enumerate(orders):
                if position:
                    owned = list(history)[-HISTORY:]
                    counts = Counter(category_of.get(i, "") for i in owned)
                    excluded = set(owned) - consumable
                    predicted, total = _blend(owned, contact_interests, neighbours, by_interest)
                    for j, score in predicted.items():
                        if j not in excluded:
                            category = category_of.get(j, "")
                            expected[category, min(counts[category], OWNED_BUCKETS - 1)] += (
                                score / total
                            )
                    for j in items:
                        if j not in excluded:
                            category = category_of.get(j, "")
                            observed[category, min(counts[category], OWNED_BUCKETS - 1)] += 1
                for j in items:
                    history.pop(j, None)
                    history[j] = None
        overall = []
        for k in range(OWNED_BUCKETS):
            seen = sum(n for (_, bucket), n in observed.items() if bucket == k)
            guessed = sum(x for (_, bucket), x in expected.items() if bucket == k)
            overall.append(seen / guessed if guessed else 1.0)
        result: dict[str, list[float]] = {}
        for category in {category for category, _ in expected}:
            if category:
                result[category] = [
                    _round(
                        (observed[category, k] + SATURATION_PRIOR * overall[k])
                        / (expected[category, k] + SATURATION_PRIOR)
                    )
                    for k in range(OWNED_BUCKETS)
                ]
        return result

    def interest_lifts(self) -> dict[str, dict[str, float]]:
        """Categories that contacts with each interest buy more than buyers overall, by lift."""
        lifts: dict[str, dict[str, float]] = {}
        for interest, with_interest in self.interest_buyers.items():
            row: dict[str, float] = {}
            for category, buyers in self.category_buyers.items():
                base = buyers / self.buyers
                both = self.interest_category[interest, category]
                lift = (both + INTEREST_PRIOR * base) / ((with_interest + INTEREST_PRIOR) * base)
                if lift > 1.0:
                    row[category] = _round(lift)
            if row:
                lifts[interest] = row
        return lifts


def _round(value: float) -> float:
    """Five significant digits: plenty for ranking, and a third of the JSON."""
    return float(f"{value:.5g}")


def _interest_items(
    lifts: Mapping[str, Mapping[str, float]],
    share: Mapping[int, float],
    category_of: Mapping[int, str],
) -> dict[str, Scored]:
    """Per interest, the products of its favoured categories by popularity times extra lift."""
    by_category: defaultdict[str, list[int]] = defaultdict(list)
    for pk in share:
        if pk in category_of:
            by_category[category_of[pk]].append(pk)
    result: dict[str, Scored] = {}
    for interest, row in lifts.items():
        scored = [
            (pk, INTEREST_WEIGHT * share[pk] * (lift - 1.0))
            for category, lift in row.items()
            for pk in by_category.get(category, ())
        ]
        best = heapq.nlargest(INTEREST_ITEMS, scored, key=itemgetter(1))
        if best:
            result[interest] = tuple(best)
    return result


def _blend(
    purchased: Sequence[int],
    interests: Sequence[str],
    neighbours: Mapping[int, Scored],
    by_interest: Mapping[str, Scored],
) -> tuple[dict[int, float], float]:
    """Neighbours of what was bought, the latest counting most, plus interests' products;
    with the total weight of the purchases, which turns the sums into a mean.

    Interests are scaled by that weight rather than neighbours divided by it: the same
    ranking, with one multiplication per interest product instead of a division per result.
    """
    scores: dict[int, float] = {}
    get = scores.get
    weight = 1.0
    total = 0.0
    for i in reversed(purchased):
        row = neighbours.get(i)
        if row:
            for j, score in row:
                scores[j] = get(j, 0.0) + weight * score
            total += weight
            weight *= RECENCY
    scale = total or 1.0
    for interest in interests:
        for j, score in by_interest.get(interest, ()):
            scores[j] = get(j, 0.0) + scale * score
    return scores, scale


# --- recommending -------------------------------------------------------------------------


class Recommender:
    """A trained model as plain lookups, loaded once per send."""

    def __init__(
        self,
        products: dict[int, RecommendedProduct],
        *,
        popular: Sequence[int],
        consumable: Collection[int] = (),
        categories: Mapping[int, str] | None = None,
        neighbours: Mapping[int, Scored] | None = None,
        interests: Mapping[str, Scored] | None = None,
        saturation: Mapping[str, Sequence[float]] | None = None,
    ) -> None:
        """``products`` are those that may be shown (active); ``categories`` covers bought
        products too, which may have been deactivated since."""
        self.products = products
        self.popular = tuple(pk for pk in popular if pk in products)
        self.consumable = frozenset(consumable)
        self.categories = dict(categories or {pk: p.category for pk, p in products.items()})
        self.interests = dict(interests or {})
        # Owning k products of a category scales its products by saturation[k] / [0]; the
        # factor for none owned is folded into the neighbour scores here, once.
        saturation = saturation or {}
        self.saturation = {
            category: tuple(ratio / ratios[0] for ratio in ratios)
            for category, ratios in saturation.items()
            if len(ratios) == OWNED_BUCKETS and ratios[0] > 0
        }
        self.neighbours: dict[int, Scored] = {}
        for i, row in (neighbours or {}).items():
            folded = [
                (j, score * saturation.get(self.categories.get(j, ""), (1.0,))[0])
                for j, score in row
                if j in products
            ]
            if folded:
                folded.sort(key=itemgetter(1), reverse=True)
                self.neighbours[i] = tuple(folded[:NEIGHBOURS_USED])
        members: defaultdict[str, list[int]] = defaultdict(list)
        for pk in self.popular:
            members[products[pk].category].append(pk)
        self.members = {category: tuple(pks) for category, pks in members.items()}

    @classmethod
    def load(cls) -> Recommender:
        """The latest model with today's catalogue (a product deactivated since training is
        left out); without a model, active products newest first."""
        products: dict[int, RecommendedProduct] = {}
        categories: dict[int, str] = {}
        consumable: set[int] = set()
        newest: list[tuple[dt.datetime, int]] = []
        rows = Product.objects.values_list(*_SHOWN, "consumable", "active", "created_at")
        for *shown, is_consumable, active, created_at in rows:
            pk, category = shown[0], shown[3]
            categories[pk] = category
            if active:
                products[pk] = RecommendedProduct(*shown)
                newest.append((created_at, pk))
            if is_consumable:
                consumable.add(pk)
        newest.sort(reverse=True)
        model = RecommendationModel.objects.order_by("-created_at", "-id").first()
        if model is None or model.data.get("format") != FORMAT:
            return cls(
                products,
                popular=[pk for _, pk in newest],
                consumable=consumable,
                categories=categories,
            )
        return cls.from_data(model.data, products, consumable, categories)

    @classmethod
    def from_data(
        cls,
        data: Mapping[str, Any],
        products: dict[int, RecommendedProduct],
        consumable: Collection[int],
        categories: Mapping[int, str],
    ) -> Recommender:
        """Plain lookups from a model document, keeping only ``products`` as results."""
        share = {int(pk): float(score) for pk, score in data["popular"] if int(pk) in products}
        neighbours = {
            int(i): tuple((int(j), float(score)) for j, score in row)
            for i, row in data["neighbours"].items()
        }
        return cls(
            products,
            popular=[int(pk) for pk, _ in data["popular"]],
            consumable=consumable,
            categories=categories,
            neighbours=neighbours,
            interests=_interest_items(data["interests"], share, categories),
            saturation=data.get("saturation"),
        )

    def recommend(
        self, purchased: Sequence[int], interests: Sequence[str], n: int = 4
    ) -> list[RecommendedProduct]:
        """Up to ``n`` (at most 12) products for a contact who bought ``purchased`` (oldest
        first) and follows ``interests``: what owners of their products buy next, then their
        interests' categories, then what is popular. Never a product they already own, unless
        it is consumable."""
        n = min(n, MAX_RESULTS)
        if n <= 0:
            return []
        recent = purchased[-HISTORY:]
        scores, _ = _blend(recent, interests, self.neighbours, self.interests)
        saturation = self.saturation
        if scores and saturation:
            owned_in: dict[str, int] = {}
            categories = self.categories
            for i in recent:
                category = categories.get(i, "")
                if category in saturation:
                    owned_in[category] = owned_in.get(category, 0) + 1
            for category, count in owned_in.items():
                factor = saturation[category][min(count, OWNED_BUCKETS - 1)]
                members = self.members.get(category, ())
                if len(members) <= len(scores):
                    for j in members:
                        if j in scores:
                            scores[j] *= factor
                else:
                    for j in scores:
                        if categories.get(j) == category:
                            scores[j] *= factor
        owned = set(purchased)
        owned -= self.consumable
        products = self.products
        result: list[RecommendedProduct] = []
        for source in (sorted(scores, key=scores.__getitem__, reverse=True), self.popular):
            for j in source:
                if j not in owned:
                    result.append(products[j])
                    if len(result) == n:
                        return result
                    owned.add(j)
        return result

    def generic(self, n: int = 4) -> list[RecommendedProduct]:
        """The most popular products, for contacts who turned personalisation off."""
        return [self.products[pk] for pk in self.popular[: max(0, min(n, MAX_RESULTS))]]


# --- helpers for sending and the CLI ------------------------------------------------------


def purchases_for(contact_ids: Sequence[int]) -> dict[int, list[int]]:
    """Products each contact bought, in one query: oldest first, each once at its latest
    purchase (beans bought again last week count as recent). Every asked id is a key."""
    result: dict[int, dict[int, None]] = {pk: {} for pk in contact_ids}
    rows = (
        OrderLine.objects.filter(order__contact_id__in=list(result), product__isnull=False)
        .order_by("order__placed_at", "order_id", "id")
        .values_list("order__contact_id", "product_id")
    )
    for contact, product in rows:
        if product is not None:
            bought = result[contact]
            bought.pop(product, None)
            bought[product] = None
    return {pk: list(bought) for pk, bought in result.items()}


def recommend_for_contact(email: str, n: int = 4) -> list[RecommendedProduct]:
    """What an email to this contact would show now (``rapport recommend EMAIL``)."""
    address = email.strip().lower()
    found = Contact.objects.filter(email=address).values_list("id", "interests", "personalisation")
    contact = found.first()
    if contact is None:
        raise LookupError(f"No contact has the email address {address!r}.")
    pk, interests, personalised = contact
    recommender = Recommender.load()
    if not personalised:
        return recommender.generic(n)
    wanted = [i for i in interests if isinstance(i, str)] if isinstance(interests, list) else []
    return recommender.recommend(purchases_for([pk])[pk], wanted, n)
