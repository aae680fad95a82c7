"""The category and time-limit editor: services, pages, API and who may use them.

Street administrators edit the shared tree; a secretary sees it read-only; everyone else
is refused, and a refused call changes nothing (neither the tree nor the audit log).
"""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from linli.accounts.models import AuditEntry
from linli.accounts.roles import Role
from linli.cases.models import Case, CaseCategory, CaseSource, CaseState
from linli.cases.services import (
    case_create,
    case_transition,
    category_create,
    category_deactivate,
    category_update,
    may_edit_categories,
)
from linli.cases.views.categories import sla_days
from linli.conftest import World, make_user
from linli.grids.services import role_assign
from linli.testing.clients import client_for

API = "/api/v1/cases/categories"
DENIED_ROLES = [
    Role.MICRO_GRID_LEAD,
    Role.BUILDING_GROUP_LEADER,
    Role.VOLUNTEER,
    Role.PARTNER_LIAISON,
    Role.RESIDENT,
]


def admin(world: World):
    return world.users[Role.STREET_ADMIN]


def tree_state() -> list[tuple]:
    """Everything a refused call must leave alone: every class and the audit log."""
    return [
        *CaseCategory.objects.order_by("pk").values_list(
            "pk",
            "parent_id",
            "code",
            "name_zh",
            "name_en",
            "sla_hours",
            "usual_handler",
            "is_public",
            "is_active",
            "sort_order",
        ),
        ("audit", AuditEntry.objects.count()),
    ]


def category_audit():
    # The world fixture's posts have audit rows of their own.
    return AuditEntry.objects.filter(object_type="case_category")


def new_minor(world: World, **overrides) -> CaseCategory:
    values = dict(
        actor=admin(world),
        parent=CaseCategory.objects.get(code="SAF"),
        code="SAF-04",
        name_zh="消防通道占用",
        name_en="Blocked fire lane",
        sla_hours=36,
        acceptance_condition="消防通道被车辆或杂物占用。",
        closing_condition="通道已清空。",
        usual_handler="物业",
        is_public=True,
    )
    return category_create(**{**values, **overrides})


def file_case(world: World, category: CaseCategory) -> Case:
    return case_create(
        reporter=world.users[Role.RESIDENT],
        category=category,
        building=world.building,
        description="楼道堆物",
        source=CaseSource.RESIDENT_REPORT,
    )


# Services ------------------------------------------------------------------------------


def test_street_admin_creates_a_minor_class_after_its_siblings_with_an_audit_row(world):
    category = new_minor(world)

    assert category.parent.code == "SAF"
    assert (category.code, category.name_zh, category.name_en) == (
        "SAF-04",
        "消防通道占用",
        "Blocked fire lane",
    )
    assert (category.sla_hours, category.usual_handler, category.is_public) == (36, "物业", True)
    assert category.is_active is True
    # The seeded SAF minors hold orders 0, 1 and 2.
    assert category.sort_order == 3
    entry = category_audit().get()
    assert (entry.actor, entry.action, entry.object_type, entry.object_id) == (
        admin(world),
        "create",
        "case_category",
        str(category.pk),
    )
    assert entry.object_label == "SAF-04 消防通道占用"
    assert entry.grid_path == world.street.path
    assert entry.changes == {
        "parent": "SAF",
        "code": "SAF-04",
        "name_zh": "消防通道占用",
        "name_en": "Blocked fire lane",
        "acceptance_condition": "消防通道被车辆或杂物占用。",
        "closing_condition": "通道已清空。",
        "usual_handler": "物业",
        "sla_hours": 36,
        "is_public": True,
    }


def test_a_new_major_class_has_no_time_limit_and_comes_last(world):
    category = category_create(
        actor=admin(world), parent=None, code="emg", name_zh="应急", name_en="Emergency"
    )
    assert (category.code, category.parent, category.sla_hours) == ("EMG", None, None)
    assert category.sort_order == 6


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"code": "SAF04"}, "code"),
        ({"code": "SAF-4"}, "code"),
        ({"code": "ENV-09"}, "code"),
        ({"code": "SAF-01"}, "code"),
        ({"code": ""}, "code"),
        ({"sla_hours": 0}, "sla_hours"),
        ({"sla_hours": 2161}, "sla_hours"),
        ({"sla_hours": None}, "sla_hours"),
        ({"sla_hours": "24"}, "sla_hours"),
        ({"name_zh": "  "}, "name_zh"),
        ({"name_en": ""}, "name_en"),
        ({"name_zh": "长" * 51}, "name_zh"),
        ({"usual_handler": "物" * 101}, "usual_handler"),
    ],
)
def test_bad_minor_class_input_names_the_field_and_writes_nothing(world, overrides, field):
    before = tree_state()
    with pytest.raises(ValidationError) as caught:
        new_minor(world, **overrides)
    assert list(caught.value.message_dict) == [field]
    assert tree_state() == before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"code": "S"}, "code"),
        ({"code": "SAFER"}, "code"),
        ({"code": "SA-01"}, "code"),
        ({"code": "ENV"}, "code"),
        ({"sla_hours": 24}, "sla_hours"),
    ],
)
def test_bad_major_class_input_names_the_field_and_writes_nothing(world, overrides, field):
    before = tree_state()
    values = dict(code="EMG", name_zh="应急", name_en="Emergency", sla_hours=None)
    with pytest.raises(ValidationError) as caught:
        category_create(actor=admin(world), parent=None, **{**values, **overrides})
    assert list(caught.value.message_dict) == [field]
    assert tree_state() == before


def test_a_minor_class_cannot_go_under_a_minor_or_an_inactive_major(world):
    before = tree_state()
    with pytest.raises(ValidationError) as caught:
        new_minor(world, parent=CaseCategory.objects.get(code="SAF-01"))
    assert list(caught.value.message_dict) == ["parent"]
    CaseCategory.objects.filter(code="SAF").update(is_active=False)
    before = tree_state()
    with pytest.raises(ValidationError) as caught:
        new_minor(world, parent=CaseCategory.objects.get(code="SAF"))
    assert list(caught.value.message_dict) == ["parent"]
    assert tree_state() == before


@pytest.mark.parametrize("role", [Role.SECRETARY, *DENIED_ROLES])
def test_only_a_street_admin_may_change_the_tree(world, role):
    actor = world.users[role]
    minor = CaseCategory.objects.get(code="SAF-01")
    before = tree_state()
    for attempt in (
        lambda: new_minor(world, actor=actor),
        lambda: category_update(actor=actor, category=minor, sla_hours=12),
        lambda: category_deactivate(actor=actor, category=minor),
    ):
        with pytest.raises(ValidationError) as caught:
            attempt()
        assert caught.value.code == "permission_denied"
    assert tree_state() == before


def test_a_street_admin_post_on_a_block_does_not_edit_the_shared_tree(world):
    block_admin = make_user("block_admin")
    role_assign(
        user=block_admin, role=Role.STREET_ADMIN, grid_unit=world.block, post="street_admin"
    )
    assert may_edit_categories(block_admin) is False
    assert may_edit_categories(admin(world)) is True


def test_update_records_old_and_new_values_of_what_changed(world):
    minor = CaseCategory.objects.get(code="SAF-02")
    updated = category_update(
        actor=admin(world),
        category=minor,
        sla_hours=12,
        usual_handler=" 物业、消防 ",
        name_zh="电动自行车违规充电",
        is_public=False,
    )
    assert (updated.sla_hours, updated.usual_handler, updated.is_public) == (
        12,
        "物业、消防",
        False,
    )
    entry = category_audit().get()
    assert (entry.action, entry.object_id, entry.grid_path) == (
        "update",
        str(minor.pk),
        world.street.path,
    )
    # The unchanged Chinese name is not listed.
    assert entry.changes == {
        "sla_hours": [24, 12],
        "usual_handler": ["物业", "物业、消防"],
        "is_public": [True, False],
    }


def test_an_update_that_changes_nothing_writes_no_audit_row(world):
    minor = CaseCategory.objects.get(code="SAF-02")
    category_update(actor=admin(world), category=minor, sla_hours=24)
    assert category_audit().count() == 0


@pytest.mark.parametrize(
    ("code", "changes", "field"),
    [
        ("SAF-01", {"code": "SAF-09"}, "code"),
        ("SAF-01", {"parent": None}, "parent"),
        ("SAF-01", {"sla_hours": 0}, "sla_hours"),
        ("SAF-01", {"sla_hours": None}, "sla_hours"),
        ("SAF-01", {"name_en": ""}, "name_en"),
        ("SAF-01", {"sort_order": -1}, "sort_order"),
        ("SAF-01", {"is_public": "yes"}, "is_public"),
        ("SAF", {"sla_hours": 48}, "sla_hours"),
    ],
)
def test_bad_update_names_the_field_and_writes_nothing(world, code, changes, field):
    before = tree_state()
    with pytest.raises(ValidationError) as caught:
        category_update(actor=admin(world), category=CaseCategory.objects.get(code=code), **changes)
    assert list(caught.value.message_dict) == [field]
    assert tree_state() == before


def test_a_new_time_limit_applies_only_to_cases_filed_afterwards(world):
    minor = CaseCategory.objects.get(code="SAF-01")
    earlier = file_case(world, minor)
    category_update(actor=admin(world), category=minor, sla_hours=24)
    later = file_case(world, CaseCategory.objects.get(code="SAF-01"))

    earlier.refresh_from_db()
    assert earlier.due_at == earlier.created_at + timedelta(hours=72)
    assert earlier.original_due_at == earlier.created_at + timedelta(hours=72)
    assert later.due_at == later.created_at + timedelta(hours=24)


def test_a_deactivated_minor_is_hidden_from_filing_but_its_cases_keep_it(world):
    minor = CaseCategory.objects.get(code="SAF-01")
    existing = file_case(world, minor)
    category_deactivate(actor=admin(world), category=minor)

    minor.refresh_from_db()
    assert minor.is_active is False
    existing.refresh_from_db()
    assert existing.category == minor
    with pytest.raises(ValidationError) as caught:
        file_case(world, minor)
    assert list(caught.value.message_dict) == ["category"]
    # Work on the existing case goes on.
    accepted = case_transition(case=existing, actor=world.users[Role.SECRETARY], action="accept")
    assert accepted.state == CaseState.ACCEPTED
    entry = category_audit().get()
    assert (entry.action, entry.field, entry.changes) == (
        "update",
        "is_active",
        {"is_active": [True, False]},
    )


def test_deactivating_a_major_deactivates_its_minors_with_one_audit_row_each(world):
    CaseCategory.objects.filter(code="SAF-03").update(is_active=False)
    category_deactivate(actor=admin(world), category=CaseCategory.objects.get(code="SAF"))

    assert list(
        CaseCategory.objects.filter(code__startswith="SAF")
        .order_by("code")
        .values_list("code", "is_active")
    ) == [("SAF", False), ("SAF-01", False), ("SAF-02", False), ("SAF-03", False)]
    assert CaseCategory.objects.filter(code="ENV-01", is_active=True).exists()
    # SAF-03 was already inactive: it is not recorded again.
    assert sorted(category_audit().values_list("object_label", flat=True)) == [
        "SAF 安全隐患",
        "SAF-01 楼道堆物",
        "SAF-02 电动自行车违规充电",
    ]


def test_deactivating_an_inactive_class_is_an_error_and_writes_nothing(world):
    CaseCategory.objects.filter(code="SAF-01").update(is_active=False)
    before = tree_state()
    with pytest.raises(ValidationError) as caught:
        category_deactivate(actor=admin(world), category=CaseCategory.objects.get(code="SAF-01"))
    assert list(caught.value.message_dict) == ["is_active"]
    assert tree_state() == before


def test_a_minor_is_reactivated_only_under_an_active_major(world):
    category_deactivate(actor=admin(world), category=CaseCategory.objects.get(code="SAF"))
    minor = CaseCategory.objects.get(code="SAF-01")
    before = tree_state()
    with pytest.raises(ValidationError) as caught:
        category_update(actor=admin(world), category=minor, is_active=True)
    assert list(caught.value.message_dict) == ["is_active"]
    assert tree_state() == before

    major = category_update(
        actor=admin(world), category=CaseCategory.objects.get(code="SAF"), is_active=True
    )
    minor = category_update(actor=admin(world), category=minor, is_active=True)
    assert (major.is_active, minor.is_active) == (True, True)
    # Reactivating a major brings back only itself; its other minors stay off.
    assert CaseCategory.objects.get(code="SAF-02").is_active is False


def test_an_update_with_is_active_false_deactivates_like_the_button(world):
    category_update(
        actor=admin(world), category=CaseCategory.objects.get(code="SAF"), is_active=False
    )
    assert CaseCategory.objects.filter(code__startswith="SAF", is_active=True).count() == 0


@pytest.mark.parametrize(("hours", "days"), [(12, ""), (24, "1"), (36, "1.5"), (2160, "90")])
def test_a_limit_of_a_day_or_more_also_reads_in_days(hours, days):
    assert sla_days(hours) == days


# Pages ---------------------------------------------------------------------------------


def test_category_list_shows_the_tree_with_limits_and_open_cases_in_the_users_grids(world):
    minor = CaseCategory.objects.get(code="SAF-01")
    file_case(world, minor)
    closed = file_case(world, minor)
    Case.objects.filter(pk=closed.pk).update(state=CaseState.CLOSED)
    case_create(
        reporter=admin(world),
        category=minor,
        building=world.other_community_household.building,
        description="9号楼楼道堆物",
        source=CaseSource.STAFF,
    )
    CaseCategory.objects.filter(code="NEI-01").update(is_active=False)

    counts = {}
    for role in (Role.STREET_ADMIN, Role.SECRETARY):
        response = client_for(world.users[role]).get(reverse("cases:categories"))
        assert response.status_code == 200
        tree = response.context["tree"]
        assert [major.code for major, _minors in tree] == [
            "ENV",
            "SAF",
            "HOU",
            "NEI",
            "SVC",
            "OTH",
        ]
        counts[role] = {minor.code: minor.open_cases for _m, minors in tree for minor in minors}
    # The street admin counts both communities' open cases; the secretary only A's.
    assert counts[Role.STREET_ADMIN]["SAF-01"] == 2
    assert counts[Role.SECRETARY]["SAF-01"] == 1
    assert counts[Role.SECRETARY]["SAF-02"] == 0

    body = (
        client_for(world.users[Role.STREET_ADMIN]).get(reverse("cases:categories")).content.decode()
    )
    rows = {
        code: body.split(f'data-testid="category-{code}"')[1].split("</tr>")[0]
        for code in ("SAF-01", "SAF-02", "SVC-01", "NEI-01")
    }
    assert "72 hours (3 d)" in rows["SAF-01"]
    assert "24 hours (1 d)" in rows["SAF-02"]
    assert "720 hours (30 d)" in rows["SVC-01"]
    assert "Inactive" in rows["NEI-01"]
    assert "Inactive" not in rows["SAF-01"]
    assert reverse("cases:category_edit", args=[minor.pk]) in body


def test_secretary_sees_the_editor_read_only(world):
    response = client_for(world.users[Role.SECRETARY]).get(reverse("cases:categories"))
    body = response.content.decode()
    assert response.context["can_edit"] is False
    assert 'data-testid="read-only"' in body
    assert reverse("cases:category_new") not in body
    assert "/edit/" not in body
    assert "/deactivate/" not in body


def test_street_admin_creates_a_minor_through_the_form(world):
    major = CaseCategory.objects.get(code="SAF")
    client = client_for(world.users[Role.STREET_ADMIN])
    form = client.get(reverse("cases:category_new"), {"parent": major.pk})
    assert form.status_code == 200
    assert form.context["form"].initial["parent"] == major.pk
    response = client.post(
        reverse("cases:category_new"),
        {
            "parent": major.pk,
            "code": "SAF-04",
            "name_zh": "消防通道占用",
            "name_en": "Blocked fire lane",
            "sla_hours": "36",
            "usual_handler": "物业",
            "is_public": "on",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:categories")
    created = CaseCategory.objects.get(code="SAF-04")
    assert (created.parent, created.sla_hours, created.is_public) == (major, 36, True)
    assert AuditEntry.objects.filter(action="create", object_id=str(created.pk)).count() == 1


def test_a_bad_form_shows_the_error_by_its_field_and_writes_nothing(world):
    before = tree_state()
    response = client_for(world.users[Role.STREET_ADMIN]).post(
        reverse("cases:category_new"),
        {
            "parent": CaseCategory.objects.get(code="SAF").pk,
            "code": "SAF-05",
            "name_zh": "消防通道占用",
            "name_en": "Blocked fire lane",
            "sla_hours": "3000",
        },
    )
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["sla_hours"]
    assert "between 1 and 2160 hours" in response.content.decode()
    assert tree_state() == before


def test_street_admin_changes_a_time_limit_through_the_form(world):
    minor = CaseCategory.objects.get(code="SAF-02")
    client = client_for(world.users[Role.STREET_ADMIN])
    form = client.get(reverse("cases:category_edit", args=[minor.pk]))
    assert form.context["form"].initial["sla_hours"] == 24
    assert "is_active" not in form.context["form"].fields
    response = client.post(
        reverse("cases:category_edit", args=[minor.pk]),
        {
            "name_zh": minor.name_zh,
            "name_en": minor.name_en,
            "sla_hours": "12",
            "acceptance_condition": minor.acceptance_condition,
            "closing_condition": minor.closing_condition,
            "usual_handler": minor.usual_handler,
            "is_public": "on",
        },
    )
    assert response.status_code == 302
    minor.refresh_from_db()
    assert minor.sla_hours == 12
    assert category_audit().get().changes == {"sla_hours": [24, 12]}


def test_an_inactive_class_is_reactivated_through_its_form(world):
    minor = CaseCategory.objects.get(code="SAF-03")
    category_deactivate(actor=admin(world), category=minor)
    client = client_for(world.users[Role.STREET_ADMIN])
    form = client.get(reverse("cases:category_edit", args=[minor.pk]))
    assert form.context["form"].initial["is_active"] is False
    response = client.post(
        reverse("cases:category_edit", args=[minor.pk]),
        {
            "name_zh": minor.name_zh,
            "name_en": minor.name_en,
            "sla_hours": "48",
            "acceptance_condition": minor.acceptance_condition,
            "closing_condition": minor.closing_condition,
            "usual_handler": minor.usual_handler,
            "is_public": "on",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    minor.refresh_from_db()
    assert minor.is_active is True
    assert category_audit().order_by("-id").first().changes == {"is_active": [False, True]}


def test_a_major_class_form_has_no_time_limit_field(world):
    major = CaseCategory.objects.get(code="SAF")
    response = client_for(world.users[Role.STREET_ADMIN]).get(
        reverse("cases:category_edit", args=[major.pk])
    )
    assert "sla_hours" not in response.context["form"].fields
    assert 'name="sla_hours"' not in response.content.decode()


def test_street_admin_deactivates_a_class_from_the_list(world):
    minor = CaseCategory.objects.get(code="SAF-03")
    response = client_for(world.users[Role.STREET_ADMIN]).post(
        reverse("cases:category_deactivate", args=[minor.pk])
    )
    assert response.status_code == 302
    minor.refresh_from_db()
    assert minor.is_active is False
    # The filing form no longer offers it.
    form = client_for(world.users[Role.RESIDENT]).get(reverse("cases:new"))
    assert minor not in form.context["form"].fields["category"].queryset


def test_workbench_links_to_the_editor_for_those_who_may_see_it(world):
    link = 'data-testid="category-editor-link"'
    for role, shown in [
        (Role.STREET_ADMIN, True),
        (Role.SECRETARY, True),
        (Role.MICRO_GRID_LEAD, False),
        (Role.BUILDING_GROUP_LEADER, False),
        (Role.RESIDENT, False),
    ]:
        body = client_for(world.users[role]).get(reverse("cases:workbench")).content.decode()
        assert (link in body) is shown, role


# Permission matrix ---------------------------------------------------------------------


def page_calls(world):
    minor = CaseCategory.objects.get(code="SAF-01")
    edit = reverse("cases:category_edit", args=[minor.pk])
    return {
        "list": ("get", reverse("cases:categories"), {}),
        "new_form": ("get", reverse("cases:category_new"), {}),
        "edit_form": ("get", edit, {}),
        "new": (
            "post",
            reverse("cases:category_new"),
            {"code": "EMG", "name_zh": "应急", "name_en": "Emergency"},
        ),
        "edit": (
            "post",
            edit,
            {"name_zh": "楼道堆物", "name_en": "Stairwell clutter", "sla_hours": "12"},
        ),
        "deactivate": ("post", reverse("cases:category_deactivate", args=[minor.pk]), {}),
    }


PAGE_EXPECTED = {
    Role.STREET_ADMIN: {
        "list": 200,
        "new_form": 200,
        "edit_form": 200,
        "new": 302,
        "edit": 302,
        "deactivate": 302,
    },
    Role.SECRETARY: {
        "list": 200,
        "new_form": 403,
        "edit_form": 403,
        "new": 403,
        "edit": 403,
        "deactivate": 403,
    },
    **{
        role: dict.fromkeys(["list", "new_form", "edit_form", "new", "edit", "deactivate"], 404)
        for role in DENIED_ROLES
    },
}


@pytest.mark.parametrize("role", [*PAGE_EXPECTED, "anonymous"])
def test_category_page_permission_matrix(world, role):
    client = client_for(world.users[role])
    # In this order a street admin's edit and deactivation hit a class that still exists.
    for call, (method, url, data) in page_calls(world).items():
        before = tree_state()
        response = getattr(client, method)(url, data)
        if role == "anonymous":
            assert response.status_code == 302, call
            assert response["Location"].startswith(reverse("web:login"))
        else:
            assert response.status_code == PAGE_EXPECTED[role][call], call
        changed = role == Role.STREET_ADMIN and method == "post"
        assert (tree_state() != before) is changed, call


def api_calls(world):
    minor = CaseCategory.objects.get(code="SAF-01")
    return {
        "create": (
            "post",
            API,
            {"parent": "SAF", "code": "SAF-04", "name_zh": "消防通道", "name_en": "Fire lane"}
            | {"sla_hours": 36},
        ),
        "update": ("patch", f"{API}/{minor.pk}", {"sla_hours": 12}),
        "deactivate": ("post", f"{API}/{minor.pk}/deactivate", {}),
    }


@pytest.mark.parametrize("role", [Role.SECRETARY, *DENIED_ROLES, "anonymous"])
def test_category_api_refuses_everyone_but_a_street_admin(world, role):
    client = client_for(world.users[role])
    before = tree_state()
    for call, (method, url, data) in api_calls(world).items():
        response = getattr(client, method)(url, data, content_type="application/json")
        if role == "anonymous":
            assert response.status_code == 401, call
        else:
            assert response.status_code == 403, call
            assert response.json() == {
                "message": "Only a street administrator may change case categories.",
                "field": None,
            }
    assert tree_state() == before


# API -----------------------------------------------------------------------------------


def test_api_creates_a_minor_class(world):
    response = client_for(world.users[Role.STREET_ADMIN]).post(
        API,
        {
            "parent": "SAF",
            "code": "SAF-04",
            "name_zh": "消防通道占用",
            "name_en": "Blocked fire lane",
            "sla_hours": 36,
            "usual_handler": "物业",
            "is_public": False,
        },
        content_type="application/json",
    )
    assert response.status_code == 201
    created = CaseCategory.objects.get(code="SAF-04")
    assert response.json() == {
        "id": created.pk,
        "parent": "SAF",
        "code": "SAF-04",
        "name_zh": "消防通道占用",
        "name_en": "Blocked fire lane",
        "sla_hours": 36,
        "acceptance_condition": "",
        "closing_condition": "",
        "usual_handler": "物业",
        "is_public": False,
        "is_active": True,
        "sort_order": 3,
    }
    assert category_audit().filter(action="create").count() == 1


def test_api_create_with_an_unknown_parent_is_400_naming_it(world):
    before = tree_state()
    response = client_for(world.users[Role.STREET_ADMIN]).post(
        API,
        {"parent": "XYZ", "code": "XYZ-01", "name_zh": "某", "name_en": "X", "sla_hours": 1},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json() == {"message": "Unknown category: XYZ", "field": "parent"}
    assert tree_state() == before


def test_api_bad_time_limit_is_400_naming_the_field(world):
    before = tree_state()
    response = client_for(world.users[Role.STREET_ADMIN]).post(
        API,
        {"parent": "SAF", "code": "SAF-04", "name_zh": "某", "name_en": "X", "sla_hours": 0},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "message": "The time limit is between 1 and 2160 hours.",
        "field": "sla_hours",
    }
    assert tree_state() == before


def test_api_patch_changes_only_the_fields_sent(world):
    minor = CaseCategory.objects.get(code="SAF-02")
    response = client_for(world.users[Role.STREET_ADMIN]).patch(
        f"{API}/{minor.pk}", {"sla_hours": 12}, content_type="application/json"
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["code"], body["sla_hours"], body["usual_handler"]) == ("SAF-02", 12, "物业")
    assert category_audit().get().changes == {"sla_hours": [24, 12]}


def test_api_patch_of_the_code_is_400_naming_it(world):
    minor = CaseCategory.objects.get(code="SAF-02")
    before = tree_state()
    response = client_for(world.users[Role.STREET_ADMIN]).patch(
        f"{API}/{minor.pk}", {"code": "SAF-09"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {"message": "This field cannot be changed.", "field": "code"}
    assert tree_state() == before


def test_api_unknown_category_is_404(world):
    response = client_for(world.users[Role.STREET_ADMIN]).patch(
        f"{API}/999999", {"sla_hours": 12}, content_type="application/json"
    )
    assert response.status_code == 404
    assert response.json()["field"] == "category_id"


def test_api_deactivated_class_leaves_the_filing_tree(world):
    client = client_for(world.users[Role.STREET_ADMIN])
    major = CaseCategory.objects.get(code="SAF")
    response = client.post(f"{API}/{major.pk}/deactivate", content_type="application/json")
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    tree = client_for(world.users[Role.RESIDENT]).get(API).json()
    assert [node["code"] for node in tree] == ["ENV", "HOU", "NEI", "SVC", "OTH"]
