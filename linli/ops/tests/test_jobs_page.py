"""The jobs page (/ops/jobs/): street administrators and superusers only; each job's schedule,
last run, next run and history; a late or failing job, or a silent scheduler, is an alert."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from linli.accounts.models import User
from linli.accounts.roles import Role
from linli.conftest import World, make_user
from linli.grids.services import role_assign
from linli.ops.models import JobRun, JobState, SchedulerHeartbeat
from linli.ops.scheduler import Scheduler
from linli.ops.tests import jobs_support
from linli.ops.tests.jobs_support import SUNDAY_NOON, TEST_JOBS
from linli.testing.clients import client_for

URL = "/ops/jobs/"


@pytest.fixture
def test_jobs(settings):
    settings.LINLI_JOBS = {
        **TEST_JOBS,
        "broken": {"task": "ops_tests.fail", "schedule": 900},
    }
    settings.LINLI_SCHEDULER_TICK_SECONDS = 10
    jobs_support.RUNS.clear()
    return settings.LINLI_JOBS


def job_tables() -> list:
    """What a page view must leave alone."""
    return [
        list(JobState.objects.order_by("pk").values_list()),
        list(JobRun.objects.order_by("pk").values_list()),
        list(SchedulerHeartbeat.objects.order_by("pk").values_list()),
    ]


def test_the_url_is_ops_jobs():
    assert reverse("ops:jobs") == URL


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.STREET_ADMIN, 200),
        (Role.SECRETARY, 404),
        (Role.MICRO_GRID_LEAD, 404),
        (Role.BUILDING_GROUP_LEADER, 404),
        (Role.VOLUNTEER, 404),
        (Role.PARTNER_LIAISON, 404),
        (Role.RESIDENT, 404),
    ],
)
def test_only_street_administrators_see_the_jobs_page(world: World, test_jobs, role, status):
    with time_machine.travel(SUNDAY_NOON, tick=False):
        Scheduler().run_due_once(then_stop=False)
        before = job_tables()
        response = client_for(world.users[role]).get(URL)
    assert response.status_code == status
    assert job_tables() == before
    home = client_for(world.users[role]).get("/")
    assert (b'data-testid="jobs-link"' in home.content) == (status == 200)


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_log_in(test_jobs):
    response = client_for(None).get(URL)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={URL}"


@pytest.mark.django_db
def test_a_superuser_and_a_street_administrator_on_a_block_see_it(world: World, test_jobs):
    superuser = User.objects.create_superuser(username="root", password="x" * 20)
    assert client_for(superuser).get(URL).status_code == 200
    block_admin = make_user("block-admin")
    role_assign(
        user=block_admin, role=Role.STREET_ADMIN, grid_unit=world.block, post="street_admin"
    )
    assert client_for(block_admin).get(URL).status_code == 200


@pytest.mark.django_db
def test_the_page_shows_each_job_and_raises_an_alert_for_a_failing_one(world: World, test_jobs):
    with time_machine.travel(SUNDAY_NOON, tick=False):
        Scheduler().run_due_once(then_stop=False)
    with time_machine.travel(SUNDAY_NOON + timedelta(seconds=5), tick=False):
        page = client_for(world.users[Role.STREET_ADMIN]).get(URL).content.decode()
    assert 'data-job="count-every-minute" data-status="ok"' in page
    assert 'data-job="count-weekly" data-status="new"' in page
    assert 'data-job="broken" data-status="failing"' in page
    assert "Every minute" in page
    assert "Every week on Monday at 01:30" in page
    assert "Every 15 minutes" in page
    # Times in Asia/Shanghai: the run at 12:00, the next a minute later, the weekly Monday.
    assert "2027-03-07 12:00:00" in page
    assert "2027-03-07 12:01:00" in page
    assert "2027-03-08 01:30:00" in page
    assert "RuntimeError: the gateway did not answer" in page
    assert 'data-testid="job-alerts"' in page
    assert "“broken” failed on its last run" in page
    assert "Scheduler running" in page and "last reported 5 seconds ago" in page


@pytest.mark.django_db
def test_a_late_job_is_an_alert_while_the_scheduler_runs(world: World, test_jobs, settings):
    settings.LINLI_JOBS = {"count-every-minute": TEST_JOBS["count-every-minute"]}
    admin = world.users[Role.STREET_ADMIN]
    with time_machine.travel(SUNDAY_NOON, tick=False):
        Scheduler().run_due_once(then_stop=False)
        page = client_for(admin).get(URL).content.decode()
    assert 'data-testid="jobs-all-well"' in page
    assert 'data-testid="job-alerts"' not in page
    later = SUNDAY_NOON + timedelta(minutes=10)
    # A scheduler beats but does not run the job (stuck on something else): the job is late.
    SchedulerHeartbeat.objects.update(beat_at=later, stopped_at=None)
    with time_machine.travel(later, tick=False):
        page = client_for(admin).get(URL).content.decode()
    assert 'data-job="count-every-minute" data-status="late"' in page
    assert "“Send" not in page  # the test job has no title of its own: its name is shown
    assert "<p>“count-every-minute” is late: it was due and has not run.</p>" in page
    assert "Scheduler running" in page


def job_card(page: str, name: str) -> str:
    start = page.index(f'data-job="{name}"')
    return page[start : page.index("</section>", start)]


@pytest.mark.django_db
def test_with_the_scheduler_stopped_every_job_says_it_waits_for_one(
    world: World, test_jobs, settings
):
    settings.LINLI_JOBS = {"count-every-minute": TEST_JOBS["count-every-minute"]}
    admin = world.users[Role.STREET_ADMIN]
    with time_machine.travel(SUNDAY_NOON, tick=False):
        Scheduler().run_due_once(then_stop=False)
    # 70 s on, the scheduler (tick 10 s) is silent and the job due (12:01) but not yet late.
    with time_machine.travel(SUNDAY_NOON + timedelta(seconds=70), tick=False):
        english = client_for(admin).get(URL).content.decode()
        chinese = client_for(admin, language="zh-hans").get(URL).content.decode()
    card = job_card(english, "count-every-minute")
    assert 'data-status="waiting"' in card
    assert '<span class="tag" data-testid="job-status">Waiting: no scheduler running</span>' in card
    assert (
        '<span class="muted" data-testid="next-run-waiting">waiting: no scheduler running</span>'
        in card
    )
    assert "On time" not in card and "due now" not in card
    assert (
        "<p>The scheduler last reported 70 seconds ago: periodic jobs are not running. "
        "Restart <code>linli serve</code>, or the <code>linli scheduler</code> service in "
        "production.</p>"
    ) in english
    assert "`" not in english
    card = job_card(chinese, "count-every-minute")
    assert '<span class="tag" data-testid="job-status">等待：调度器未运行</span>' in card
    assert '<span class="muted" data-testid="next-run-waiting">等待：调度器未运行</span>' in card
    assert (
        "<p>调度器最近一次报告在70 秒前，定时任务没有运行。请重启 <code>linli serve</code>；"
        "生产环境请重启 <code>linli scheduler</code> 服务。</p>"
    ) in chinese
    assert "`" not in chinese and "按时</span>" not in card and "已到期" not in card
    # Ten minutes on, the job is past its allowance, but the one alert is the scheduler's.
    with time_machine.travel(SUNDAY_NOON + timedelta(minutes=10), tick=False):
        page = client_for(admin).get(URL).content.decode()
    assert 'data-job="count-every-minute" data-status="waiting"' in page
    assert "is late" not in page
    assert "The scheduler last reported 10 minutes ago" in page
    assert "Scheduler stopped" in page


@pytest.mark.django_db
def test_before_any_scheduler_ran_the_alert_names_the_commands(world: World, test_jobs):
    with time_machine.travel(SUNDAY_NOON, tick=False):
        page = client_for(world.users[Role.STREET_ADMIN]).get(URL).content.decode()
    assert (
        "<p>No scheduler has run yet, so no periodic job runs. <code>linli serve</code> starts "
        "one; in production, start the <code>linli scheduler</code> service.</p>"
    ) in page
    assert page.count('data-status="waiting"') == len(test_jobs)


@pytest.mark.django_db
def test_the_page_is_in_chinese_first(world: World, test_jobs):
    with time_machine.travel(SUNDAY_NOON, tick=False):
        Scheduler().run_due_once(then_stop=False)
        page = client_for(world.users[Role.STREET_ADMIN], language="zh-hans").get(URL)
    assert page.status_code == 200
    assert '<html lang="zh-hans">' in page.content.decode()
