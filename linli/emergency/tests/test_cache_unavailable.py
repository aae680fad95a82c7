"""The emergency switch works with the cache down: the banner's cache is an optimisation.

A fault probe found that with Redis stopped, activation, regrade and stand-down answered 500
and rolled back (the banner's `cache.delete` inside the transaction), and every logged-in page
was a 500 (the banner reads the cache). Here against a real redis-server of the test's own,
configured as settings.py configures a deployment with LINLI_REDIS_URL.
"""

import pytest
import redis.exceptions
from django.test import Client

from linli.accounts.roles import Role
from linli.emergency.models import Activation
from linli.emergency.services import activation_start
from linli.ops import cache as fail_soft
from linli.ops.tests.services import needs_redis_server, production_settings, running_redis

pytestmark = [pytest.mark.faults, needs_redis_server]

URL = "/api/v1/emergency"


@pytest.fixture
def stopped_redis_cache(tmp_path, settings):
    """settings.CACHES of a deployment whose Redis has just stopped."""
    with running_redis(tmp_path) as server:
        caches = production_settings(LINLI_REDIS_URL=server.url)["CACHES"]
        server.stop()
        yield caches
    fail_soft._resting_until.clear()


def banner(client: Client) -> str:
    html = client.get("/").content.decode()
    if 'data-testid="emergency-banner"' not in html:
        return ""
    start = html.index('data-testid="emergency-banner"')
    return html[start : html.index("</div>", start)]


def test_without_the_fail_soft_cache_a_stopped_redis_rolls_the_activation_back(
    emergency_world, plan, stopped_redis_cache, settings
):
    # The fault as found, with Django's own backend: the switch itself fails.
    settings.CACHES = {
        "default": {
            **stopped_redis_cache["default"],
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
        }
    }
    with pytest.raises(redis.exceptions.ConnectionError):
        activation_start(
            actor=emergency_world.users[Role.SECRETARY],
            plan=plan,
            scope=emergency_world.community,
            grade=3,
            is_drill=True,
        )
    assert not Activation.objects.exists()


def test_activate_regrade_and_stand_down_work_from_the_database_with_redis_stopped(
    emergency_world, plan, stopped_redis_cache, settings
):
    world = emergency_world
    settings.CACHES = stopped_redis_cache
    secretary = Client(headers={"Accept-Language": "en"})
    secretary.force_login(world.users[Role.SECRETARY])
    resident = Client()
    resident.force_login(world.users[Role.RESIDENT])
    assert banner(resident) == ""

    response = secretary.post(
        f"{URL}/activations",
        {"plan_id": plan.pk, "scope_id": world.community.pk, "grade": 4, "is_drill": True},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    activation = Activation.objects.get()
    # Every page still renders, and the banner is read from the database.
    assert "<strong>演练</strong>" in banner(resident)

    response = secretary.post(
        f"{URL}/activations/{activation.pk}/grade", {"grade": 2}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    activation.refresh_from_db()
    assert activation.grade == 2

    response = secretary.post(
        f"{URL}/activations/{activation.pk}/stand-down",
        {"reason": "台风已过境"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    activation.refresh_from_db()
    assert not activation.is_active
    assert banner(resident) == ""
