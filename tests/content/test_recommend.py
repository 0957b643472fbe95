"""Recommendations: what owners buy next beats what is merely popular, and the rules hold
(nothing owned unless consumable, nothing inactive, at most n, each product once)."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from rapport.content.models import RecommendationModel
from rapport.content.recommend import (
    MAX_RESULTS,
    Recommender,
    purchases_for,
    recommend_for_contact,
    train,
)
from rapport.crm.models import Contact, Product
from tests.factories import make_contact, make_order, make_product

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def _days_ago(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


@dataclass
class Shop:
    camera: Product
    lenses: list[Product]
    card: Product  # consumable, bought with cameras and again later
    machine: Product
    beans: list[Product]  # consumable and the most popular products by far
    photographers: list[Contact]


def _shop() -> Shop:
    """Photographers buy a camera, then a lens and a card, then another card; more coffee
    drinkers buy a machine and beans again and again, so beans top the popularity list."""
    camera = make_product(name="Camera", category="camera")
    lenses = [make_product(name=f"Lens {n}", category="lens") for n in range(2)]
    card = make_product(name="SD card", category="memory-card", consumable=True)
    machine = make_product(name="Espresso machine", category="coffee-machine")
    beans = [
        make_product(name=f"Beans {n}", category="coffee-beans", consumable=True) for n in range(2)
    ]
    photographers = []
    for n in range(8):
        contact = make_contact(interests=["photography"])
        make_order(contact, [camera], placed_at=_days_ago(90 + n))
        make_order(contact, [lenses[n % 2], card], placed_at=_days_ago(60 + n))
        make_order(contact, [card], placed_at=_days_ago(30 + n))
        photographers.append(contact)
    for n in range(14):
        contact = make_contact(interests=["coffee"])
        make_order(contact, [machine], placed_at=_days_ago(100 + n))
        for k in range(4):
            make_order(contact, [beans[(n + k) % 2]], placed_at=_days_ago(80 - 15 * k + n))
    return Shop(camera, lenses, card, machine, beans, photographers)


def _ids(products: list[Any]) -> list[int]:
    return [p.id for p in products]


def test_a_camera_buyer_is_shown_lenses_and_cards_before_popular_beans():
    shop = _shop()
    train(NOW)
    recommender = Recommender.load()
    assert set(_ids(recommender.generic(2))) == {b.id for b in shop.beans}  # popular: beans

    shown = _ids(recommender.recommend([shop.camera.id], [], 4))

    assert set(shown[:3]) == {shop.lenses[0].id, shop.lenses[1].id, shop.card.id}
    assert shop.camera.id not in shown
    # The fourth place is filled by popularity.
    assert shown[3] in {b.id for b in shop.beans}


def test_interests_pick_categories_for_a_contact_without_purchases():
    shop = _shop()
    train(NOW)
    recommender = Recommender.load()

    shown = recommender.recommend([], ["photography"], 3)

    photo = {shop.camera.id, shop.card.id, *(lens.id for lens in shop.lenses)}
    assert set(_ids(shown)) <= photo
    assert _ids(recommender.recommend([], ["unknown interest"], 2)) == _ids(recommender.generic(2))


def test_owned_products_come_back_only_when_consumable():
    shop = _shop()
    train(NOW)
    recommender = Recommender.load()
    lens = shop.lenses[0]

    shown = _ids(recommender.recommend([shop.camera.id, lens.id, shop.card.id], [], 4))

    assert shop.camera.id not in shown
    assert lens.id not in shown
    assert shop.card.id in shown  # consumable: a second card is welcome
    assert shop.lenses[1].id in shown


def test_inactive_products_are_never_recommended():
    shop = _shop()
    retired = shop.lenses[0]
    Product.objects.filter(pk=retired.pk).update(active=False)
    model = train(NOW)
    assert str(retired.pk) not in model.data["products"]
    assert retired.pk not in [pk for pk, _ in model.data["popular"]]
    assert all(j != retired.pk for row in model.data["neighbours"].values() for j, _ in row)
    # Deactivated after training: left out when loading.
    Product.objects.filter(pk=shop.card.pk).update(active=False)
    recommender = Recommender.load()

    for purchased in ([shop.camera.id], [], [shop.machine.id]):
        shown = _ids(recommender.recommend(purchased, ["photography"], MAX_RESULTS))
        assert retired.pk not in shown
        assert shop.card.pk not in shown
        assert shop.lenses[1].pk in shown
    assert retired.pk not in _ids(recommender.generic(MAX_RESULTS))
    # A retired camera's owner still gets its accessories.
    Product.objects.filter(pk=shop.camera.pk).update(active=False)
    assert shop.lenses[1].pk in _ids(Recommender.load().recommend([shop.camera.id], [], 2))


def test_an_empty_shop_recommends_its_newest_active_products():
    older = make_product(name="Older")
    make_product(name="Retired", active=False)
    newer = make_product(name="Newer")
    Product.objects.filter(pk=older.pk).update(created_at=_days_ago(10))
    assert _ids(Recommender.load().generic(4)) == [newer.id, older.id]  # untrained

    model = train(NOW)

    assert model.orders == 0
    assert model.data["neighbours"] == {}
    recommender = Recommender.load()
    assert _ids(recommender.generic(4)) == [newer.id, older.id]
    assert _ids(recommender.recommend([], ["coffee"], 4)) == [newer.id, older.id]
    assert _ids(recommender.recommend([newer.id], [], 4)) == [older.id]


def test_contacts_without_personalisation_get_the_generic_list():
    shop = _shop()
    camera_owner = make_contact(email="ada@example.com", interests=["photography"])
    make_order(camera_owner, [shop.camera], placed_at=_days_ago(5))
    train(NOW)

    personal = _ids(recommend_for_contact(" Ada@Example.com ", 3))
    Contact.objects.filter(pk=camera_owner.pk).update(personalisation=False)
    generic = _ids(recommend_for_contact("ada@example.com", 3))

    assert shop.lenses[0].id in personal
    assert generic == _ids(Recommender.load().generic(3))
    assert set(generic) <= {b.id for b in shop.beans} | {shop.machine.id, shop.card.id}
    with pytest.raises(LookupError, match=r"nobody@example\.com"):
        recommend_for_contact("nobody@example.com")


def test_purchases_for_is_one_query_oldest_first_each_product_once(
    django_assert_num_queries: Any,
):
    a, b, c = (make_product() for _ in range(3))
    first, second, never = make_contact(), make_contact(), make_contact()
    make_order(first, [a, b], placed_at=_days_ago(30))
    make_order(first, [c], placed_at=_days_ago(20))
    make_order(first, [a], placed_at=_days_ago(10))  # bought again: now the latest
    make_order(second, [b], placed_at=_days_ago(5))

    with django_assert_num_queries(1):
        bought = purchases_for([first.pk, second.pk, never.pk])

    assert bought == {first.pk: [b.id, c.id, a.id], second.pk: [b.id], never.pk: []}


def test_training_replaces_the_previous_model_and_can_hold_orders_back():
    shop = _shop()
    first = train(NOW)
    newcomer = make_contact()
    make_order(newcomer, [shop.camera], placed_at=_days_ago(3))
    held_back = make_order(newcomer, [shop.machine], placed_at=_days_ago(1))

    second = train(NOW, exclude_order_ids=[held_back.pk])

    assert list(RecommendationModel.objects.values_list("pk", flat=True)) == [second.pk]
    assert second.pk != first.pk
    assert second.orders == first.orders + 1
    neighbours = dict(second.data["neighbours"][str(shop.camera.pk)])
    assert shop.machine.pk not in neighbours  # the held-back order taught nothing

    third = train(NOW)
    assert third.orders == first.orders + 2
    assert shop.machine.pk in dict(third.data["neighbours"][str(shop.camera.pk)])
    assert RecommendationModel.objects.get().pk == third.pk


def test_results_are_unique_allowed_and_at_most_n_for_random_contacts():
    shop = _shop()
    extra = [make_product(category=f"misc-{n % 3}") for n in range(10)]
    Product.objects.filter(pk=extra[0].pk).update(active=False)
    train(NOW)
    recommender = Recommender.load()
    active = set(Product.objects.filter(active=True).values_list("pk", flat=True))
    consumable = set(Product.objects.filter(consumable=True).values_list("pk", flat=True))
    everything = list(Product.objects.values_list("pk", flat=True))
    rng = random.Random(7)

    for _ in range(300):
        purchased = rng.sample(everything, rng.randint(0, len(everything)))
        interests = rng.sample(["photography", "coffee", "hiking"], rng.randint(0, 3))
        n = rng.randint(-1, 15)
        shown = _ids(recommender.recommend(purchased, interests, n))
        assert len(shown) == len(set(shown))
        allowed = active - (set(purchased) - consumable)
        assert set(shown) <= allowed
        assert len(shown) == min(max(n, 0), MAX_RESULTS, len(allowed))
    assert len(recommender.generic(50)) == MAX_RESULTS
    assert shop.camera.id in _ids(recommender.generic(MAX_RESULTS))
