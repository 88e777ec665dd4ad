"""Generate the synthetic example data used by the example CDK app.

Writes three CSV files, relative to the repository root:

* ``data/customers.csv`` - a small, entirely fictitious customer dataset for an
  AWS Glue FindMatches ML transform. It holds a set of distinct people plus
  near-duplicate records of some of them (typos, swapped or nicknamed first
  names, other email domains, phone and address formatting differences,
  missing values, ...), each with its own ``customer_id`` primary key. Family
  members sharing an address provide look-alike records that do *not* match.
* ``labels/round-1.csv`` and ``labels/round-2.csv`` - FindMatches label files
  in AWS Glue's labeling file format (``labeling_set_id,label`` followed by all
  dataset columns), two labeling rounds of five labeling sets each, of rows
  copied from the dataset. Rows of the same person share a label within their
  labeling set. Like two real rounds, both name their sets ``set-01`` to
  ``set-05``: ``LabelSource.from_directory`` tells them apart.

Names, streets and cities come from small built-in lists (example_vocabulary.py), near-duplicates
from the perturbations of example_variations.py; emails use reserved
example domains and phone numbers the fictional 555-01XX range. The random
seed is fixed, so every run produces byte-identical files. Regenerate with::

    .venv/bin/python scripts/generate_example_data.py
"""

from __future__ import annotations

import csv
import dataclasses
import random
import string
from datetime import timedelta
from pathlib import Path

from example_variations import Customer, ascii_fold, near_duplicate
from example_vocabulary import (
    CITIES,
    EMAIL_DOMAINS,
    FIRST_NAMES,
    LAST_NAMES,
    OLDEST_BIRTH_DATE,
    PHONE_FORMATS,
    STREET_NAMES,
    STREET_SUFFIXES,
    UNIT_PREFIXES,
    YOUNGEST_BIRTH_DATE,
)

SEED = 20240607
REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_FILE = REPO_ROOT / "data" / "customers.csv"
LABELS_DIR = REPO_ROOT / "labels"

COLUMNS = [
    "customer_id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "street",
    "city",
    "state",
    "postal_code",
    "birth_date",
]
LABEL_COLUMNS = ["labeling_set_id", "label", *COLUMNS]

BASE_PEOPLE = 330
HOUSEHOLD_MEMBERS = 30
DUPLICATED_PEOPLE = 110
TRIPLICATED_PEOPLE = 25
LABELING_SETS = 10
LABELING_ROUNDS = 2
MIN_SET_ROWS = 10
MAX_SET_ROWS = 15
MIN_NON_MATCHING_ROWS = 3


@dataclasses.dataclass(frozen=True)
class Row:
    """A dataset row together with the (unpublished) person it belongs to."""

    person: int
    values: list[str]


# --- base people -----------------------------------------------------------


def email_local_part(first: str, last: str, rng: random.Random) -> str:
    """Build a plausible mailbox name from a person's name."""
    first = "".join(c for c in ascii_fold(first).lower() if c.isalpha())
    last = "".join(c for c in ascii_fold(last).lower() if c.isalpha())
    patterns = [
        f"{first}.{last}",
        f"{first[0]}{last}",
        f"{first}_{last}",
        f"{first}{last}{rng.randint(1, 99)}",
        f"{last}.{first[0]}",
    ]
    return rng.choice(patterns)


def make_email(first: str, last: str, rng: random.Random, taken: set[str]) -> str:
    """Return an email address not used by any other person."""
    email = f"{email_local_part(first, last, rng)}@{rng.choice(EMAIL_DOMAINS)}"
    while email in taken:
        local, domain = email.split("@")
        email = f"{local}{rng.randint(0, 9)}@{domain}"
    taken.add(email)
    return email


def make_phone(area_code: str, rng: random.Random, taken: set[tuple[str, str]]) -> str:
    """Return an unused fictional 555-01XX number in the base format."""
    while True:
        line = f"01{rng.randint(0, 99):02d}"
        if (area_code, line) not in taken:
            taken.add((area_code, line))
            return PHONE_FORMATS[0].format(a=area_code, e="555", l=line)


def make_street(rng: random.Random) -> str:
    """Return a street address, sometimes with an apartment or unit."""
    long_form, short_form = rng.choice(STREET_SUFFIXES)
    suffix = long_form if rng.random() < 0.7 else short_form
    street = f"{rng.randint(1, 9899)} {rng.choice(STREET_NAMES)} {suffix}"
    if rng.random() < 0.2:
        unit = f"{rng.randint(1, 30)}{rng.choice(['', 'A', 'B', 'C'])}"
        street = f"{street}, {rng.choice(UNIT_PREFIXES[:3])}{unit}"
    return street


def make_birth_date(rng: random.Random) -> str:
    """Return an ISO birth date between the oldest and youngest bounds."""
    span = (YOUNGEST_BIRTH_DATE - OLDEST_BIRTH_DATE).days
    return (OLDEST_BIRTH_DATE + timedelta(days=rng.randint(0, span))).isoformat()


class PeopleFactory:
    """Creates distinct people with unique names, emails and phone numbers."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.names: set[tuple[str, str]] = set()
        self.emails: set[str] = set()
        self.phones: set[tuple[str, str]] = set()

    def unused_name(self, last_name: str | None = None) -> tuple[str, str]:
        """Pick a (first, last) name combination no other person has."""
        while True:
            name = (
                self.rng.choice(FIRST_NAMES),
                last_name or self.rng.choice(LAST_NAMES),
            )
            if name not in self.names:
                self.names.add(name)
                return name

    def person(self) -> Customer:
        """Create an unrelated person."""
        first, last = self.unused_name()
        city, state, zip_prefix, area_code = self.rng.choice(CITIES)
        return Customer(
            first_name=first,
            last_name=last,
            email=make_email(first, last, self.rng, self.emails),
            phone=make_phone(area_code, self.rng, self.phones),
            street=make_street(self.rng),
            city=city,
            state=state,
            postal_code=f"{zip_prefix}{self.rng.randint(1, 99):02d}",
            birth_date=make_birth_date(self.rng),
        )

    def household_member(self, relative: Customer) -> Customer:
        """Create a different person living at the address of ``relative``."""
        first, last = self.unused_name(relative.last_name)
        area_code = relative.phone[:3]
        shares_phone = self.rng.random() < 0.5
        return dataclasses.replace(
            relative,
            first_name=first,
            email=make_email(first, last, self.rng, self.emails),
            phone=relative.phone if shares_phone else make_phone(area_code, self.rng, self.phones),
            birth_date=make_birth_date(self.rng),
        )


def generate_people(rng: random.Random) -> tuple[list[Customer], dict[int, list[int]]]:
    """Return distinct people and, per person, the household members at their address."""
    factory = PeopleFactory(rng)
    people = [factory.person() for _ in range(BASE_PEOPLE)]
    households: dict[int, list[int]] = {person: [] for person in range(len(people))}
    for relative in rng.sample(range(BASE_PEOPLE), HOUSEHOLD_MEMBERS):
        member = len(people)
        people.append(factory.household_member(people[relative]))
        households[member] = [relative]
        households[relative].append(member)
    return people, households


def generate_rows(people: list[Customer], rng: random.Random) -> list[Row]:
    """Add near-duplicates, shuffle all records and assign customer ids."""
    records = {person: [customer] for person, customer in enumerate(people)}
    duplicated = rng.sample(range(len(people)), DUPLICATED_PEOPLE)
    for index, person in enumerate(duplicated):
        copies = 2 if index < TRIPLICATED_PEOPLE else 1
        for _ in range(copies):
            records[person].append(near_duplicate(people[person], records[person], rng))
    entries = [(person, c) for person, customers in records.items() for c in customers]
    rng.shuffle(entries)
    return [
        Row(person, [f"C{number:06d}", *dataclasses.astuple(customer)])
        for number, (person, customer) in enumerate(entries, start=1)
    ]


def labeling_set(
    rows_by_person: dict[int, list[Row]],
    households: dict[int, list[int]],
    duplicated: list[int],
    singles: list[int],
    used: set[int],
    rng: random.Random,
) -> list[Row]:
    """Choose 1-3 matching groups, their household look-alikes and unrelated rows."""
    size = rng.randint(MIN_SET_ROWS, MAX_SET_ROWS)
    rows: list[Row] = []
    groups = rng.randint(1, 3)
    for person in duplicated:
        if person in used:
            continue
        if groups == 0 or len(rows) + len(rows_by_person[person]) > size - MIN_NON_MATCHING_ROWS:
            break
        rows.extend(rows_by_person[person])
        used.add(person)
        groups -= 1
        for relative in households[person]:
            if relative not in used and len(rows) < size:
                rows.append(rng.choice(rows_by_person[relative]))
                used.add(relative)
    for person in singles:
        if len(rows) == size:
            break
        if person not in used:
            rows.append(rng.choice(rows_by_person[person]))
            used.add(person)
    rng.shuffle(rows)
    return rows


def label_rows(set_id: str, rows: list[Row]) -> list[list[str]]:
    """Prefix rows with the set id and a per-person label (A, B, ...)."""
    labels: dict[int, str] = {}
    for row in rows:
        labels.setdefault(row.person, string.ascii_uppercase[len(labels)])
    return [[set_id, labels[row.person], *row.values] for row in rows]


def generate_labels(rows: list[Row], households: dict[int, list[int]], rng: random.Random) -> list[list[list[str]]]:
    """Build all labeling sets, in rounds, without reusing a person across sets."""
    rows_by_person: dict[int, list[Row]] = {}
    for row in rows:
        rows_by_person.setdefault(row.person, []).append(row)
    duplicated = [p for p, person_rows in rows_by_person.items() if len(person_rows) > 1]
    singles = list(rows_by_person)
    rng.shuffle(duplicated)
    rng.shuffle(singles)
    used: set[int] = set()
    sets_per_round = LABELING_SETS // LABELING_ROUNDS
    rounds: list[list[list[str]]] = [[] for _ in range(LABELING_ROUNDS)]
    for number in range(LABELING_SETS):
        chosen = labeling_set(rows_by_person, households, duplicated, singles, used, rng)
        round_number, set_number = divmod(number, sets_per_round)
        rounds[round_number].extend(label_rows(f"set-{set_number + 1:02d}", chosen))
    return rounds


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    """Write UTF-8 CSV with ``\\n`` line endings and print a summary line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    relative = path.relative_to(REPO_ROOT).as_posix()
    print(f"{relative}: {len(rows)} rows (plus header), {path.stat().st_size} bytes")


def main() -> None:
    rng = random.Random(SEED)
    people, households = generate_people(rng)
    rows = generate_rows(people, rng)
    rounds = generate_labels(rows, households, rng)
    write_csv(DATA_FILE, COLUMNS, [row.values for row in rows])
    for number, labels in enumerate(rounds, start=1):
        write_csv(LABELS_DIR / f"round-{number}.csv", LABEL_COLUMNS, labels)


if __name__ == "__main__":
    main()
