"""The synthetic demo community, deterministic from a seed.

The figures follow the case study (G街道 A社区 in Jing'an, Shanghai): one street with its
blocks; A社区 with seven 楼群微网格, 118 buildings, 2,716 households and 6,352 residents, about
40% aged 60 or over, a real share of migrants, party members of each kind and the usual
vulnerability tags; plus the smaller B社区 in the same street so that scope is visible.
`residents=N` adds communities of A's shape (the last one scaled down) until the database
holds exactly N demo residents, for benchmarks.

Idempotent: every row has a natural key (grid code, username, building group + building
name, building + room, ID-number hash) and generation is a pure function of the seed, so a
second run finds everything in place and writes nothing. Ages are as of REFERENCE_YEAR,
not today, so that a run next year still writes the same rows.

Nothing but the `linli demo` command calls this module (DESIGN.md section 5: no fake data
paths).
"""

from __future__ import annotations

import hashlib
import math
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.hashers import check_password, is_password_usable, make_password
from django.db import transaction
from faker import Faker

from linli import clock
from linli.accounts.models import User
from linli.accounts.privacy import id_number_fields, id_number_hash
from linli.accounts.roles import Role
from linli.demo.cases import demo_cases
from linli.demo.emergency import demo_emergency
from linli.demo.participation import demo_participation
from linli.demo.resilience import demo_resilience
from linli.demo.resources import demo_resources
from linli.grids.models import (
    Building,
    GridLevel,
    GridUnit,
    Household,
    Mood,
    PartyMembership,
    Post,
    ResidencyType,
    Resident,
    RoleAssignment,
    Sex,
    Visit,
    VisitMethod,
    VulnerabilityTag,
)
from linli.grids.services import grid_unit_create, resident_account_link, role_assign

DEFAULT_SEED = 20240601
# Ages are computed against this year, so the generated birth years never drift.
REFERENCE_YEAR = 2026
# 静安区, Shanghai: the first six digits of every grid code (administrative division code).
DISTRICT_CODE = "310106"
BATCH_SIZE = 2000
# The street of the case study and its corner of Jing'an (lower-left corner of A社区).
ORIGIN_LAT = 31.2615
ORIGIN_LNG = 121.4510
# A社区 covers about 119,000 m²: roughly 345 m × 345 m.
COMMUNITY_DLAT = 0.0031
COMMUNITY_DLNG = 0.00363
COMMUNITIES_PER_BLOCK = 4
BLOCKS_PER_STREET = 3
CHINESE_ORDINALS = "一二三四五六七八九十"


@dataclass(frozen=True)
class CommunityShape:
    micro_grids: int
    buildings: int
    households: int
    residents: int

    def scaled(self, residents: int) -> CommunityShape:
        """The same proportions for a smaller resident count (the last benchmark community)."""
        ratio = residents / self.residents
        households = max(1, min(residents, round(self.households * ratio)))
        # Households hold at most five people in this generator.
        households = max(households, math.ceil(residents / 5))
        buildings = max(1, min(households, round(self.buildings * ratio)))
        micro_grids = max(1, min(buildings, round(self.micro_grids * ratio)))
        return CommunityShape(micro_grids, buildings, households, residents)


# The case study: 118 buildings, 2,716 households, "6,300 and more" residents.
CASE_STUDY_SHAPE = CommunityShape(micro_grids=7, buildings=118, households=2716, residents=6352)
SMALL_SHAPE = CommunityShape(micro_grids=3, buildings=20, households=460, residents=1076)
DEFAULT_RESIDENTS = CASE_STUDY_SHAPE.residents + SMALL_SHAPE.residents


@dataclass(frozen=True)
class CommunitySlot:
    """Where a community sits: street, block and position, plus its name and shape."""

    street: int  # 0 is G街道
    block: int  # 1-based within the street
    position: int  # 1-based within the block
    name: str
    shape: CommunityShape
    road: str

    @property
    def street_code(self) -> str:
        return f"{DISTRICT_CODE}{12 + self.street:03d}"

    @property
    def block_code(self) -> str:
        return f"{self.street_code}{self.block:02d}"

    @property
    def code(self) -> str:
        return f"{self.block_code}{self.position:03d}"

    @property
    def street_name(self) -> str:
        return "G街道" if self.street == 0 else f"G{self.street}街道"

    @property
    def block_name(self) -> str:
        return f"第{_ordinal(self.block)}街区"

    @property
    def corner(self) -> tuple[float, float]:
        lat = ORIGIN_LAT + 0.0130 * self.street + 0.0040 * (self.block - 1)
        lng = ORIGIN_LNG + 0.0045 * (self.position - 1)
        if self.street == 0 and self.block == 2:
            lng += 0.0050  # B社区 sits east of A社区 across the block line
        return lat, lng


def community_slots(residents: int | None = None) -> list[CommunitySlot]:
    """A社区 and B社区, then (for `residents` above the default) A-shaped communities."""
    slots = [
        CommunitySlot(0, 1, 1, "A社区", CASE_STUDY_SHAPE, "和美路188弄"),
        CommunitySlot(0, 2, 1, "B社区", SMALL_SHAPE, "安宁路66弄"),
    ]
    remaining = (residents or 0) - DEFAULT_RESIDENTS
    extra = 0
    while remaining > 0:
        shape = CASE_STUDY_SHAPE
        if remaining < shape.residents:
            shape = shape.scaled(remaining)
        per_street = COMMUNITIES_PER_BLOCK * BLOCKS_PER_STREET
        street, within = divmod(extra, per_street)
        block, position = divmod(within, COMMUNITIES_PER_BLOCK)
        if street + 1 + 12 > 999:
            raise ValueError("More residents than three-digit street codes can hold.")
        slots.append(
            CommunitySlot(
                street + 1,
                block + 1,
                position + 1,
                f"C{extra + 1}社区",
                shape,
                f"扩展路{extra + 1}弄",
            )
        )
        remaining -= shape.residents
        extra += 1
    return slots


def _ordinal(number: int) -> str:
    if number <= 10:
        return CHINESE_ORDINALS[number - 1]
    if number < 20:
        return "十" + CHINESE_ORDINALS[number - 11]
    return str(number)


# --- People -------------------------------------------------------------------------------

# Hukou area codes: Shanghai districts for registered residents, other provinces for the rest.
SHANGHAI_AREAS = ("310108", "310108", "310106", "310104", "310101", "310110", "310109")
OTHER_AREAS = (
    "341221",  # Anhui
    "340822",
    "320382",  # Jiangsu
    "321323",
    "411323",  # Henan
    "412726",
    "510722",  # Sichuan
    "362426",  # Jiangxi
    "421081",  # Hubei
    "330621",  # Zhejiang
    "522121",  # Guizhou
    "130627",  # Hebei
)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


@dataclass
class Person:
    age: int
    sex: str
    kin: bool = True  # takes the household's family name
    spouse: bool = False  # could be pregnant (women 22-40)
    tags: set[str] = field(default_factory=set)


@dataclass
class PersonRow:
    name: str
    sex: str
    birth_year: int
    phone: str
    id_number: str
    residency_type: str
    party_membership: str
    tags: list[str]


@dataclass
class HouseholdPlan:
    room: str
    people: list[PersonRow]


@dataclass
class BuildingPlan:
    number: int
    group_code: str
    address: str
    floors: int
    latitude: Decimal
    longitude: Decimal
    households: list[HouseholdPlan]

    @property
    def name(self) -> str:
        return f"{self.number}号楼"

    @property
    def group_name(self) -> str:
        return f"{self.number}号楼组"


@dataclass
class MicroGridPlan:
    index: int
    code: str
    boundary: dict
    buildings: list[BuildingPlan]

    @property
    def name(self) -> str:
        return f"第{_ordinal(self.index)}微网格"


@dataclass
class CommunityPlan:
    slot: CommunitySlot
    boundary: dict
    micro_grids: list[MicroGridPlan]
    staff_names: list[str]

    @property
    def resident_count(self) -> int:
        return sum(
            len(household.people)
            for micro_grid in self.micro_grids
            for building in micro_grid.buildings
            for household in building.households
        )


def _elder_age(rng: random.Random) -> int:
    decade = rng.choices((60, 70, 80, 90), weights=(44, 33, 19, 4))[0]
    return decade + rng.randrange(9 if decade == 90 else 10)


def _spouse_age(rng: random.Random, age: int, low: int, high: int) -> int:
    return max(low, min(high, age + rng.randint(-4, 4)))


def _couple(rng: random.Random, age: int, low: int, high: int, kin_male: bool) -> list[Person]:
    return [
        Person(age, Sex.MALE, kin=kin_male, spouse=True),
        Person(_spouse_age(rng, age, low, high), Sex.FEMALE, kin=not kin_male, spouse=True),
    ]


def _sex(rng: random.Random, female_share: float = 0.5) -> str:
    return Sex.FEMALE if rng.random() < female_share else Sex.MALE


def _compose(rng: random.Random, size: int) -> tuple[list[Person], bool]:
    """Who lives in a household of `size` people, and whether it is a migrant household.

    The mix is that of an old Shanghai estate: many elderly living alone or as couples,
    three generations under one roof, and migrant tenants sharing flats.
    """
    migrant = False
    people: list[Person]
    if size == 1:
        kind = rng.choices(("elder", "adult", "migrant"), weights=(61, 25, 14))[0]
        if kind == "elder":
            people = [Person(_elder_age(rng), _sex(rng, 0.68), tags={"elderly_alone"})]
        else:
            migrant = kind == "migrant"
            age = rng.randint(20, 45) if migrant else rng.randint(22, 59)
            people = [Person(age, _sex(rng, 0.45))]
    elif size == 2:
        kind = rng.choices(
            ("elder_couple", "elder_and_child", "couple", "single_parent", "migrants"),
            weights=(50, 14, 16, 5, 15),
        )[0]
        if kind == "elder_couple":
            people = _couple(rng, _elder_age(rng), 60, 99, True)
            for person in people:
                person.tags.add("empty_nest")
        elif kind == "elder_and_child":
            child = rng.randint(28, 55)
            elder = max(60, child + rng.randint(24, 34))
            people = [Person(min(elder, 99), _sex(rng, 0.65)), Person(child, _sex(rng))]
        elif kind == "couple":
            people = _couple(rng, rng.randint(24, 59), 22, 59, True)
        elif kind == "single_parent":
            child = rng.randint(0, 17)
            people = [Person(child + rng.randint(24, 38), _sex(rng, 0.7)), Person(child, _sex(rng))]
        else:
            migrant = True
            people = [
                Person(rng.randint(20, 45), _sex(rng), kin=False),
                Person(rng.randint(20, 45), _sex(rng), kin=False),
            ]
    elif size == 3:
        kind = rng.choices(
            ("nuclear", "elders_and_child", "left_behind", "migrant_family", "couple_and_elder"),
            weights=(37, 21, 8, 20, 14),
        )[0]
        if kind == "nuclear":
            child = rng.randint(0, 17)
            people = [*_couple(rng, child + rng.randint(24, 38), 22, 59, True)]
            people.append(Person(child, _sex(rng)))
        elif kind == "elders_and_child":
            child = rng.randint(28, 50)
            people = [*_couple(rng, min(95, max(60, child + rng.randint(24, 34))), 60, 99, True)]
            people.append(Person(child, _sex(rng)))
        elif kind == "left_behind":
            child = rng.randint(3, 15)
            people = [*_couple(rng, max(60, child + rng.randint(50, 62)), 60, 85, True)]
            people.append(Person(child, _sex(rng), tags={"left_behind_child"}))
        elif kind == "migrant_family":
            migrant = True
            child = rng.randint(0, 12)
            people = [*_couple(rng, child + rng.randint(22, 32), 20, 50, True)]
            people.append(Person(child, _sex(rng)))
        else:
            adult = rng.randint(33, 58)
            people = [*_couple(rng, adult, 30, 59, True)]
            people.append(Person(max(60, min(99, adult + rng.randint(24, 34))), _sex(rng, 0.7)))
    elif size == 4:
        kind = rng.choices(
            ("three_generations", "two_children", "two_elders_couple", "migrant_family"),
            weights=(50, 18, 24, 8),
        )[0]
        if kind == "three_generations":
            child = rng.randint(0, 17)
            parent = child + rng.randint(24, 36)
            people = [*_couple(rng, parent, 22, 59, True), Person(child, _sex(rng))]
            people.append(Person(max(60, min(95, parent + rng.randint(24, 34))), _sex(rng, 0.7)))
        elif kind == "two_children":
            child = rng.randint(0, 14)
            people = [*_couple(rng, child + rng.randint(26, 38), 22, 59, True)]
            people += [Person(child, _sex(rng)), Person(child + rng.randint(1, 4), _sex(rng))]
        elif kind == "two_elders_couple":
            adult = rng.randint(30, 50)
            people = [*_couple(rng, max(60, adult + rng.randint(24, 32)), 60, 95, True)]
            people += _couple(rng, adult, 28, 59, True)
            people[3].kin = False
        else:
            migrant = True
            child = rng.randint(0, 10)
            people = [*_couple(rng, child + rng.randint(24, 32), 20, 50, True)]
            people += [Person(child, _sex(rng)), Person(child + rng.randint(1, 5), _sex(rng))]
    else:
        kind = rng.choices(("three_generations", "three_generations_two_children"), (75, 25))[0]
        child = rng.randint(0, 16)
        parent = child + rng.randint(24, 36)
        people = [*_couple(rng, max(60, min(95, parent + rng.randint(24, 32))), 60, 99, True)]
        people += _couple(rng, parent, 22, 59, True)
        people[3].kin = False
        people.append(Person(child, _sex(rng)))
        if kind == "three_generations_two_children":
            people.pop(1)  # one grandparent
            people.append(Person(min(17, child + rng.randint(1, 4)), _sex(rng)))
    return people, migrant


def _household_sizes(rng: random.Random, households: int, residents: int) -> list[int]:
    """Sizes 1..5 summing exactly to `residents`, in a realistic mix, shuffled."""
    shares = (0.28, 0.34, 0.21, 0.12, 0.05)
    counts = _apportion(households, shares)
    total = sum((size + 1) * count for size, count in enumerate(counts))
    # Nudge single households up (or large ones down) until the total is exact.
    while total < residents:
        size = next(s for s in range(4) if counts[s] > 0)
        counts[size] -= 1
        counts[size + 1] += 1
        total += 1
    while total > residents:
        size = next(s for s in range(4, 0, -1) if counts[s] > 0)
        counts[size] -= 1
        counts[size - 1] += 1
        total -= 1
    sizes = [size + 1 for size, count in enumerate(counts) for _ in range(count)]
    rng.shuffle(sizes)
    return sizes


def _apportion(total: int, weights) -> list[int]:
    """Split `total` by `weights` into integers that add up exactly (largest remainder)."""
    weight_sum = sum(weights)
    raw = [total * weight / weight_sum for weight in weights]
    counts = [int(value) for value in raw]
    order = sorted(range(len(raw)), key=lambda i: (counts[i] - raw[i], i))
    for index in order[: total - sum(counts)]:
        counts[index] += 1
    return counts


class _IdNumbers:
    """GB 11643 ID numbers, unique across the whole run, matching birth date and sex."""

    def __init__(self) -> None:
        self._used: set[int] = set()

    def make(self, rng: random.Random, area: str, birth_year: int, sex: str) -> str:
        first = date(birth_year, 1, 1)
        days = (date(birth_year + 1, 1, 1) - first).days
        while True:
            born = first + timedelta(days=rng.randrange(days))
            sequence = rng.randrange(1000)
            # The 17th digit is odd for men, even for women.
            if (sequence % 2 == 1) != (sex == Sex.MALE):
                sequence ^= 1
            body = f"{area}{born:%Y%m%d}{sequence:03d}"
            key = int(body)
            if key in self._used:
                continue
            self._used.add(key)
            total = sum(
                int(digit) * weight for digit, weight in zip(body, _ID_WEIGHTS, strict=True)
            )
            return body + _ID_CHECK[total % 11]


def _people_rows(rng: random.Random, fake: Faker, ids: _IdNumbers, size: int) -> list[PersonRow]:
    people, migrant = _compose(rng, size)
    if migrant:
        residency = ResidencyType.MIGRANT
    else:
        residency = rng.choices(
            (ResidencyType.REGISTERED, ResidencyType.PERMANENT), weights=(88, 12)
        )[0]
    low_income = not migrant and rng.random() < (0.05 if size == 1 else 0.02)
    surname = fake.last_name()
    rows = []
    for person in people:
        age = person.age
        tags = set(person.tags)
        elder, child = age >= 60, age < 18
        if rng.random() < (0.05 if elder else 0.006 if child else 0.015):
            tags.add(VulnerabilityTag.DISABLED)
        if rng.random() < (0.05 if elder else 0.003 if child else 0.012):
            tags.add(VulnerabilityTag.SERIOUS_ILLNESS)
        if low_income:
            tags.add(VulnerabilityTag.LOW_INCOME)
        if person.spouse and person.sex == Sex.FEMALE and 22 <= age <= 40 and rng.random() < 0.05:
            tags.add(VulnerabilityTag.PREGNANT)
        party = PartyMembership.NONE
        if elder:
            party = PartyMembership.RETIRED if rng.random() < 0.14 else party
        elif age >= 18 and migrant:
            party = PartyMembership.FLOATING if rng.random() < 0.06 else party
        elif age >= 18:
            party = PartyMembership.IN_SERVICE if rng.random() < 0.08 else party
        first = fake.first_name_male() if person.sex == Sex.MALE else fake.first_name_female()
        family = surname if person.kin else fake.last_name()
        has_phone = age >= 12 and (age < 85 or rng.random() < 0.6)
        phone = fake.phone_number() if has_phone else ""
        if migrant:
            area = rng.choice(OTHER_AREAS)
        elif residency == ResidencyType.PERMANENT:
            area = rng.choice(OTHER_AREAS + SHANGHAI_AREAS[:1])
        else:
            area = rng.choice(SHANGHAI_AREAS)
        birth_year = REFERENCE_YEAR - age
        rows.append(
            PersonRow(
                name=family + first,
                sex=person.sex,
                birth_year=birth_year,
                phone=phone,
                id_number=ids.make(rng, area, birth_year, person.sex),
                residency_type=residency,
                party_membership=party,
                tags=sorted(tags),
            )
        )
    return rows


def _rooms(count: int, floors: int) -> list[str]:
    per_floor = math.ceil(count / floors)
    return [f"{index // per_floor + 1}{index % per_floor + 1:02d}" for index in range(count)]


def _rectangle(lat: float, lng: float, dlat: float, dlng: float) -> dict:
    corners = [(lng, lat), (lng + dlng, lat), (lng + dlng, lat + dlat), (lng, lat + dlat)]
    ring = [[round(x, 6), round(y, 6)] for x, y in [*corners, corners[0]]]
    return {"type": "Polygon", "coordinates": [ring]}


def _rng_for(seed: int, key: str) -> tuple[random.Random, int]:
    digest = hashlib.sha256(f"linli-demo:{seed}:{key}".encode()).digest()
    number = int.from_bytes(digest[:8], "big")
    return random.Random(number), number


def plan_community(slot: CommunitySlot, *, seed: int, fake: Faker, ids: _IdNumbers):
    """Everything about one community, in memory, as a pure function of the seed."""
    rng, faker_seed = _rng_for(seed, slot.code)
    fake.seed_instance(faker_seed)
    shape = slot.shape
    scale = math.sqrt(shape.buildings / CASE_STUDY_SHAPE.buildings)
    dlat, dlng = COMMUNITY_DLAT * scale, COMMUNITY_DLNG * scale
    lat0, lng0 = slot.corner
    sizes = _household_sizes(rng, shape.households, shape.residents)
    per_building = _apportion(
        shape.households, [rng.uniform(0.6, 1.4) for _ in range(shape.buildings)]
    )
    # A building with no household is not a building of this estate.
    for index, count in enumerate(per_building):
        if count == 0:
            donor = max(range(len(per_building)), key=lambda i: per_building[i])
            per_building[donor] -= 1
            per_building[index] = 1
    buildings_per_grid = _apportion(shape.buildings, [1] * shape.micro_grids)
    micro_grids = []
    number = 0
    size_iter = iter(sizes)
    strip = dlng / shape.micro_grids
    for grid_index, building_count in enumerate(buildings_per_grid, start=1):
        code = f"{slot.code}{grid_index:02d}"
        left = lng0 + strip * (grid_index - 1)
        rows_in_strip = math.ceil(building_count / 2)
        buildings = []
        for within in range(building_count):
            households_here = per_building[number]
            number += 1
            floors = rng.choice((5, 6, 6, 6, 7))
            row, column = divmod(within, 2)
            latitude = lat0 + dlat * (row + 0.5) / max(rows_in_strip, 1)
            longitude = left + strip * (0.3 + 0.4 * column)
            households = [
                HouseholdPlan(room, _people_rows(rng, fake, ids, next(size_iter)))
                for room in _rooms(households_here, floors)
            ]
            buildings.append(
                BuildingPlan(
                    number=number,
                    group_code=f"{code}{within + 1:03d}",
                    address=f"{slot.road}{number}号",
                    floors=floors,
                    latitude=Decimal(f"{latitude:.6f}"),
                    longitude=Decimal(f"{longitude:.6f}"),
                    households=households,
                )
            )
        micro_grids.append(
            MicroGridPlan(
                index=grid_index,
                code=code,
                boundary=_rectangle(lat0, left, dlat, strip),
                buildings=buildings,
            )
        )
    # Names for the community's posts: secretary, then per micro-grid a branch secretary and
    # a social-worker lead, then one 楼组长 per building group.
    staff_names = [fake.name() for _ in range(1 + 2 * shape.micro_grids + shape.buildings)]
    return CommunityPlan(
        slot=slot,
        boundary=_rectangle(lat0, lng0, dlat, dlng),
        micro_grids=micro_grids,
        staff_names=staff_names,
    )


# --- Writing ------------------------------------------------------------------------------


@dataclass
class DemoLogin:
    username: str
    role: str
    post: str
    scope: str
    display_name: str


@dataclass
class DemoResult:
    """What the demo streets hold after the run (`totals`) and what this run added."""

    seed: int
    communities: int = 0
    totals: dict[str, int] = field(default_factory=dict)
    added: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    logins: list[DemoLogin] = field(default_factory=list)
    password: str = ""
    visits_added: int = 0
    cases_added: int = 0
    volunteers_added: int = 0


def _counts(street_codes: list[str]) -> dict[str, int]:
    paths = [GridUnit.path_for(None, code) for code in street_codes]
    return {
        "grid_units": GridUnit.objects.within(paths).count(),
        "buildings": Building.objects.within(paths).count(),
        "households": Household.objects.within(paths).count(),
        "residents": Resident.objects.within(paths).count(),
        "role_assignments": RoleAssignment.objects.within(paths).count(),
    }


class _Writer:
    """Get-or-create on natural keys; bulk inserts that skip rows already present."""

    def __init__(self, password: str) -> None:
        self.password = password
        self._password_hash: str | None = None
        self.units: dict[str, GridUnit] = {
            unit.code: unit for unit in GridUnit.objects.filter(level__in=["street", "block"])
        }

    def password_hash(self) -> str:
        # One PBKDF2 run for all demo logins, not one per user: seconds, not minutes.
        if self._password_hash is None:
            self._password_hash = make_password(self.password)
        return self._password_hash

    def unit(
        self,
        *,
        level: str,
        code: str,
        name: str,
        parent: GridUnit | None,
        boundary: dict | None,
        sort_order: int,
    ) -> GridUnit:
        unit = self.units.get(code)
        if unit is None:
            unit = GridUnit.objects.filter(code=code).first() or grid_unit_create(
                level=level,
                code=code,
                name=name,
                parent=parent,
                boundary=boundary,
                sort_order=sort_order,
            )
            self.units[code] = unit
        return unit

    def users(self, wanted: list[tuple[str, str]]) -> dict[str, User]:
        """Users by username, created with the display name when missing."""
        existing = {
            user.username: user
            for user in User.objects.filter(username__in=[username for username, _ in wanted])
        }
        for username, display_name in wanted:
            if username not in existing:
                # No password: these posts exist for the structure; staff set real ones.
                existing[username] = User.objects.create_user(
                    username=username, display_name=display_name
                )
        return existing

    def roles(self, wanted: list[tuple[User, str, GridUnit, str]], path: str) -> None:
        existing = set(
            RoleAssignment.objects.filter(grid_path__startswith=path).values_list(
                "user_id", "role", "grid_unit_id"
            )
        )
        for user, role, unit, post in wanted:
            if (user.pk, role, unit.pk) not in existing:
                role_assign(user=user, role=role, grid_unit=unit, post=post)


def _write_community(writer: _Writer, plan: CommunityPlan) -> None:
    slot = plan.slot
    street = writer.unit(
        level=GridLevel.STREET,
        code=slot.street_code,
        name=slot.street_name,
        parent=None,
        boundary=_street_boundary(slot.street),
        sort_order=slot.street,
    )
    block = writer.unit(
        level=GridLevel.BLOCK,
        code=slot.block_code,
        name=slot.block_name,
        parent=street,
        boundary=None,
        sort_order=slot.block,
    )
    community = writer.unit(
        level=GridLevel.COMMUNITY,
        code=slot.code,
        name=slot.name,
        parent=block,
        boundary=plan.boundary,
        sort_order=slot.position,
    )
    existing = {unit.code: unit for unit in GridUnit.objects.within([community.path])}
    writer.units.update(existing)
    groups: dict[str, GridUnit] = {}
    grids: dict[int, GridUnit] = {}
    for micro_plan in plan.micro_grids:
        micro_grid = writer.unit(
            level=GridLevel.MICRO_GRID,
            code=micro_plan.code,
            name=micro_plan.name,
            parent=community,
            boundary=micro_plan.boundary,
            sort_order=micro_plan.index,
        )
        grids[micro_plan.index] = micro_grid
        for order, building_plan in enumerate(micro_plan.buildings, start=1):
            groups[building_plan.group_code] = writer.unit(
                level=GridLevel.BUILDING_GROUP,
                code=building_plan.group_code,
                name=building_plan.group_name,
                parent=micro_grid,
                boundary=None,
                sort_order=order,
            )

    # Buildings, then households, then residents: each level inserted in bulk (rows that
    # exist are skipped by their unique constraint) and read back for the next level's keys.
    buildings = [
        Building(
            grid_unit=groups[b.group_code],
            grid_path=groups[b.group_code].path,
            name=b.name,
            address=b.address,
            floors=b.floors,
            latitude=b.latitude,
            longitude=b.longitude,
        )
        for m in plan.micro_grids
        for b in m.buildings
    ]
    Building.objects.bulk_create(buildings, batch_size=BATCH_SIZE, ignore_conflicts=True)
    building_ids = {
        (grid_unit_id, name): (pk, grid_path)
        for pk, grid_unit_id, name, grid_path in Building.objects.within(
            [community.path]
        ).values_list("pk", "grid_unit_id", "name", "grid_path")
    }
    households = []
    for m in plan.micro_grids:
        for b in m.buildings:
            building_id, grid_path = building_ids[(groups[b.group_code].pk, b.name)]
            households += [
                Household(building_id=building_id, grid_path=grid_path, room=h.room)
                for h in b.households
            ]
    Household.objects.bulk_create(households, batch_size=BATCH_SIZE, ignore_conflicts=True)
    household_ids = {
        (building_id, room): (pk, grid_path)
        for pk, building_id, room, grid_path in Household.objects.within(
            [community.path]
        ).values_list("pk", "building_id", "room", "grid_path")
    }
    residents = []
    for m in plan.micro_grids:
        for b in m.buildings:
            building_id, _ = building_ids[(groups[b.group_code].pk, b.name)]
            for h in b.households:
                household_id, grid_path = household_ids[(building_id, h.room)]
                residents += [
                    Resident(
                        household_id=household_id,
                        grid_path=grid_path,
                        name=p.name,
                        sex=p.sex,
                        birth_year=p.birth_year,
                        phone=p.phone,
                        **id_number_fields(p.id_number),
                        residency_type=p.residency_type,
                        party_membership=p.party_membership,
                        vulnerability_tags=Resident.encode_tags(p.tags),
                    )
                    for p in h.people
                ]
    Resident.objects.bulk_create(residents, batch_size=BATCH_SIZE, ignore_conflicts=True)

    # Posts: the party secretary, per micro-grid a branch secretary (党支部书记) and a
    # social-worker block lead (社工块长), per building group a 楼组长.
    is_case_study = slot.street == 0 and slot.name == "A社区"
    names = iter(plan.staff_names)
    wanted_users: list[tuple[str, str]] = []
    wanted_roles: list[tuple[str, str, GridUnit, str]] = []
    username = "secretary" if is_case_study else f"sec-{community.code}"
    wanted_users.append((username, next(names)))
    wanted_roles.append((username, Role.SECRETARY, community, Post.PARTY_SECRETARY))
    for m in plan.micro_grids:
        micro_grid = grids[m.index]
        branch = f"grid{m.index}" if is_case_study else f"bs-{micro_grid.code}"
        social = f"sw-{micro_grid.code}"
        wanted_users += [(branch, next(names)), (social, next(names))]
        wanted_roles.append((branch, Role.MICRO_GRID_LEAD, micro_grid, Post.BRANCH_SECRETARY))
        wanted_roles.append((social, Role.MICRO_GRID_LEAD, micro_grid, Post.SOCIAL_WORKER_LEAD))
    for m in plan.micro_grids:
        for order, b in enumerate(m.buildings):
            group = groups[b.group_code]
            leader = "leader" if is_case_study and m.index == 1 and order == 0 else None
            leader = leader or f"bg-{group.code}"
            wanted_users.append((leader, next(names)))
            wanted_roles.append(
                (leader, Role.BUILDING_GROUP_LEADER, group, Post.BUILDING_GROUP_HEAD)
            )
    users = writer.users(wanted_users)
    writer.roles(
        [(users[name], role, unit, post) for name, role, unit, post in wanted_roles],
        community.path,
    )


def _street_boundary(street: int) -> dict:
    """The rectangle of all community slots a street can hold (independent of N)."""
    lat = ORIGIN_LAT + 0.0130 * street - 0.0005
    lng = ORIGIN_LNG - 0.0005
    if street == 0:
        return _rectangle(lat, lng, COMMUNITY_DLAT + 0.0010, 0.0050 + 0.0045 + 0.0010)
    return _rectangle(
        lat,
        lng,
        0.0040 * (BLOCKS_PER_STREET - 1) + COMMUNITY_DLAT + 0.0010,
        0.0045 * (COMMUNITIES_PER_BLOCK - 1) + COMMUNITY_DLNG + 0.0010,
    )


def _demo_logins(writer: _Writer, case_study: CommunityPlan, seed: int) -> list[DemoLogin]:
    """The logins of the README: one per role, with the demo password."""
    slot = case_study.slot
    street = GridUnit.objects.get(code=slot.street_code)
    community = GridUnit.objects.get(code=slot.code)
    first_grid = case_study.micro_grids[0]
    first_building = first_grid.buildings[0]
    first_group = GridUnit.objects.get(code=first_building.group_code)

    # The resident login is the first adult of the first household in micro-grid 1.
    person = next(
        p
        for h in first_building.households
        for p in h.people
        if REFERENCE_YEAR - p.birth_year >= 18
    )
    resident = Resident.objects.get(id_number_hash=id_number_hash(person.id_number))

    # Fixed names for the three logins that are not generated posts.
    _, faker_seed = _rng_for(seed, "logins")
    fake = Faker("zh_CN")
    fake.seed_instance(faker_seed)
    extra = [
        ("street", fake.name(), Role.STREET_ADMIN, Post.STREET_ADMIN, street),
        ("volunteer", fake.name(), Role.VOLUNTEER, Post.VOLUNTEER, community),
        ("partner", fake.name(), Role.PARTNER_LIAISON, Post.PARTNER_LIAISON, community),
        ("resident", resident.name, Role.RESIDENT, Post.RESIDENT, first_group),
    ]
    users = writer.users([(username, name) for username, name, *_ in extra])
    writer.roles([(users[u], role, unit, post) for u, _, role, post, unit in extra], street.path)
    resident_account_link(resident=resident, user=users["resident"])

    assignments = {
        (a.user.username, a.role): a
        for a in RoleAssignment.objects.filter(user__username__in=LOGIN_USERNAMES).select_related(
            "user", "grid_unit"
        )
    }
    order = [
        ("street", Role.STREET_ADMIN),
        ("secretary", Role.SECRETARY),
        *[(f"grid{m.index}", Role.MICRO_GRID_LEAD) for m in case_study.micro_grids],
        ("leader", Role.BUILDING_GROUP_LEADER),
        ("volunteer", Role.VOLUNTEER),
        ("partner", Role.PARTNER_LIAISON),
        ("resident", Role.RESIDENT),
    ]
    logins = []
    for username, role in order:
        assignment = assignments[(username, role)]
        logins.append(
            DemoLogin(
                username=username,
                role=role,
                post=assignment.post,
                scope=_scope_label(assignment.grid_unit),
                display_name=assignment.user.display_name,
            )
        )
    _set_login_passwords(writer)
    # Each demo login has a phone of its own, in the order above (13900000001 for street …),
    # so that phone-code sign-in and SMS can be tried; without a gateway the codes wait on
    # the street administrator's trial page.
    for index, (username, _role) in enumerate(order, start=1):
        User.objects.filter(username=username).update(phone=demo_phone(index))
    return logins


def demo_phone(index: int) -> str:
    return f"1390000{index:04d}"


def _scope_label(unit: GridUnit) -> str:
    """ "A社区 第一微网格 1号楼组": the unit and its ancestors up to the community."""
    chain = GridUnit.objects.filter(path__in=unit.ancestor_paths()).order_by("path")
    below_block = [u.name for u in chain if u.level not in (GridLevel.STREET, GridLevel.BLOCK)]
    return " ".join(below_block) or unit.name


LOGIN_USERNAMES = [
    "street",
    "secretary",
    *[f"grid{index}" for index in range(1, 8)],
    "leader",
    "volunteer",
    "partner",
    "resident",
]
# Staff logins may open the (scoped) Django admin.
STAFF_USERNAMES = ("street", "secretary")


def _set_login_passwords(writer: _Writer) -> None:
    """Give every demo login the demo password, hashing it once; leave correct ones alone."""
    users = list(User.objects.filter(username__in=LOGIN_USERNAMES))
    verified: dict[str, bool] = {}
    for user in users:
        if user.password not in verified:
            # An unusable password ("!…") is never checked: Django would still run one
            # full hash on it to even out timings.
            verified[user.password] = is_password_usable(user.password) and check_password(
                writer.password, user.password
            )
        is_staff = user.username in STAFF_USERNAMES
        if verified[user.password] and user.is_staff == is_staff:
            continue
        if not verified[user.password]:
            user.password = writer.password_hash()
        user.is_staff = is_staff
        user.save(update_fields=["password", "is_staff"])


class DemoConflict(Exception):
    """The database holds demo rows made with another seed or another field key."""


def _check_same_demo(plan: CommunityPlan) -> None:
    # A different seed (or LINLI_FIELD_KEY) gives different residents for the same rooms;
    # mixing the two would double the community instead of finding it in place.
    building = plan.micro_grids[0].buildings[0]
    household = building.households[0]
    existing = Resident.objects.filter(
        household__building__grid_unit__code=building.group_code,
        household__building__name=building.name,
        household__room=household.room,
    )
    if existing.exists() and not existing.filter(
        id_number_hash=id_number_hash(household.people[0].id_number)
    ):
        raise DemoConflict(
            f"{plan.slot.name} already holds demo residents made with another seed or "
            "another LINLI_FIELD_KEY; use the same seed, or a fresh database."
        )


# What building-group leaders write down on their rounds, in the case study's words.
VISIT_FINDINGS = [
    ("楼道堆物较多，已提醒住户清理", True),
    ("发现电动自行车在楼道充电，存在火灾隐患", True),
    ("反映有高空抛物现象，希望加强宣传", True),
    ("老人独居，希望有人每周帮忙买菜", True),
    ("楼顶渗漏，雨天漏水", True),
    ("反映小区门口商铺占道经营", False),
    ("希望中心花园增加座椅", False),
    ("身体状况良好，近期无困难", False),
    ("家中一切正常", False),
    ("对上次反映的问题处理结果表示满意", False),
]


def _demo_visits(plan: CommunityPlan, seed: int) -> int:
    """Some weeks of 寻访 by A社区's building-group leaders, so the dashboards have history.

    Written once: if the community already has visits, nothing is added (the dates are
    relative to the first run, so a second run could not reproduce them).
    """
    community = GridUnit.objects.get(code=plan.slot.code)
    if Visit.objects.filter(grid_path__startswith=community.path).exists():
        return 0
    rng, _ = _rng_for(seed, "visits")
    now = clock.now().replace(minute=0, second=0, microsecond=0)
    leaders = {
        assignment.grid_path: assignment.user
        for assignment in RoleAssignment.objects.filter(
            role=Role.BUILDING_GROUP_LEADER, grid_path__startswith=community.path
        ).select_related("user")
    }
    visits = []
    for household in Household.objects.filter(grid_path__startswith=community.path).order_by("id"):
        leader = leaders.get(household.grid_path)
        if leader is None or rng.random() > 0.55:
            continue
        finding, may_need_follow_up = rng.choice(VISIT_FINDINGS)
        visits.append(
            Visit(
                household=household,
                grid_path=household.grid_path,
                visitor=leader,
                visited_at=now - timedelta(days=rng.randint(0, 44), hours=rng.randint(0, 9)),
                method=rng.choices(VisitMethod.values, weights=[6, 3, 1])[0],
                finding=finding,
                mood=rng.choices(Mood.values, weights=[5, 4, 2, 1])[0],
                needs_follow_up=may_need_follow_up and rng.random() < 0.4,
            )
        )
    Visit.objects.bulk_create(visits, batch_size=2000)
    return len(visits)


def demo_password() -> str:
    return settings.LINLI_DEMO_PASSWORD


def demo_generate(
    *,
    seed: int = DEFAULT_SEED,
    residents: int | None = None,
    password: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> DemoResult:
    """Create (or find in place) the demo street; one transaction, idempotent.

    `residents` above the default demo's size adds A-shaped communities until exactly that
    many demo residents exist (for benchmarks); below it, the default demo is generated.
    """
    started = time.perf_counter()
    result = DemoResult(seed=seed, password=password or demo_password())
    slots = community_slots(residents)
    street_codes = sorted({slot.street_code for slot in slots})
    with transaction.atomic():
        before = _counts(street_codes)
        writer = _Writer(result.password)
        ids = _IdNumbers()
        fake = Faker("zh_CN")
        case_study = None
        for index, plan in enumerate(_plans(slots, seed=seed, fake=fake, ids=ids)):
            if index == 0:
                _check_same_demo(plan)
                case_study = plan
            _write_community(writer, plan)
            result.communities += 1
            if progress and (index + 1) % 10 == 0:
                progress(
                    f"{index + 1}/{len(slots)} communities, {time.perf_counter() - started:.1f} s"
                )
        result.logins = _demo_logins(writer, case_study, seed)
        result.visits_added = _demo_visits(case_study, seed)
        result.cases_added = demo_cases(
            community=GridUnit.objects.get(code=case_study.slot.code), seed=seed
        )
        # Volunteers in the seven functional teams, partners, needs and supplies.
        result.volunteers_added = demo_resources(
            community=GridUnit.objects.get(code=case_study.slot.code), seed=seed
        )
        # The Thursday action day, a service fair, the bus-stop topic, the resilience survey.
        demo_participation(community=GridUnit.objects.get(code=case_study.slot.code))
        # The street's emergency plans and a past typhoon drill with its after-action report.
        demo_emergency(community=GridUnit.objects.get(code=case_study.slot.code), seed=seed)
        # Eight weeks of resilience snapshots for the case-study street's dashboard and map.
        demo_resilience(street=GridUnit.objects.get(code=case_study.slot.street_code))
        result.totals = _counts(street_codes)
        result.added = {name: result.totals[name] - before[name] for name in before}
    result.seconds = time.perf_counter() - started
    return result


def _plans(slots, *, seed: int, fake: Faker, ids: _IdNumbers) -> Iterator[CommunityPlan]:
    # One community at a time, so a million residents never sit in memory at once.
    for slot in slots:
        yield plan_community(slot, seed=seed, fake=fake, ids=ids)
