"""Participation in the case-study community for the demo: the Thursday action day (周四行动日)
and a service fair (便民集市) in the shared living room, the bus-stop topic of the case study's
deliberation platform, and the community-resilience survey opened for residents.

Through the real services only; written once (a community that already has a venue gets
nothing more).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone

from linli import clock
from linli.accounts.models import User
from linli.accounts.roles import Role
from linli.grids.models import GridUnit, RoleAssignment
from linli.participation.activities.services import activity_create, signup_create, venue_create
from linli.participation.deliberation.services import (
    opinion_post,
    round_open,
    topic_create,
    topic_support,
    topic_transition,
)
from linli.participation.models import Venue
from linli.participation.surveys.models import Survey
from linli.participation.surveys.services import survey_copy_template, survey_open


def _next_weekday(weekday: int, hour: int) -> datetime:
    """The next given weekday (Monday 0) at `hour` in Shanghai time, at least a day away."""
    today = clock.localdate() + timedelta(days=1)
    day = today + timedelta(days=(weekday - today.weekday()) % 7)
    return timezone.make_aware(datetime.combine(day, time(hour)))


def demo_participation(*, community: GridUnit) -> bool:
    """Returns whether anything was added."""
    if Venue.objects.filter(community=community).exists():
        return False
    secretary = (
        RoleAssignment.objects.filter(grid_unit=community, role=Role.SECRETARY)
        .select_related("user")
        .order_by("id")
        .first()
        .user
    )
    living_room = venue_create(
        actor=secretary, community=community, name="共享客厅", capacity=40, address="中心花园"
    )
    thursday = _next_weekday(3, 9)
    action_day = activity_create(
        actor=secretary,
        organiser=community,
        kind="action_day",
        title="周四行动日：清洁家园",
        description="每周四上午，党员、志愿者和居民一起清理楼道、绿地和公共区域。",
        capacity=30,
        venue=living_room,
        starts_at=thursday,
        ends_at=thursday + timedelta(hours=2),
        rrule="FREQ=WEEKLY;BYDAY=TH;COUNT=12",
    )
    saturday = _next_weekday(5, 9)
    activity_create(
        actor=secretary,
        organiser=community,
        kind="service_fair",
        title="便民集市",
        description="理发、修表、磨刀、测血压血糖、法律和政策咨询。",
        capacity=40,
        venue=living_room,
        starts_at=saturday,
        ends_at=saturday + timedelta(hours=3),
    )
    resident = User.objects.filter(username="resident").first()
    if resident is not None:
        first = action_day.occurrences.order_by("starts_at").first()
        signup_create(occurrence=first, user=resident)

    # The case study's deliberation platform: residents, deputies and enterprises argued in
    # rounds until a bus route got a new stop.
    topic = topic_create(
        actor=secretary,
        community=community,
        title="小区附近增设公交站点",
        description="居民反映附近没有公交站，老人出行不便。请居民、人大代表和企业共同商议。",
        invited_groups=["resident", "deputy", "enterprise", "committee"],
    )
    topic = topic_transition(actor=secretary, topic=topic, action="open")
    round_open(actor=secretary, topic=topic)
    if resident is not None:
        topic_support(actor=resident, topic=topic)
        opinion_post(
            actor=resident,
            topic=topic,
            body="家里老人去医院要走二十分钟到车站，希望702路能在小区门口设一站。",
            group="resident",
        )

    template = Survey.objects.filter(is_template=True).order_by("id").first()
    if template is not None:
        survey = survey_copy_template(actor=secretary, template=template, community=community)
        survey_open(actor=secretary, survey=survey)
    return True
