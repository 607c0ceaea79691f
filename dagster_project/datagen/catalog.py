"""The fixed product catalogue of the sample data and the planted affinities.

The catalogue does not depend on the seed, so the planted pairs are the same product ids in every data set and tests
can name them. Planted products are rare on their own (low background popularity) and bought together in a share of
orders, which gives them a lift far above every pair that co-occurs only by chance.
"""

from __future__ import annotations

from dataclasses import dataclass

CATEGORIES: tuple[str, ...] = (
    "Coffee",
    "Kitchen",
    "Outdoor",
    "Electronics",
    "Office",
    "Fitness",
    "Pets",
    "Beauty",
    "Home",
    "Toys",
    "Books",
    "Garden",
)
PRODUCTS_PER_CATEGORY = 20
FIRST_PRODUCT_ID = 1001

_NOUNS: dict[str, tuple[str, ...]] = {
    "Coffee": ("Espresso Beans", "Filter Coffee", "Decaf Beans", "Cold Brew", "Coffee Pods"),
    "Kitchen": ("Milk Frother", "Chef Knife", "Cutting Board", "Saucepan", "Kettle"),
    "Outdoor": ("Tent", "Sleeping Bag", "Camping Stove", "Head Torch", "Backpack"),
    "Electronics": ("Printer", "Headphones", "USB Cable", "Power Bank", "Keyboard"),
    "Office": ("Ink Cartridge", "Notebook", "Desk Lamp", "Stapler", "Paper Ream"),
    "Fitness": ("Yoga Mat", "Yoga Block", "Dumbbell", "Jump Rope", "Water Bottle"),
    "Pets": ("Dog Food", "Dog Treats", "Cat Litter", "Pet Bed", "Chew Toy"),
    "Beauty": ("Sunscreen", "Shampoo", "Face Cream", "Lip Balm", "Hand Soap"),
    "Home": ("Beach Towel", "Candle", "Cushion", "Throw Blanket", "Vase"),
    "Toys": ("Puzzle", "Building Blocks", "Board Game", "Plush Bear", "Kite"),
    "Books": ("Cookbook", "Novel", "Travel Guide", "Atlas", "Comic"),
    "Garden": ("Seeds", "Trowel", "Watering Can", "Plant Pot", "Gloves"),
}
_EDITIONS = ("Classic", "Plus", "Pro", "Mini")


@dataclass(frozen=True)
class Product:
    product_id: int
    product_name: str
    category: str
    list_price: float


def _price(category_index: int, j: int) -> float:
    # Deterministic spread of prices between ~3 and ~160 without a random generator.
    base = 4.0 + ((category_index * 37 + j * 53) % 97) * 1.6
    return round(base - 0.01, 2)


def build_catalog() -> tuple[Product, ...]:
    products = []
    for ci, category in enumerate(CATEGORIES):
        nouns = _NOUNS[category]
        for j in range(PRODUCTS_PER_CATEGORY):
            noun = nouns[j % len(nouns)]
            edition = _EDITIONS[j // len(nouns)]
            name = noun if edition == "Classic" else f"{noun} {edition}"
            product_id = FIRST_PRODUCT_ID + ci * PRODUCTS_PER_CATEGORY + j
            products.append(Product(product_id, name, category, _price(ci, j)))
    return tuple(products)


CATALOG: tuple[Product, ...] = build_catalog()
_BY_NAME = {p.product_name: p.product_id for p in CATALOG}

# The planted affinities: each pair is put into the same order far more often than chance would.
PLANTED_PAIRS: tuple[tuple[int, int], ...] = tuple(
    (min(_BY_NAME[a], _BY_NAME[b]), max(_BY_NAME[a], _BY_NAME[b]))
    for a, b in (
        ("Espresso Beans", "Milk Frother"),
        ("Tent", "Sleeping Bag"),
        ("Printer", "Ink Cartridge"),
        ("Yoga Mat", "Yoga Block"),
        ("Dog Food", "Dog Treats"),
        ("Sunscreen", "Beach Towel"),
    )
)
PLANTED_PRODUCTS: frozenset[int] = frozenset(p for pair in PLANTED_PAIRS for p in pair)
# Share of orders that carry one planted pair (spread evenly over the pairs).
PLANTED_ORDER_SHARE = 0.06
