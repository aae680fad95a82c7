"""What the pages show: masked numbers, scoped counts, the visit form and the reveal."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from linli.accounts.models import AuditAction, AuditEntry
from linli.accounts.roles import Role
from linli.grids import selectors
from linli.grids.models import GridUnit, Visit
from linli.grids.services import (
    household_create,
    resident_create,
    resident_reveal,
    visit_record,
)
from linli.grids.tree import COUNT_KEYS, counts_by_path
from linli.testing.builders import id_number
from linli.testing.clients import client_for

ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}


# Pages are asserted on their English text; zh-hans stays the default for users.
pytestmark = pytest.mark.usefixtures("english")


def page(client: Client, address: str) -> str:
    response = client.get(address, **ENGLISH)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(
    "address",
    [
        lambda world: reverse("grids:household_detail", args=[world.household.id]),
        lambda world: reverse("grids:resident_detail", args=[world.resident.id]),
        lambda world: reverse("grids:resident_list"),
        lambda world: reverse("web:home"),
    ],
    ids=["household", "resident", "resident list", "home"],
)
@pytest.mark.parametrize("role", [Role.SECRETARY, Role.RESIDENT, Role.BUILDING_GROUP_LEADER])
def test_pages_show_the_phone_masked_and_never_in_full(world, address, role):
    client = client_for(world.users[role], language=None)
    response = client.get(address(world), **ENGLISH)
    if response.status_code == 404:
        assert role == Role.RESIDENT  # the resident list is for registry roles only
        return
    content = response.content.decode()
    if "张桂英" in content:
        assert "138****1234" in content
    assert "13812341234" not in content
    assert "110101199003070038" not in content


def test_resident_page_shows_the_masked_id_number(world):
    client = client_for(world.users[Role.SECRETARY], language=None)
    content = page(client, reverse("grids:resident_detail", args=[world.resident.id]))
    assert "110101********0038" in content
    assert "138****1234" in content


def test_visit_form_creates_exactly_one_visit_with_the_submitted_values(world):
    leader = world.users[Role.BUILDING_GROUP_LEADER]
    client = client_for(world.users[Role.BUILDING_GROUP_LEADER], language=None)
    response = client.post(
        f"{reverse('grids:visit_new')}?household={world.household.id}",
        {
            "household": world.household.id,
            "method": "phone",
            "mood": "low",
            "finding": "  腿脚不便，想申请助餐  ",
            "needs_follow_up": "on",
        },
    )
    assert response.status_code == 302
    visit = Visit.objects.get()
    assert (
        visit.household,
        visit.visitor,
        visit.method,
        visit.mood,
        visit.finding,
        visit.needs_follow_up,
        visit.grid_path,
    ) == (world.household, leader, "phone", "low", "腿脚不便，想申请助餐", True, "/S/B/A/A1/A1-1/")


def test_visit_form_names_the_field_in_error_and_writes_nothing(world):
    client = client_for(world.users[Role.BUILDING_GROUP_LEADER], language=None)
    response = client.post(
        f"{reverse('grids:visit_new')}?household={world.household.id}",
        {"household": world.household.id, "method": "", "finding": "", "needs_follow_up": "on"},
        **ENGLISH,
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "method": ["Choose how the visit was made: door, phone or WeChat."],
        "finding": ["Say what needs following up."],
    }
    assert Visit.objects.count() == 0


def test_visit_post_naming_a_household_outside_scope_is_not_found(world):
    # The posted household wins over the query string, and still goes through the scope.
    client = client_for(world.users[Role.BUILDING_GROUP_LEADER], language=None)
    response = client.post(
        f"{reverse('grids:visit_new')}?household={world.household.id}",
        {"method": "door", "household": world.other_community_household.id},
    )
    assert response.status_code == 404
    assert Visit.objects.count() == 0


def test_household_picker_lists_only_households_the_leader_may_visit(world):
    client = client_for(world.users[Role.BUILDING_GROUP_LEADER], language=None)
    content = page(client, reverse("grids:visit_new"))
    assert "1号楼 101" in content
    assert "1号楼 102" in content
    assert "2号楼" not in content
    assert "9号楼" not in content


def test_household_picker_filters_by_htmx_and_answers_a_fragment(world):
    client = client_for(world.users[Role.SECRETARY], language=None)
    response = client.get(
        reverse("grids:visit_new"), {"q": "王芳"}, HTTP_HX_REQUEST="true", **ENGLISH
    )
    content = response.content.decode()
    assert "<html" not in content
    assert "2号楼 201" in content
    assert "1号楼" not in content


def test_reveal_by_htmx_shows_the_full_number_in_place_and_audits_it(world):
    secretary = world.users[Role.SECRETARY]
    client = client_for(world.users[Role.SECRETARY], language=None)
    response = client.post(
        reverse("grids:resident_reveal", args=[world.resident.id]),
        {"field": "phone", "purpose": "visit_contact", "reason": "Daughter asked us to call"},
        HTTP_HX_REQUEST="true",
        **ENGLISH,
    )
    content = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in content
    assert 'id="reveal-phone"' in content
    assert "13812341234" in content
    assert response["Cache-Control"].startswith("max-age=0")
    entry = AuditEntry.objects.get(action=AuditAction.REVEAL)
    assert (entry.actor, entry.object_id, entry.field, entry.reason, entry.grid_path) == (
        secretary,
        str(world.resident.id),
        "phone",
        "Daughter asked us to call",
        "/S/B/A/A1/A1-1/",
    )


def test_reveal_of_the_id_number_without_javascript_renders_the_whole_page(world):
    client = client_for(world.users[Role.MICRO_GRID_LEAD], language=None)
    response = client.post(
        reverse("grids:resident_reveal", args=[world.resident.id]),
        {"field": "id_number", "purpose": "verify_identity", "reason": "Benefit application"},
        **ENGLISH,
    )
    content = response.content.decode()
    assert "<html" in content
    assert "110101199003070038" in content
    assert "13812341234" not in content


def test_reveal_without_a_reason_says_so_and_writes_no_audit_entry(world):
    client = client_for(world.users[Role.SECRETARY], language=None)
    response = client.post(
        reverse("grids:resident_reveal", args=[world.resident.id]),
        {"field": "phone", "purpose": "visit_contact", "reason": "  "},
        HTTP_HX_REQUEST="true",
        **ENGLISH,
    )
    content = response.content.decode()
    assert response.status_code == 200
    assert "Say why you need the full number." in content
    assert "13812341234" not in content
    assert AuditEntry.objects.filter(action=AuditAction.REVEAL).count() == 0


def test_reveal_of_an_unknown_field_is_not_found(world):
    client = client_for(world.users[Role.SECRETARY], language=None)
    response = client.post(
        reverse("grids:resident_reveal", args=[world.resident.id]),
        {"field": "name", "reason": "curious"},
    )
    assert response.status_code == 404
    assert AuditEntry.objects.filter(action=AuditAction.REVEAL).count() == 0


def test_reveal_form_is_offered_only_to_users_who_may_reveal(world):
    client = client_for(world.users[Role.BUILDING_GROUP_LEADER], language=None)
    leader_page = page(client, reverse("grids:resident_detail", args=[world.resident.id]))
    assert "resident_reveal" not in leader_page
    assert reverse("grids:resident_reveal", args=[world.resident.id]) not in leader_page
    client = client_for(world.users[Role.MICRO_GRID_LEAD], language=None)
    lead_page = page(client, reverse("grids:resident_detail", args=[world.resident.id]))
    assert reverse("grids:resident_reveal", args=[world.resident.id]) in lead_page


def test_secretary_home_shows_the_micro_grid_table_and_posts(world):
    visit_record(
        visitor=world.users[Role.BUILDING_GROUP_LEADER], household=world.household, method="door"
    )
    client = client_for(world.users[Role.SECRETARY], language=None)
    response = client.get(reverse("web:home"), **ENGLISH)
    (overview,) = response.context["overviews"]
    assert overview["unit"] == world.community
    assert [(row["unit"].code, *(row[key] for key in COUNT_KEYS)) for row in overview["rows"]] == [
        ("A1", 1, 2, 2, 1, 1),
        ("A2", 1, 1, 1, 1, 0),
    ]
    assert [post.user.username for post in overview["posts"]] == [
        "partner_liaison",
        "secretary",
        "volunteer",
    ]
    assert [[post.user.username for post in row["posts"]] for row in overview["rows"]] == [
        ["micro_grid_lead"],
        [],
    ]
    content = response.content.decode()
    assert "Party branch secretary" in content
    assert "C社区" not in content


def test_street_admin_home_lists_both_communities(world):
    client = client_for(world.users[Role.STREET_ADMIN], language=None)
    response = client.get(reverse("web:home"), **ENGLISH)
    (overview,) = response.context["overviews"]
    assert [(row["unit"].name, row["residents"]) for row in overview["rows"]] == [
        ("A社区", 3),
        ("C社区", 1),
    ]


def test_leader_home_offers_the_record_visit_action_and_their_subtree(world):
    client = client_for(world.users[Role.BUILDING_GROUP_LEADER], language=None)
    response = client.get(reverse("web:home"), **ENGLISH)
    content = response.content.decode()
    assert "Record a visit" in content
    assert [overview["unit"] for overview in response.context["overviews"]] == [
        world.building_group
    ]
    assert "1号楼" in content
    assert "第二微网格" not in content


def test_resident_home_shows_only_their_household(world):
    client = client_for(world.users[Role.RESIDENT], language=None)
    response = client.get(reverse("web:home"), **ENGLISH)
    content = response.content.decode()
    assert response.context["overviews"] == []
    assert "张桂英" in content
    assert "李建国" not in content
    assert "Record a visit" not in content


@pytest.mark.parametrize("role", [Role.VOLUNTEER, Role.PARTNER_LIAISON])
def test_volunteer_and_partner_home_says_what_they_can_do(world, role):
    client = client_for(world.users[role], language=None)
    content = page(client, reverse("web:home"))
    assert "Your role does not open the resident registry" in content
    assert "张桂英" not in content
    assert reverse("grids:resident_list") not in content


def test_grid_tree_shows_the_five_levels_with_posts_within_scope(world):
    client = client_for(world.users[Role.SECRETARY], language=None)
    response = client.get(reverse("grids:grid_tree"), **ENGLISH)
    (root,) = response.context["roots"]
    assert root["unit"] == world.community
    assert [child["unit"].code for child in root["children"]] == ["A1", "A2"]
    assert [grand["unit"].code for grand in root["children"][0]["children"]] == ["A1-1"]
    assert [post.user.username for post in root["posts"]] == [
        "partner_liaison",
        "secretary",
        "volunteer",
    ]
    content = response.content.decode()
    assert "C社区" not in content
    assert "3 residents" in content


def test_street_admin_tree_has_all_five_levels(world):
    client = client_for(world.users[Role.STREET_ADMIN], language=None)
    content = page(client, reverse("grids:grid_tree"))
    for level in ('data-level="street"', 'data-level="block"', 'data-level="community"'):
        assert level in content
    assert 'data-level="micro_grid"' in content
    assert 'data-level="building_group"' in content


def test_bulk_counts_equal_the_selector_counts_for_every_unit(world):
    visit_record(
        visitor=world.users[Role.STREET_ADMIN],
        household=world.other_community_household,
        method="phone",
    )
    for role in (Role.STREET_ADMIN, Role.SECRETARY, Role.MICRO_GRID_LEAD):
        user = world.users[role]
        counts = counts_by_path(user=user)
        for unit in selectors.grid_units_visible(user=user):
            expected = selectors.registry_counts(user=user, path=unit.path)
            assert {key: counts[unit.path][key] for key in COUNT_KEYS} == expected, unit.code


def test_resident_list_searches_and_filters_within_scope(world):
    client = client_for(world.users[Role.SECRETARY], language=None)
    names = lambda response: [resident.name for resident, _ in response.context["rows"]]  # noqa: E731
    assert names(client.get(reverse("grids:resident_list"))) == ["张桂英", "李建国", "王芳"]
    assert names(client.get(reverse("grids:resident_list"), {"q": "李"})) == ["李建国"]
    assert names(client.get(reverse("grids:resident_list"), {"tag": "pregnant"})) == ["王芳"]
    assert names(
        client.get(reverse("grids:resident_list"), {"grid": world.other_micro_grid.id})
    ) == ["王芳"]
    assert names(client.get(reverse("grids:resident_list"), {"q": "赵强"})) == []


def test_resident_list_htmx_filter_answers_only_the_rows(world):
    client = client_for(world.users[Role.SECRETARY], language=None)
    response = client.get(
        reverse("grids:resident_list"), {"q": "王"}, HTTP_HX_REQUEST="true", **ENGLISH
    )
    content = response.content.decode()
    assert "<html" not in content
    assert "王芳" in content
    assert "张桂英" not in content
    assert response["Vary"].count("HX-Request") == 1


def test_resident_list_query_count_does_not_grow_with_rows(world, django_assert_max_num_queries):
    client = client_for(world.users[Role.SECRETARY], language=None)
    client.get(reverse("grids:resident_list"))  # warm the session
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("grids:resident_list"))
    for number in range(30):
        household = household_create(building=world.building, room=f"3{number:02d}")
        resident_create(
            household=household,
            name=f"居民{number}",
            sex="male",
            birth_year=1960,
            id_number=id_number(number, region="310101"),
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("grids:resident_list"))
    assert len(response.context["rows"]) == 33


def test_tags_are_shown_within_scope_and_to_the_resident_for_their_own_household(world):
    client = client_for(world.users[Role.RESIDENT], language=None)
    assert "Elderly living alone" in page(client, reverse("grids:me"))
    client = client_for(world.users[Role.MICRO_GRID_LEAD], language=None)
    assert "Elderly living alone" in page(
        client, reverse("grids:household_detail", args=[world.household.id])
    )


def test_audit_page_shows_reveals_in_the_secretarys_community_only(world):
    resident_reveal(
        user=world.users[Role.STREET_ADMIN],
        resident=world.other_community_resident,
        field="phone",
        purpose="visit_contact",
        reason="C社区 check",
    )
    resident_reveal(
        user=world.users[Role.MICRO_GRID_LEAD],
        resident=world.resident,
        field="phone",
        purpose="visit_contact",
        reason="A社区 check",
    )
    client = client_for(world.users[Role.SECRETARY], language=None)
    content = page(client, reverse("grids:audit"))
    assert "A社区 check" in content
    assert "C社区 check" not in content


def test_language_switch_sets_english_and_back(world):
    client = client_for(world.users[Role.SECRETARY], language=None)
    response = client.post(
        reverse("set_language"), {"language": "en", "next": reverse("grids:grid_tree")}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("grids:grid_tree")
    with translation.override(None):
        english = client.get(reverse("grids:grid_tree")).content.decode()
        assert '<html lang="en">' in english
        assert "Grid tree" in english
        client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
        chinese = client.get(reverse("grids:grid_tree")).content.decode()
        assert '<html lang="zh-hans">' in chinese


def test_chinese_is_the_default_language(world):
    client = client_for(world.users[Role.SECRETARY], language=None)
    with translation.override(None):
        content = client.get(reverse("web:home")).content.decode()
    assert '<html lang="zh-hans">' in content


def test_grid_units_outside_scope_do_not_appear_in_the_grid_filter(world):
    client = client_for(world.users[Role.MICRO_GRID_LEAD], language=None)
    response = client.get(reverse("grids:resident_list"))
    assert list(response.context["grid_choices"]) == [GridUnit.objects.get(code="A1")]


def test_resident_list_pages_by_fifty_and_keeps_the_filter(world):
    for number in range(52):
        household = household_create(building=world.building, room=f"5{number:02d}")
        resident_create(
            household=household,
            name=f"孙{number}",
            sex="female",
            birth_year=1950,
            id_number=id_number(number, region="310101"),
        )
    client = client_for(world.users[Role.SECRETARY], language=None)
    first = client.get(reverse("grids:resident_list"), {"q": "孙"}, **ENGLISH)
    assert len(first.context["rows"]) == 50
    assert "?q=%E5%AD%99&amp;page=2" in first.content.decode()
    second = client.get(reverse("grids:resident_list"), {"q": "孙", "page": 2})
    assert [resident.name for resident, _ in second.context["rows"]] == ["孙50", "孙51"]


def test_household_breadcrumb_starts_at_the_users_own_grid(world):
    client = client_for(world.users[Role.MICRO_GRID_LEAD], language=None)
    response = client.get(reverse("grids:household_detail", args=[world.household.id]))
    assert [unit.code for unit in response.context["crumbs"]] == ["A1", "A1-1"]
    client = client_for(world.users[Role.STREET_ADMIN], language=None)
    response = client.get(reverse("grids:household_detail", args=[world.household.id]))
    assert [unit.code for unit in response.context["crumbs"]] == ["S", "B", "A", "A1", "A1-1"]


def test_resident_list_offers_the_export_of_the_filtered_list_to_who_may_export(world):
    client = client_for(world.users[Role.SECRETARY], language=None)
    content = page(client, f"{reverse('grids:resident_list')}?q=李&grid={world.micro_grid.id}")
    # A form that POSTs the list's filters (exports are never plain GETs).
    assert f'<form method="post" action="{reverse("grids:residents_export")}"' in content
    assert '<input type="hidden" name="q" value="李">' in content
    assert f'<input type="hidden" name="grid" value="{world.micro_grid.id}">' in content
    client = client_for(world.users[Role.BUILDING_GROUP_LEADER], language=None)
    assert reverse("grids:residents_export") not in page(client, reverse("grids:resident_list"))


def test_own_household_page_offers_one_download_the_complete_one(world):
    client = client_for(world.users[Role.RESIDENT], language=None)
    content = page(client, reverse("grids:me"))
    # Everything held about the household (linli.privacy), not the household sheet alone.
    assert content.count('<form method="post" action="/privacy/my-data/">') == 1
    assert content.count('<form method="post"') == 1


def test_menu_links_to_the_import_page_for_who_may_import(world):
    client = client_for(world.users[Role.SECRETARY], language=None)
    assert f'href="{reverse("grids:import")}"' in page(client, reverse("web:home"))
    client = client_for(world.users[Role.MICRO_GRID_LEAD], language=None)
    assert f'href="{reverse("grids:import")}"' not in page(client, reverse("web:home"))
