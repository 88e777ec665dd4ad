"""The example data's records and their near-duplicates: a customer record, and the perturbations that
make another record of the same person (typos, nicknames, other formats, missing values).
"""

from __future__ import annotations

import dataclasses
import random
import unicodedata
from collections.abc import Callable, Sequence

from example_vocabulary import EMAIL_DOMAINS, NICKNAMES, PHONE_FORMATS, STREET_SUFFIXES, UNIT_PREFIXES


@dataclasses.dataclass(frozen=True)
class Customer:
    """One customer record without its primary key."""

    first_name: str
    last_name: str
    email: str
    phone: str
    street: str
    city: str
    state: str
    postal_code: str
    birth_date: str


def ascii_fold(text: str) -> str:
    """Remove diacritics, e.g. ``Núñez`` -> ``Nunez``."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


Perturbation = Callable[[Customer, random.Random], Customer]


def typo(text: str, rng: random.Random) -> str:
    """Introduce a single transposition, deletion, doubling or substitution."""
    if len(text) < 4:
        return text
    i = rng.randint(1, len(text) - 2)
    operations = [
        text[:i] + text[i + 1] + text[i] + text[i + 2 :],
        text[:i] + text[i + 1 :],
        text[:i] + text[i] + text[i:],
        text[:i] + rng.choice("aeiou") + text[i + 1 :],
    ]
    return rng.choice(operations)


def misspell_name(customer: Customer, rng: random.Random) -> Customer:
    if rng.random() < 0.5:
        return dataclasses.replace(customer, first_name=typo(customer.first_name, rng))
    return dataclasses.replace(customer, last_name=typo(customer.last_name, rng))


def swap_names(customer: Customer, rng: random.Random) -> Customer:
    return dataclasses.replace(customer, first_name=customer.last_name, last_name=customer.first_name)


def use_nickname(customer: Customer, rng: random.Random) -> Customer:
    nicknames = NICKNAMES.get(customer.first_name)
    if not nicknames:
        return customer
    return dataclasses.replace(customer, first_name=rng.choice(nicknames))


def use_initial(customer: Customer, rng: random.Random) -> Customer:
    return dataclasses.replace(customer, first_name=f"{customer.first_name[0]}.")


def strip_accents(customer: Customer, rng: random.Random) -> Customer:
    return dataclasses.replace(
        customer,
        first_name=ascii_fold(customer.first_name),
        last_name=ascii_fold(customer.last_name),
    )


def upper_case_name(customer: Customer, rng: random.Random) -> Customer:
    return dataclasses.replace(
        customer,
        first_name=customer.first_name.upper(),
        last_name=customer.last_name.upper(),
    )


def change_email_domain(customer: Customer, rng: random.Random) -> Customer:
    if not customer.email:
        return customer
    local, domain = customer.email.split("@")
    other_domains = [d for d in EMAIL_DOMAINS if d != domain]
    return dataclasses.replace(customer, email=f"{local}@{rng.choice(other_domains)}")


def change_email_case(customer: Customer, rng: random.Random) -> Customer:
    if not customer.email:
        return customer
    local, domain = customer.email.split("@")
    if rng.random() < 0.5:
        return dataclasses.replace(customer, email=customer.email.upper())
    return dataclasses.replace(customer, email=f"{local.title()}@{domain}")


def drop_email(customer: Customer, rng: random.Random) -> Customer:
    return dataclasses.replace(customer, email="")


def reformat_phone(customer: Customer, rng: random.Random) -> Customer:
    digits = "".join(c for c in customer.phone if c.isdigit())
    if not digits:
        return customer
    area, exchange, line = digits[-10:-7], digits[-7:-4], digits[-4:]
    phone_format = rng.choice(PHONE_FORMATS[1:])
    return dataclasses.replace(customer, phone=phone_format.format(a=area, e=exchange, l=line))


def drop_phone(customer: Customer, rng: random.Random) -> Customer:
    return dataclasses.replace(customer, phone="")


def toggle_street_suffix(customer: Customer, rng: random.Random) -> Customer:
    address, separator, unit = customer.street.partition(", ")
    head, _, last_word = address.rpartition(" ")
    for long_form, short_form in STREET_SUFFIXES:
        if last_word in (long_form, short_form):
            toggled = short_form if last_word == long_form else long_form
            street = f"{head} {toggled}{separator}{unit}"
            return dataclasses.replace(customer, street=street)
    return customer


def change_unit(customer: Customer, rng: random.Random) -> Customer:
    address, separator, unit = customer.street.partition(", ")
    if not separator:
        return customer
    number = unit.split(" ")[-1].lstrip("#")
    if rng.random() < 0.3:
        return dataclasses.replace(customer, street=address)
    street = f"{address}{rng.choice([', ', ' '])}{rng.choice(UNIT_PREFIXES)}{number}"
    return dataclasses.replace(customer, street=street)


def drop_postal_code(customer: Customer, rng: random.Random) -> Customer:
    return dataclasses.replace(customer, postal_code="")


def extend_postal_code(customer: Customer, rng: random.Random) -> Customer:
    if len(customer.postal_code) != 5:
        return customer
    return dataclasses.replace(customer, postal_code=f"{customer.postal_code}-{rng.randint(1, 9999):04d}")


def is_iso_date(value: str) -> bool:
    return len(value) == 10 and value[4] == "-" and value[7] == "-"


def transpose_birth_date(customer: Customer, rng: random.Random) -> Customer:
    if not is_iso_date(customer.birth_date):
        return customer
    year, month, day = customer.birth_date.split("-")
    if int(day) > 12:
        return customer
    return dataclasses.replace(customer, birth_date=f"{year}-{day}-{month}")


def reformat_birth_date(customer: Customer, rng: random.Random) -> Customer:
    if not is_iso_date(customer.birth_date):
        return customer
    year, month, day = customer.birth_date.split("-")
    return dataclasses.replace(customer, birth_date=f"{month}/{day}/{year}")


PERTURBATIONS: list[Perturbation] = [
    misspell_name,
    misspell_name,
    swap_names,
    use_nickname,
    use_nickname,
    use_initial,
    strip_accents,
    upper_case_name,
    change_email_domain,
    change_email_case,
    drop_email,
    reformat_phone,
    reformat_phone,
    drop_phone,
    toggle_street_suffix,
    toggle_street_suffix,
    change_unit,
    drop_postal_code,
    extend_postal_code,
    transpose_birth_date,
    reformat_birth_date,
]


def near_duplicate(original: Customer, existing: Sequence[Customer], rng: random.Random) -> Customer:
    """Apply 1-3 effective perturbations, yielding a record not seen before."""
    while True:
        wanted = rng.choice([1, 1, 2, 2, 2, 3])
        candidate, applied = original, 0
        for perturb in rng.sample(PERTURBATIONS, len(PERTURBATIONS)):
            changed = perturb(candidate, rng)
            if changed != candidate:
                candidate, applied = changed, applied + 1
            if applied == wanted:
                break
        if candidate not in existing:
            return candidate


# --- dataset and labels --------------------------------------------------------
