"""One resident's whole participation on a phone, in real Debian Chromium: signs up for the
Thursday action day, checks in by its code, speaks for 居民 on a topic in an open round, and
answers the community-resilience survey."""

from datetime import timedelta

from django.utils import timezone

from linli.accounts.roles import Role
from linli.participation.activities.services import activity_create
from linli.participation.deliberation import services as deliberation
from linli.participation.deliberation.models import Opinion
from linli.participation.models import Occurrence, SignUp
from linli.participation.surveys import services as surveys
from linli.participation.surveys.models import SurveyResponse
from linli.participation.tests.test_survey_browser import resilience_template
from linli.testing.browser import log_in, needs_chromium

pytestmark = needs_chromium


def thursday_action_day(world) -> Occurrence:
    """The weekly 周四行动日 series; its first Thursday is moved to now because the check-in
    code opens only around an occurrence's time and the test may run on any weekday."""
    now = timezone.now().replace(microsecond=0)
    days_ahead = (3 - timezone.localtime(now).weekday()) % 7 or 7
    first = now + timedelta(days=days_ahead)
    activity = activity_create(
        actor=world.users[Role.SECRETARY],
        organiser=world.community,
        kind="action_day",
        title="周四行动日",
        capacity=30,
        starts_at=first,
        ends_at=first + timedelta(hours=3),
        rrule="FREQ=WEEKLY;BYDAY=TH;COUNT=4",
    )
    occurrences = list(activity.occurrences.order_by("starts_at"))
    assert [timezone.localtime(o.starts_at).weekday() for o in occurrences] == [3, 3, 3, 3]
    Occurrence.objects.filter(pk=occurrences[0].pk).update(
        starts_at=now - timedelta(minutes=5), ends_at=now + timedelta(hours=3)
    )
    return Occurrence.objects.get(pk=occurrences[0].pk)


def test_resident_signs_up_checks_in_gives_an_opinion_and_answers_the_survey_on_a_phone(
    transactional_db, live_server, world, phone
):
    base = live_server.url
    resident = world.users[Role.RESIDENT]
    secretary = world.users[Role.SECRETARY]
    occurrence = thursday_action_day(world)
    topic = deliberation.topic_create(
        actor=secretary,
        community=world.community,
        title="加装电梯",
        description="1号楼是否加装电梯，费用如何分摊。",
        invited_groups=["resident"],
    )
    deliberation.topic_transition(actor=secretary, topic=topic, action="open")
    deliberation.round_open(actor=secretary, topic=topic)
    survey = surveys.survey_copy_template(
        actor=secretary, template=resilience_template(), community=world.community
    )
    surveys.survey_open(actor=secretary, survey=survey)
    items = list(survey.items.order_by("pk"))
    assert len(items) == 21
    log_in(phone, base, Role.RESIDENT)

    # 1. Sign up from the list of upcoming activities.
    phone.goto(f"{base}/activities/")
    phone.tap(f"[data-testid=sign-up-{occurrence.pk}]")
    status = phone.locator(f"[data-testid=occurrence-{occurrence.pk}] [data-testid=my-status]")
    status.wait_for()
    assert status.inner_text() == "已报名"
    sign_up = SignUp.objects.get()
    assert (sign_up.occurrence_id, sign_up.user_id, sign_up.status) == (
        occurrence.pk,
        resident.pk,
        "confirmed",
    )

    # 2. Check in by the code's link.
    phone.goto(f"{base}/activities/check-in/{occurrence.check_in_token}/")
    phone.tap("[data-testid=check-in]")
    phone.wait_for_url(f"{base}/activities/{occurrence.pk}/")
    checked_in = phone.wait_for_selector("[data-testid=checked-in]")
    assert checked_in.inner_text().startswith("已签到 ")
    sign_up.refresh_from_db()
    assert (sign_up.status, sign_up.check_in_method, sign_up.checked_in_by_id) == (
        "confirmed",
        "scan",
        resident.pk,
    )
    assert sign_up.checked_in_at is not None

    # 3. An opinion in the open round, speaking for 居民.
    phone.goto(f"{base}/activities/deliberation/{topic.pk}/")
    phone.fill("textarea[name=body]", "同意加装，按楼层分摊费用。")
    # 居民 is the resident's only invited group, so the page asks no "speaking for".
    assert phone.locator("select[name=group]").count() == 0
    phone.tap("[data-testid=post-opinion]")
    phone.locator("[data-testid=opinions]").get_by_text("同意加装，按楼层分摊费用。").wait_for()
    opinion = Opinion.objects.get()
    assert (opinion.topic_id, opinion.author_id, opinion.group, opinion.round.number) == (
        topic.pk,
        resident.pk,
        "resident",
        1,
    )
    assert "居民" in phone.inner_text(f"[data-testid=opinion-{opinion.pk}] .tag")

    # 4. The resilience survey, every item answered.
    phone.goto(f"{base}/activities/surveys/")
    phone.tap(f"[data-testid=open-surveys] a[href='/activities/surveys/{survey.pk}/']")
    for item in items:
        phone.check(f"input[name=item_{item.pk}][value='3']")
    phone.tap("[data-testid=submit-survey]")
    phone.wait_for_selector("[data-testid=already-answered]")
    # The page is finished before the test ends, so no request still holds a connection.
    phone.wait_for_load_state("networkidle")
    response = SurveyResponse.objects.get()
    assert response.survey_id == survey.pk
    assert sorted(response.answers.values_list("item_id", flat=True)) == [i.pk for i in items]
    assert set(response.answers.values_list("value", flat=True)) == {3}
