from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from linli.accounts.roles import Role
from linli.notify.models import Notification
from linli.participation.activities.services import (
    activity_update,
    feedback_submit,
    minutes_record,
    occurrence_cancel,
    occurrence_check_in,
    occurrence_close,
    reminders_send,
    signup_cancel,
    signup_check_in,
    signup_check_out,
    signup_create,
    stall_add,
    stall_record_served,
    venue_create,
)
from linli.participation.models import Activity, Feedback, Occurrence, SignUp, Stall, Venue
from linli.participation.tests.conftest import make_activity
from linli.participation.tests.helpers import approved_volunteer, member
from linli.volunteers.models import ServiceHoursEntry
from linli.volunteers.services import team_create

SHANGHAI = ZoneInfo("Asia/Shanghai")


def field_of(error: ValidationError) -> str:
    return next(iter(error.value.message_dict))


# Sign-up, waitlist, promotion -----------------------------------------------------------


def test_sign_ups_fill_the_places_then_the_waitlist(world, occurrence):
    first, second, third = member(world, "a"), member(world, "b"), member(world, "c")
    statuses = [signup_create(occurrence=occurrence, user=u).status for u in (first, second, third)]
    assert statuses == ["confirmed", "confirmed", "waitlisted"]


def test_cancelling_a_place_promotes_the_first_waitlisted_and_tells_them(world, occurrence):
    holder = signup_create(occurrence=occurrence, user=world.users[Role.RESIDENT])
    signup_create(occurrence=occurrence, user=member(world, "b"))
    first_waiting = member(world, "c")
    signup_create(occurrence=occurrence, user=first_waiting)
    signup_create(occurrence=occurrence, user=member(world, "d"))

    signup_cancel(sign_up=holder, actor=world.users[Role.RESIDENT])

    rows = dict(
        SignUp.objects.filter(occurrence=occurrence).values_list("user__username", "status")
    )
    assert rows == {"resident": "cancelled", "b": "confirmed", "c": "confirmed", "d": "waitlisted"}
    note = Notification.objects.get(kind="activity.promoted")
    assert note.recipient == first_waiting
    # Stored in the site's language, shown in the reader's (English here).
    assert (note.title, note.display_title) == (
        "您已获得名额：周四行动日",
        "You have a place: 周四行动日",
    )
    assert note.link == f"/activities/{occurrence.pk}/"


def test_cancelling_a_waitlisted_sign_up_promotes_nobody(world, occurrence):
    signup_create(occurrence=occurrence, user=member(world, "a"))
    signup_create(occurrence=occurrence, user=member(world, "b"))
    waiting = signup_create(occurrence=occurrence, user=member(world, "c"))
    signup_cancel(sign_up=waiting, actor=waiting.user)
    assert Notification.objects.filter(kind="activity.promoted").count() == 0


def test_cancelling_twice_is_refused(world, occurrence):
    sign_up = signup_create(occurrence=occurrence, user=world.users[Role.RESIDENT])
    signup_cancel(sign_up=sign_up, actor=sign_up.user)
    with pytest.raises(ValidationError) as error:
        signup_cancel(sign_up=sign_up, actor=sign_up.user)
    assert field_of(error) == "sign_up"


def test_someone_else_cannot_cancel_my_place(world, occurrence):
    sign_up = signup_create(occurrence=occurrence, user=world.users[Role.RESIDENT])
    with pytest.raises(ValidationError) as error:
        signup_cancel(sign_up=sign_up, actor=world.users[Role.VOLUNTEER])
    assert error.value.code == "permission_denied"
    assert SignUp.objects.get().status == "confirmed"


def test_signing_up_twice_is_refused_naming_the_occurrence(world, occurrence):
    signup_create(occurrence=occurrence, user=world.users[Role.RESIDENT])
    with pytest.raises(ValidationError) as error:
        signup_create(occurrence=occurrence, user=world.users[Role.RESIDENT])
    assert error.value.message_dict == {
        "occurrence": ["You have already signed up for this activity."]
    }
    assert SignUp.objects.count() == 1


def test_a_person_of_another_community_cannot_sign_up(world, occurrence):
    outsider = member(world, "far", unit=world.other_community)
    with pytest.raises(ValidationError) as error:
        signup_create(occurrence=occurrence, user=outsider)
    assert error.value.code == "permission_denied"
    assert SignUp.objects.count() == 0


def test_an_invited_community_sees_and_joins_a_round_table(world):
    # A street administrator widens an invitation beyond one community (hole 14).
    activity = make_activity(
        world,
        actor=world.users[Role.STREET_ADMIN],
        kind="round_table",
        title="圆桌交流会：楼道堆物",
        invited_communities=[world.other_community],
        invited_posts="居民区书记、楼组长",
    )
    guest = member(world, "guest", unit=world.other_community)
    sign_up = signup_create(occurrence=activity.occurrences.get(), user=guest)
    assert sign_up.status == "confirmed"


def test_raising_the_capacity_promotes_the_waitlist(world, activity, occurrence):
    for name in ("a", "b", "c", "d"):
        signup_create(occurrence=occurrence, user=member(world, name))
    activity_update(
        actor=world.users[Role.SECRETARY], activity=activity, title=activity.title, capacity=3
    )
    statuses = list(
        SignUp.objects.filter(occurrence=occurrence).order_by("id").values_list("status", flat=True)
    )
    assert statuses == ["confirmed", "confirmed", "confirmed", "waitlisted"]
    assert Occurrence.objects.get().capacity == 3


def test_lowering_the_capacity_below_the_places_given_is_refused(world, activity, occurrence):
    signup_create(occurrence=occurrence, user=member(world, "a"))
    signup_create(occurrence=occurrence, user=member(world, "b"))
    with pytest.raises(ValidationError) as error:
        activity_update(
            actor=world.users[Role.SECRETARY], activity=activity, title="新名字", capacity=1
        )
    assert field_of(error) == "capacity"
    activity.refresh_from_db()
    assert (activity.title, activity.capacity) == ("周四行动日", 2)


# Creating activities and series ---------------------------------------------------------


def test_a_weekly_rrule_makes_one_occurrence_per_thursday_at_local_time(world):
    first = datetime(2030, 1, 3, 9, 0, tzinfo=SHANGHAI)  # a Thursday
    activity = make_activity(
        world,
        starts_in=timedelta(0),
        starts_at=first,
        ends_at=first + timedelta(hours=2),
        rrule="FREQ=WEEKLY;BYDAY=TH;COUNT=4",
    )
    starts = [
        timezone.localtime(o.starts_at, SHANGHAI).strftime("%a %Y-%m-%d %H:%M")
        for o in activity.occurrences.order_by("starts_at")
    ]
    assert starts == [
        "Thu 2030-01-03 09:00",
        "Thu 2030-01-10 09:00",
        "Thu 2030-01-17 09:00",
        "Thu 2030-01-24 09:00",
    ]
    tokens = set(activity.occurrences.values_list("check_in_token", flat=True))
    assert len(tokens) == 4


def test_an_open_ended_series_stops_at_the_horizon(world):
    first = datetime(2030, 1, 3, 9, 0, tzinfo=SHANGHAI)
    activity = make_activity(
        world, starts_at=first, ends_at=first + timedelta(hours=1), rrule="RRULE:FREQ=WEEKLY"
    )
    assert activity.occurrences.count() == 53


def test_each_occurrence_keeps_its_own_sign_ups(world):
    first = datetime(2030, 1, 3, 9, 0, tzinfo=SHANGHAI)
    activity = make_activity(
        world,
        capacity=1,
        starts_at=first,
        ends_at=first + timedelta(hours=2),
        rrule="FREQ=WEEKLY;COUNT=2",
    )
    one, two = activity.occurrences.order_by("starts_at")
    assert signup_create(occurrence=one, user=member(world, "a")).status == "confirmed"
    assert signup_create(occurrence=two, user=member(world, "b")).status == "confirmed"
    assert signup_create(occurrence=one, user=member(world, "c")).status == "waitlisted"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"capacity": 0}, "capacity", "The capacity must be at least 1."),
        ({"capacity": "x"}, "capacity", "Give the capacity as a whole number."),
        ({"title": "  "}, "title", "Give the activity a title."),
        ({"kind": "party"}, "kind", "Unknown kind of activity: party"),
        ({"rrule": "FREQ=SOMETIMES"}, "rrule", None),
        ({"rrule": "BYDAY=TH"}, "rrule", None),
        ({"rrule": "FREQ=HOURLY;COUNT=3"}, "rrule", "An activity repeats at most once a day."),
        (
            {"rrule": "FREQ=WEEKLY;UNTIL=20000101T000000"},
            "rrule",
            "The repeat rule yields no dates.",
        ),
    ],
)
def test_bad_activity_input_is_refused_naming_the_field(world, changes, field, message):
    with pytest.raises(ValidationError) as error:
        make_activity(world, **changes)
    assert field_of(error) == field
    if message:
        assert error.value.message_dict[field] == [message]
    else:
        assert error.value.message_dict[field][0].startswith("Not a valid repeat rule (RRULE)")
    assert Activity.objects.count() == 0
    assert Occurrence.objects.count() == 0


def test_an_end_before_the_start_is_refused(world):
    start = timezone.now() + timedelta(days=1)
    with pytest.raises(ValidationError) as error:
        make_activity(world, starts_at=start, ends_at=start - timedelta(minutes=1))
    assert error.value.message_dict == {"ends_at": ["The end must be after the start."]}
    assert Activity.objects.count() == 0


def test_the_venue_caps_the_capacity(world):
    venue = venue_create(
        actor=world.users[Role.SECRETARY], community=world.community, name="共享客厅", capacity=20
    )
    with pytest.raises(ValidationError) as error:
        make_activity(world, venue=venue, capacity=21)
    assert error.value.message_dict == {"capacity": ["The venue holds at most 20 people."]}
    assert make_activity(world, venue=venue, capacity=20).venue == venue


def test_a_venue_with_no_capacity_is_refused(world):
    with pytest.raises(ValidationError) as error:
        venue_create(
            actor=world.users[Role.SECRETARY], community=world.community, name="门卫室", capacity=0
        )
    assert field_of(error) == "capacity"
    assert Venue.objects.count() == 0


@pytest.mark.parametrize("role", [Role.BUILDING_GROUP_LEADER, Role.VOLUNTEER, Role.RESIDENT])
def test_people_without_the_permission_cannot_organise(world, role):
    with pytest.raises(ValidationError) as error:
        make_activity(world, actor=world.users[role])
    assert error.value.code == "permission_denied"
    assert Activity.objects.count() == 0


def test_a_micro_grid_lead_organises_in_their_micro_grid_only(world):
    lead = world.users[Role.MICRO_GRID_LEAD]
    assert make_activity(world, actor=lead, organiser=world.micro_grid).grid_path == "/S/B/A/A1/"
    with pytest.raises(ValidationError):
        make_activity(world, actor=lead, organiser=world.community)
    assert Activity.objects.count() == 1


# Check-in, hours ------------------------------------------------------------------------


def running(world, **kwargs):
    """An occurrence that started ten minutes ago."""
    return make_activity(world, starts_in=timedelta(minutes=-10), **kwargs).occurrences.get()


def test_scanning_the_code_checks_a_participant_in(world):
    occurrence = running(world)
    resident = world.users[Role.RESIDENT]
    signup_create(occurrence=occurrence, user=resident)
    sign_up = occurrence_check_in(token=occurrence.check_in_token, user=resident)
    assert sign_up.checked_in_at is not None
    assert sign_up.check_in_method == "scan"


def test_a_walk_in_with_a_free_place_is_checked_in(world):
    occurrence = running(world)
    sign_up = occurrence_check_in(token=occurrence.check_in_token, user=world.users[Role.RESIDENT])
    assert (sign_up.status, sign_up.check_in_method) == ("confirmed", "scan")


def test_a_wrong_token_is_refused_naming_the_token(world):
    occurrence = running(world)
    signup_create(occurrence=occurrence, user=world.users[Role.RESIDENT])
    with pytest.raises(ValidationError) as error:
        occurrence_check_in(token="not-the-code", user=world.users[Role.RESIDENT])
    assert error.value.message_dict == {"token": ["This check-in code is not valid."]}
    assert SignUp.objects.get().checked_in_at is None


def test_a_code_outside_its_time_is_refused(world, occurrence):
    signup_create(occurrence=occurrence, user=world.users[Role.RESIDENT])
    with pytest.raises(ValidationError) as error:
        occurrence_check_in(token=occurrence.check_in_token, user=world.users[Role.RESIDENT])
    assert error.value.message_dict == {
        "token": ["This check-in code is not open now (outside the activity's time)."]
    }
    assert SignUp.objects.get().checked_in_at is None


def test_a_waitlisted_person_cannot_check_in(world):
    occurrence = running(world, capacity=1)
    signup_create(occurrence=occurrence, user=member(world, "a"))
    signup_create(occurrence=occurrence, user=world.users[Role.RESIDENT])
    with pytest.raises(ValidationError) as error:
        occurrence_check_in(token=occurrence.check_in_token, user=world.users[Role.RESIDENT])
    assert error.value.message_dict == {"token": ["You are on the waitlist and have no place yet."]}


def test_closing_credits_a_volunteers_hours_once(world):
    occurrence = running(world, hours=2)
    user = world.users[Role.VOLUNTEER]
    volunteer = approved_volunteer(world, user)
    resident = world.users[Role.RESIDENT]
    secretary = world.users[Role.SECRETARY]
    signup_create(occurrence=occurrence, user=user)
    signup_create(occurrence=occurrence, user=resident)
    occurrence_check_in(token=occurrence.check_in_token, user=user)
    occurrence_check_in(token=occurrence.check_in_token, user=resident)

    assert occurrence_close(occurrence=occurrence, actor=secretary) == 1
    assert occurrence_close(occurrence=occurrence, actor=secretary) == 0

    entry = ServiceHoursEntry.objects.get()
    assert (entry.volunteer, entry.hours, entry.source_kind, entry.source_id) == (
        volunteer,
        Decimal("2.00"),
        "activity",
        occurrence.pk,
    )
    assert entry.occurred_on == timezone.localdate(occurrence.starts_at)
    assert Occurrence.objects.get().state == "closed"


def test_checking_out_credits_hours_and_closing_does_not_credit_again(world):
    occurrence = running(world, hours=3)
    user = world.users[Role.VOLUNTEER]
    approved_volunteer(world, user)
    sign_up = signup_create(occurrence=occurrence, user=user)
    signup_check_in(sign_up=sign_up, actor=world.users[Role.SECRETARY])
    signup_check_out(sign_up=sign_up, actor=user)
    occurrence_close(occurrence=occurrence, actor=world.users[Role.SECRETARY])
    assert list(ServiceHoursEntry.objects.values_list("hours", flat=True)) == [Decimal("3.00")]


def test_closing_before_the_start_is_refused(world, occurrence):
    with pytest.raises(ValidationError) as error:
        occurrence_close(occurrence=occurrence, actor=world.users[Role.SECRETARY])
    assert error.value.message_dict == {"occurrence": ["The occurrence has not started yet."]}
    assert Occurrence.objects.get().state == "scheduled"


# Feedback -------------------------------------------------------------------------------


def test_feedback_is_refused_before_the_occurrence_is_over(world, occurrence):
    signup_create(occurrence=occurrence, user=world.users[Role.RESIDENT])
    with pytest.raises(ValidationError) as error:
        feedback_submit(occurrence=occurrence, user=world.users[Role.RESIDENT], rating=5)
    assert error.value.message_dict == {"occurrence": ["Feedback opens when the activity is over."]}
    assert Feedback.objects.count() == 0


def test_feedback_after_the_occurrence_once_per_participant(world):
    occurrence = running(world)
    resident = world.users[Role.RESIDENT]
    signup_create(occurrence=occurrence, user=resident)
    Occurrence.objects.filter(pk=occurrence.pk).update(
        ends_at=timezone.now() - timedelta(minutes=1)
    )
    occurrence.refresh_from_db()
    with pytest.raises(ValidationError) as error:
        feedback_submit(occurrence=occurrence, user=resident, rating=6)
    assert error.value.message_dict == {"rating": ["Give a rating from 1 to 5."]}
    saved = feedback_submit(occurrence=occurrence, user=resident, rating=4, comment=" 很好 ")
    assert (saved.rating, saved.comment) == (4, "很好")
    with pytest.raises(ValidationError) as error:
        feedback_submit(occurrence=occurrence, user=resident, rating=5)
    assert error.value.message_dict == {"occurrence": ["You have already left feedback."]}
    assert Feedback.objects.count() == 1


# Reminders ------------------------------------------------------------------------------


def test_a_reminder_is_sent_once_per_place_a_day_ahead(world):
    occurrence = make_activity(world, capacity=1, starts_in=timedelta(hours=12)).occurrences.get()
    later = make_activity(world, starts_in=timedelta(days=3)).occurrences.get()
    signup_create(occurrence=occurrence, user=world.users[Role.RESIDENT])
    signup_create(occurrence=occurrence, user=member(world, "waiting"))
    signup_create(occurrence=later, user=member(world, "later"))

    assert reminders_send() == 1
    assert reminders_send() == 0
    note = Notification.objects.get(kind="activity.reminder")
    assert note.recipient == world.users[Role.RESIDENT]
    assert (note.title, note.display_title) == ("活动提醒：周四行动日", "Reminder: 周四行动日")


# Stalls and minutes ---------------------------------------------------------------------


def test_a_service_fair_records_stalls_and_people_served(world):
    secretary = world.users[Role.SECRETARY]
    fair = make_activity(world, kind="service_fair", title="便民集市").occurrences.get()
    volunteer = approved_volunteer(world, world.users[Role.VOLUNTEER], name="理发师傅")
    team = team_create(
        actor=secretary, community=world.community, kind="care", name="关爱帮扶", target_size=5
    )
    haircut = stall_add(
        actor=secretary,
        occurrence=fair,
        service="haircut",
        provider_kind="volunteer",
        provider_id=volunteer.pk,
    )
    stall_add(
        actor=secretary,
        occurrence=fair,
        service="blood_pressure",
        provider_kind="team",
        provider_id=team.pk,
    )
    stall_record_served(actor=secretary, stall=haircut, served_count=23)
    rows = list(
        Stall.objects.order_by("id").values_list("service", "provider_kind", "served_count")
    )
    assert rows == [("haircut", "volunteer", 23), ("blood_pressure", "team", None)]
    assert str(Stall.objects.get(pk=haircut.pk)) == "Haircut · 理发师傅"


def test_a_stall_needs_a_fair_and_a_provider_of_the_community(world, occurrence):
    secretary = world.users[Role.SECRETARY]
    with pytest.raises(ValidationError) as error:
        stall_add(
            actor=secretary,
            occurrence=occurrence,
            service="haircut",
            provider_kind="team",
            provider_id=1,
        )
    assert field_of(error) == "occurrence"
    fair = make_activity(world, kind="service_fair").occurrences.get()
    with pytest.raises(ValidationError) as error:
        stall_add(
            actor=secretary,
            occurrence=fair,
            service="haircut",
            provider_kind="team",
            provider_id=999,
        )
    assert field_of(error) == "provider_id"
    with pytest.raises(ValidationError) as error:
        stall_record_served(actor=secretary, stall=Stall(grid_path=fair.grid_path), served_count=-1)
    assert field_of(error) == "served_count"
    assert Stall.objects.count() == 0


def test_a_round_table_keeps_minutes_and_decisions(world, occurrence):
    secretary = world.users[Role.SECRETARY]
    table = make_activity(world, kind="round_table", title="圆桌交流会").occurrences.get()
    minutes_record(
        actor=secretary, occurrence=table, minutes="讨论电瓶车充电", decisions="增设充电桩"
    )
    table.refresh_from_db()
    assert (table.minutes, table.decisions) == ("讨论电瓶车充电", "增设充电桩")
    with pytest.raises(ValidationError) as error:
        minutes_record(actor=secretary, occurrence=occurrence, minutes="x", decisions="")
    assert field_of(error) == "occurrence"


def test_the_beat_schedule_runs_the_reminder_task(world, settings):
    from linli.participation.tasks import remind_upcoming

    entry = settings.LINLI_JOBS["participation-remind-upcoming"]
    assert (entry["task"], entry["schedule"]) == ("participation.remind_upcoming", 3600.0)
    occurrence = make_activity(world, starts_in=timedelta(hours=2)).occurrences.get()
    signup_create(occurrence=occurrence, user=world.users[Role.RESIDENT])
    assert remind_upcoming.delay().get() == 1
    assert SignUp.objects.get().reminded_at is not None


def test_cancelling_an_occurrence_tells_everyone_signed_up_or_waiting(world):
    occurrence = make_activity(world, capacity=1).occurrences.get()
    signup_create(occurrence=occurrence, user=world.users[Role.RESIDENT])
    signup_create(occurrence=occurrence, user=member(world, "waiting"))
    secretary = world.users[Role.SECRETARY]
    with pytest.raises(ValidationError) as error:
        occurrence_cancel(occurrence=occurrence, actor=secretary, reason=" ")
    assert field_of(error) == "reason"
    assert Notification.objects.count() == 0

    occurrence_cancel(occurrence=occurrence, actor=secretary, reason="台风预警")

    assert Occurrence.objects.get().state == "cancelled"
    notes = Notification.objects.filter(kind="activity.cancelled").order_by("recipient__username")
    assert [n.recipient.username for n in notes] == ["resident", "waiting"]
    assert (notes[0].title, notes[0].display_title) == (
        "活动取消：周四行动日",
        "Cancelled: 周四行动日",
    )
    assert notes[0].body.endswith("is cancelled: 台风预警")
    with pytest.raises(ValidationError) as error:
        signup_create(occurrence=occurrence, user=member(world, "late"))
    assert error.value.message_dict == {"occurrence": ["This activity is not taking sign-ups."]}
