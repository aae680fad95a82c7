"""The emergency banner: every page shows the live emergencies that concern the reader,
from the cache, so a page without one costs no query."""

from linli.accounts.roles import Role
from linli.conftest import make_user
from linli.emergency.services import activation_start
from linli.grids.services import role_assign


def banner(client, user) -> str:
    client.force_login(user)
    html = client.get("/").content.decode()
    client.logout()
    if 'data-testid="emergency-banner"' not in html:
        return ""
    start = html.index('data-testid="emergency-banner"')
    return html[start : html.index("</div>", start)]


def test_the_banner_shows_the_drill_to_everyone_it_concerns_and_no_one_else(
    client, emergency_world, plan
):
    world = emergency_world
    outsider = make_user("c-leader")
    role_assign(
        user=outsider, role=Role.SECRETARY, grid_unit=world.other_community, post="party_secretary"
    )
    assert banner(client, world.users[Role.SECRETARY]) == ""
    activation = activation_start(
        actor=world.users[Role.SECRETARY], plan=plan, scope=world.community, grade=3, is_drill=True
    )
    for role in (Role.SECRETARY, Role.STREET_ADMIN, Role.VOLUNTEER, Role.RESIDENT):
        shown = banner(client, world.users[role])
        # Pages render in Chinese, the site's language.
        assert "<strong>演练</strong>" in shown, role
        assert "A社区 · A社区防台防汛预案 · " in shown
    assert f"/emergency/{activation.pk}/board/" in banner(client, world.users[Role.SECRETARY])
    assert banner(client, outsider) == ""


def test_a_page_without_a_live_emergency_spends_no_query_on_the_banner(
    client, world, django_assert_max_num_queries
):
    client.force_login(world.users[Role.SECRETARY])
    client.get("/")
    with django_assert_max_num_queries(50) as queries:
        client.get("/")
    assert not any("emergency_activation" in query["sql"] for query in queries.captured_queries)
