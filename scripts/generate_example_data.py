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

Names, streets and cities come from small built-in lists; emails use reserved
example domains and phone numbers the fictional 555-01XX range. The random
seed is fixed, so every run produces byte-identical files. Regenerate with::

    .venv/bin/python scripts/generate_example_data.py
"""

from __future__ import annotations

import csv
import dataclasses
import random
import string
import unicodedata
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path

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

NICKNAMES: dict[str, list[str]] = {
    "Robert": ["Bob", "Rob", "Bobby"],
    "William": ["Bill", "Will", "Billy"],
    "Elizabeth": ["Liz", "Beth", "Betty"],
    "Katherine": ["Kate", "Kathy", "Katie"],
    "Michael": ["Mike", "Mikey"],
    "James": ["Jim", "Jimmy"],
    "Jennifer": ["Jen", "Jenny"],
    "Richard": ["Rick", "Dick", "Rich"],
    "Margaret": ["Peggy", "Maggie", "Meg"],
    "Thomas": ["Tom", "Tommy"],
    "Christopher": ["Chris"],
    "Patricia": ["Pat", "Patty", "Trish"],
    "Joseph": ["Joe", "Joey"],
    "Daniel": ["Dan", "Danny"],
    "Susan": ["Sue", "Suzy"],
    "Anthony": ["Tony"],
    "Deborah": ["Deb", "Debbie"],
    "Steven": ["Steve"],
    "Matthew": ["Matt"],
    "Nicholas": ["Nick"],
    "Samantha": ["Sam", "Sammy"],
    "Alexander": ["Alex", "Xander"],
    "Jessica": ["Jess", "Jessie"],
    "Andrew": ["Andy", "Drew"],
    "Edward": ["Ed", "Eddie", "Ted"],
    "Timothy": ["Tim"],
    "Rebecca": ["Becky", "Becca"],
    "Victoria": ["Vicky", "Tori"],
    "Kenneth": ["Ken", "Kenny"],
    "Gregory": ["Greg"],
    "Benjamin": ["Ben", "Benny"],
    "Jonathan": ["Jon", "Johnny"],
    "Catherine": ["Cathy", "Cat"],
    "Barbara": ["Barb", "Babs"],
    "Dorothy": ["Dot", "Dottie"],
}
OTHER_FIRST_NAMES = [
    "Olivia",
    "Emma",
    "Ava",
    "Sophia",
    "Mia",
    "Harper",
    "Evelyn",
    "Abigail",
    "Ella",
    "Grace",
    "Lucas",
    "Mason",
    "Ethan",
    "Logan",
    "Owen",
    "Caleb",
    "Nathan",
    "Isaac",
    "Wyatt",
    "Hunter",
    "Aaron",
    "Brian",
    "Karen",
    "Linda",
    "Nancy",
    "Sandra",
    "Carol",
    "Diane",
    "Gloria",
    "Teresa",
    "José",
    "Zoë",
    "Renée",
    "André",
    "Chloé",
    "Inés",
    "Noël",
    "Priya",
    "Arjun",
    "Mei",
    "Hiroshi",
    "Fatima",
    "Omar",
    "Kwame",
    "Ingrid",
    "Soren",
    "Dmitri",
    "Yara",
]
FIRST_NAMES = [*NICKNAMES, *OTHER_FIRST_NAMES]
LAST_NAMES = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Miller",
    "Davis",
    "Wilson",
    "Anderson",
    "Taylor",
    "Thomas",
    "Moore",
    "Martin",
    "Jackson",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Hill",
    "Green",
    "Adams",
    "Baker",
    "Nelson",
    "Carter",
    "Mitchell",
    "Roberts",
    "Turner",
    "Phillips",
    "Campbell",
    "Parker",
    "Evans",
    "Edwards",
    "Collins",
    "Stewart",
    "Morris",
    "Murphy",
    "Cook",
    "Rogers",
    "Morgan",
    "Peterson",
    "Cooper",
    "Reed",
    "Bailey",
    "Kelly",
    "Howard",
    "Ward",
    "Cox",
    "Richardson",
    "Wood",
    "Watson",
    "Brooks",
    "Bennett",
    "Gray",
    "Hughes",
    "Price",
    "Sanders",
    "Myers",
    "Long",
    "Ross",
    "Foster",
    "O'Brien",
    "McDonald",
    "Muñoz",
    "Peña",
    "Núñez",
    "Schröder",
    "Nguyen",
    "Patel",
    "Kim",
    "Okafor",
    "Lindqvist",
    "Kowalski",
    "Fitzgerald",
    "Hernandez",
    "Gallagher",
    "Smith-Jones",
    "Van Dyke",
]
STREET_NAMES = [
    "Oak",
    "Maple",
    "Cedar",
    "Pine",
    "Elm",
    "Washington",
    "Lake",
    "Hill",
    "Park",
    "Main",
    "Sunset",
    "Ridge",
    "River",
    "Meadow",
    "Church",
    "Mill",
    "Spring",
    "Highland",
    "Forest",
    "Willow",
    "Chestnut",
    "Birch",
    "Lincoln",
    "Franklin",
    "Jefferson",
    "Walnut",
    "Sycamore",
    "Hickory",
    "Magnolia",
    "Dogwood",
    "Orchard",
    "Valley",
    "Prospect",
    "Railroad",
    "Cherry",
]
# (long form, abbreviation) pairs for the last word of a street address.
STREET_SUFFIXES = [
    ("Street", "St."),
    ("Avenue", "Ave."),
    ("Road", "Rd."),
    ("Drive", "Dr."),
    ("Lane", "Ln."),
    ("Boulevard", "Blvd."),
    ("Court", "Ct."),
    ("Place", "Pl."),
    ("Terrace", "Ter."),
    ("Parkway", "Pkwy."),
]
UNIT_PREFIXES = ["Apt ", "Apt. ", "Unit ", "#", "Suite "]
# (city, state, ZIP prefix, area code)
CITIES = [
    ("Springfield", "IL", "627", "217"),
    ("Columbus", "OH", "432", "614"),
    ("Portland", "OR", "972", "503"),
    ("Austin", "TX", "787", "512"),
    ("Madison", "WI", "537", "608"),
    ("Boise", "ID", "837", "208"),
    ("Raleigh", "NC", "276", "919"),
    ("Tucson", "AZ", "857", "520"),
    ("Albany", "NY", "122", "518"),
    ("Richmond", "VA", "232", "804"),
    ("Omaha", "NE", "681", "402"),
    ("Denver", "CO", "802", "303"),
    ("Savannah", "GA", "314", "912"),
    ("Spokane", "WA", "992", "509"),
    ("Lexington", "KY", "405", "859"),
    ("Burlington", "VT", "054", "802"),
    ("Fresno", "CA", "937", "559"),
    ("Tulsa", "OK", "741", "918"),
    ("Des Moines", "IA", "503", "515"),
    ("Knoxville", "TN", "379", "865"),
]
EMAIL_DOMAINS = [
    "example.com",
    "example.net",
    "example.org",
    "mail.example.com",
    "inbox.example.net",
]
PHONE_FORMATS = [
    "{a}-{e}-{l}",
    "({a}) {e}-{l}",
    "{a}.{e}.{l}",
    "{a}{e}{l}",
    "+1 {a} {e} {l}",
    "1-{a}-{e}-{l}",
]
OLDEST_BIRTH_DATE = date(1940, 1, 1)
YOUNGEST_BIRTH_DATE = date(2005, 12, 31)


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


@dataclasses.dataclass(frozen=True)
class Row:
    """A dataset row together with the (unpublished) person it belongs to."""

    person: int
    values: list[str]


Perturbation = Callable[[Customer, random.Random], Customer]


# --- base people -----------------------------------------------------------


def ascii_fold(text: str) -> str:
    """Remove diacritics, e.g. ``Núñez`` -> ``Nunez``."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


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


# --- near-duplicate perturbations --------------------------------------------
# Each perturbation returns a modified copy of the customer, or the customer
# unchanged when it does not apply (e.g. no nickname known, value missing).


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
