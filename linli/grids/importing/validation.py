"""Checking the rows of a registry file in plain Python (never model `full_clean`: it is
built for a million rows): every bad cell is recorded with its row and column, and the rows
after the first bad one are still checked, so that the report names them all."""

from __future__ import annotations

from collections.abc import Iterator

from linli.accounts.privacy import mask_phone, phone_is_valid
from linli.grids.importing.columns import (
    COLUMNS,
    CONTROL_CHARACTERS,
    HEADERS,
    PARTY_VALUES,
    RESIDENCY_VALUES,
    SEX_VALUES,
    TAG_SPLIT,
    TAG_VALUES,
    header_key,
)
from linli.grids.importing.households import HouseholdPlan
from linli.grids.importing.report import ErrorSink, ImportReport
from linli.grids.models import Resident

# The fast GB 11643 check: weights are 2^(17-k) mod 11, and 13 ≡ 2 (mod 11), so the weighted
# sum is 2 × (the first 17 digits read in base 13) mod 11. Proven equal to
# linli.accounts.privacy.id_number_is_valid in tests/test_importing.py.
_ID_CHECK = "10X98765432"


def id_number_ok(value: str) -> bool:
    if len(value) != 18 or not value.isascii():
        return False
    body = value[:17]
    if not body.isdigit():
        return False
    return _ID_CHECK[(2 * int(body, 13)) % 11] == value[17]


def mask_bad_id(value: str) -> str:
    """Enough of a (possibly wrong) ID number to find the row, never the whole of it."""
    value = value[:40]
    if len(value) <= 10:
        return "*" * len(value)
    return f"{value[:6]}{'*' * (len(value) - 10)}{value[-4:]}"


class RowValidator:
    """The row loop of one import: the header, then each row's cells checked and converted;
    the household of each row found or planned by `plan`."""

    def __init__(
        self, *, report: ImportReport, plan: HouseholdPlan, error: ErrorSink, max_year: int
    ):
        self.report = report
        self.errors = report.errors
        self.plan = plan
        self._error = error
        self.max_year = max_year
        self.seen_ids: dict[str, int] = {}

    def rows(self, rows: Iterator[tuple[int, list[str]]]) -> Iterator[tuple]:
        """Yield (row, household_id, grid_path, name, sex, birth_year, phone, id_number,
        residency, party, tags) for every good row; record an error for every bad cell."""
        try:
            header_number, header = next(rows)
        except StopIteration:
            self._error(0, "", "empty_file")
            return
        positions = self._header_positions(header_number, header)
        if positions is None:
            return
        p_group, p_building, p_room, p_name, p_sex, p_year = (
            positions[key]
            for key in ("building_group_code", "building", "room", "name", "sex", "birth_year")
        )
        p_id = positions["id_number"]
        p_phone, p_residency, p_party, p_tags = (
            positions.get(key, -1)
            for key in ("phone", "residency_type", "party_membership", "vulnerability_tags")
        )
        width = max(positions.values()) + 1
        column_at = {index: key for key, index in positions.items()}
        error = self._error
        household_cache = self.plan.household_cache
        household_for = self.plan.household
        seen_ids = self.seen_ids
        sexes, residencies, parties = SEX_VALUES, RESIDENCY_VALUES, PARTY_VALUES
        control = CONTROL_CHARACTERS.search
        phone_ok = phone_is_valid
        max_year = self.max_year
        report = self.report
        for number, cells in rows:
            formulas = getattr(cells, "formulas", ())
            if len(cells) < width:
                cells = cells + [""] * (width - len(cells))
            if not cells[p_id] and not cells[p_name] and not any(c.strip() for c in cells):
                if not formulas:
                    continue  # a blank row
            report.rows += 1
            bad = len(self.errors)

            key = (cells[p_group].strip(), cells[p_building].strip(), cells[p_room].strip())
            household = household_cache.get(key)
            if household is None:
                household = household_for(number, key)

            name = cells[p_name].strip()
            if not name:
                error(number, "name", "required")
            elif len(name) > 50:
                error(number, "name", "too_long", name[:60], limit=50)
            elif control(name):
                error(number, "name", "control")

            raw = cells[p_sex]
            sex = sexes.get(raw) or sexes.get(raw.strip().lower())
            if sex is None:
                error(number, "sex", "required" if not raw.strip() else "sex", raw[:40])

            raw = cells[p_year].strip()
            year = None
            if not raw:
                error(number, "birth_year", "required")
            else:
                try:
                    year = int(raw)
                except ValueError:
                    year = None
                if year is None or year < 1900 or year > max_year:
                    year = None
                    error(number, "birth_year", "birth_year", raw[:40], year=max_year)

            phone = None
            if p_phone >= 0:
                phone = cells[p_phone]
                if phone and not phone_ok(phone):
                    phone = phone.strip().replace(" ", "").replace("-", "")
                    if phone and not phone_ok(phone):
                        error(number, "phone", "phone", mask_phone(phone)[:40])

            id_number = cells[p_id]
            if len(id_number) != 18 or not id_number_ok(id_number):
                id_number = id_number.strip().upper().replace(" ", "")
                if not id_number:
                    error(number, "id_number", "required")
                elif not id_number_ok(id_number):
                    error(number, "id_number", "id_number", mask_bad_id(id_number))
            if id_number:
                first = seen_ids.get(id_number)
                if first is None:
                    seen_ids[id_number] = number
                else:
                    error(number, "id_number", "duplicate_id", mask_bad_id(id_number), row=first)

            residency = None
            if p_residency >= 0:
                raw = cells[p_residency]
                residency = residencies.get(raw)
                if residency is None:
                    residency = residencies.get(raw.strip().lower())
                    if residency is None:
                        error(number, "residency_type", "residency_type", raw[:40])

            party = None
            if p_party >= 0:
                raw = cells[p_party]
                party = parties.get(raw)
                if party is None:
                    party = parties.get(raw.strip().lower())
                    if party is None:
                        error(number, "party_membership", "party_membership", raw[:40])

            tags = None
            if p_tags >= 0:
                raw = cells[p_tags]
                tags = self._tags(number, raw) if raw else ""

            if formulas:
                self._refuse_formulas(
                    number, bad, [column_at[i] for i in formulas if i in column_at]
                )

            if len(self.errors) == bad and household is not None:
                yield (
                    number,
                    household[0],
                    household[1],
                    name,
                    sex,
                    year,
                    phone,
                    id_number,
                    residency,
                    party,
                    tags,
                )

    def _refuse_formulas(self, number: int, bad: int, columns: list[str]) -> None:
        """Formula cells of row `number` (blank as read) are refused as formulas, in place of
        whatever the blank made the other checks say about those columns. The formula is
        not echoed: it may hold a phone or ID number."""
        if not columns:
            return
        refused = set(columns)
        self.errors[bad:] = [e for e in self.errors[bad:] if e.column not in refused]
        for column in COLUMNS:
            if column.key in refused:
                self._error(number, column.key, "formula")

    def _header_positions(self, number: int, header: list[str]) -> dict[str, int] | None:
        positions: dict[str, int] = {}
        for index, text in enumerate(header):
            key = HEADERS.get(header_key(text or ""))
            if key is None:
                continue  # extra columns (notes, serial numbers) are ignored
            if key in positions:
                self._error(number, key, "duplicate_column", text)
                continue
            positions[key] = index
        for column in COLUMNS:
            if column.required and column.key not in positions:
                self._error(number, column.key, "missing_column", header=column.zh)
        return None if self.errors else positions

    def _tags(self, number: int, raw: str) -> str | None:
        codes = []
        for part in TAG_SPLIT.split(raw.strip()):
            if not part:
                continue
            code = TAG_VALUES.get(part) or TAG_VALUES.get(part.lower())
            if code is None:
                self._error(number, "vulnerability_tags", "tag", raw[:80], tag=part[:30])
                return None
            codes.append(code)
        return Resident.encode_tags(codes)
