"""Resolving each row's building group code, building and room to a household: the existing
ones of the importer's scope are loaded once; those the file names anew are planned with ids
reserved for them, and written batch by batch before the residents that live in them.

Buildings match on (building group, name), households on (building, room). A building or
household whose grid path no longer matches its building group's (the group moved) is
"stale": the import puts it right.
"""

from __future__ import annotations

from linli.accounts.grid_paths import within
from linli.grids.importing.columns import CONTROL_CHARACTERS
from linli.grids.importing.report import ErrorSink, ImportReport
from linli.grids.importing.writers import TABLES, Writer
from linli.grids.models import Building, GridLevel, GridUnit, Household


class HouseholdPlan:
    def __init__(self, *, scope_paths: list[str], error: ErrorSink):
        self.scope_paths = scope_paths
        self._error = error
        # Existing keys of the importer's scope.
        self.groups: dict[str, tuple[int, str]] = {}
        self.buildings: dict[tuple[int, str], tuple[int, str]] = {}
        self.households: dict[tuple[int, str], tuple[int, str]] = {}
        # Keys seen in this file.
        self.household_cache: dict[tuple[str, str, str], tuple[int, str]] = {}
        self.touched_buildings: set[int] = set()
        self.touched_households: set[int] = set()
        self.new_buildings: list[tuple] = []
        self.new_households: list[tuple] = []
        self.stale_buildings: list[tuple[int, str]] = []
        self.stale_households: list[tuple[int, str]] = []
        self.group_paths: set[str] = set()
        self.created_ids: set[int] = set()  # buildings planned by this import
        self.next_ids: dict[str, int] = {}
        self.buildings_written = 0
        self.households_written = 0

    # -- setup ----------------------------------------------------------------------------

    def load_existing(self) -> None:
        units = GridUnit.objects.filter(level=GridLevel.BUILDING_GROUP).within(self.scope_paths)
        self.groups = {
            code: (pk, path) for pk, code, path in units.values_list("id", "code", "path")
        }
        in_scope = within(self.scope_paths, "grid_unit__path")
        for pk, group_id, name, path, group_path in Building.objects.filter(in_scope).values_list(
            "id", "grid_unit_id", "name", "grid_path", "grid_unit__path"
        ):
            self.buildings[(group_id, name)] = (pk, path if path == group_path else "")
        in_scope = within(self.scope_paths, "building__grid_unit__path")
        for pk, building_id, room, path, group_path in (
            Household.objects.filter(in_scope)
            .values_list("id", "building_id", "room", "grid_path", "building__grid_unit__path")
            .iterator(chunk_size=20_000)
        ):
            self.households[(building_id, room)] = (pk, path if path == group_path else "")

    def take_first_free_ids(self, writer: Writer) -> None:
        self.next_ids = {
            "building": writer.first_free_id(TABLES["building"]),
            "household": writer.first_free_id(TABLES["household"]),
        }

    # -- one row --------------------------------------------------------------------------

    def household(self, number: int, key: tuple[str, str, str]) -> tuple[int, str] | None:
        """Find or plan the household for (group code, building, room); None when bad."""
        code, building_name, room = key
        ok = True
        group = self.groups.get(code)
        if not code:
            self._error(number, "building_group_code", "required")
            ok = False
        elif group is None:
            self._error(number, "building_group_code", "not_here", code[:40])
            ok = False
        for column, value, limit in (("building", building_name, 50), ("room", room, 20)):
            if not value:
                self._error(number, column, "required")
                ok = False
            elif len(value) > limit:
                self._error(number, column, "too_long", value[:60], limit=limit)
                ok = False
            elif CONTROL_CHARACTERS.search(value):
                self._error(number, column, "control")
                ok = False
        if not ok or group is None:
            return None
        group_id, group_path = group
        self.group_paths.add(group_path)
        building = self.buildings.get((group_id, building_name))
        if building is None:
            building_id = self._next_id("building")
            self.new_buildings.append((building_id, group_id, group_path, building_name))
            self.buildings[(group_id, building_name)] = (building_id, group_path)
            self.created_ids.add(building_id)
        else:
            building_id, path = building
            if building_id not in self.touched_buildings and building_id not in self.created_ids:
                self.touched_buildings.add(building_id)
                if path != group_path:
                    self.stale_buildings.append((building_id, group_path))
                    self.buildings[(group_id, building_name)] = (building_id, group_path)
        existing = self.households.get((building_id, room))
        if existing is None:
            household_id = self._next_id("household")
            self.new_households.append((household_id, building_id, group_path, room))
        else:
            household_id, path = existing
            self.touched_households.add(household_id)
            if path != group_path:  # (a household is planned once: the cache has the key)
                self.stale_households.append((household_id, group_path))
        result = (household_id, group_path)
        self.household_cache[key] = result
        self.households[(building_id, room)] = (household_id, group_path)
        return result

    # -- ids ------------------------------------------------------------------------------

    def _next_id(self, kind: str) -> int:
        value = self.next_ids[kind]
        self.next_ids[kind] = value + 1
        return value

    # -- writing --------------------------------------------------------------------------

    def write_new(self, writer: Writer) -> None:
        """Write the buildings and households planned since the last batch."""
        if self.buildings_written < len(self.new_buildings):
            writer.insert_buildings(self.new_buildings[self.buildings_written :])
            self.buildings_written = len(self.new_buildings)
        if self.households_written < len(self.new_households):
            writer.insert_households(self.new_households[self.households_written :])
            self.households_written = len(self.new_households)

    def finish(self, writer: Writer) -> None:
        """Write what is still planned, move the id sequences past the ids taken, and put
        stale grid paths right."""
        self.write_new(writer)
        if self.new_buildings:
            writer.ids_used(TABLES["building"], self.next_ids["building"] - 1)
        if self.new_households:
            writer.ids_used(TABLES["household"], self.next_ids["household"] - 1)
        for pk, path in self.stale_buildings:
            Building.objects.filter(pk=pk).update(grid_path=path)
        for pk, path in self.stale_households:
            Household.objects.filter(pk=pk).update(grid_path=path)

    def count(self, report: ImportReport) -> None:
        report.buildings.created = len(self.new_buildings)
        report.buildings.updated = len(self.stale_buildings)
        report.buildings.unchanged = len(self.touched_buildings) - len(self.stale_buildings)
        report.households.created = len(self.new_households)
        report.households.updated = len(self.stale_households)
        report.households.unchanged = len(self.touched_households) - len(self.stale_households)
