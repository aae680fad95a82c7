"""Every write about activities: venues, activities and their occurrences, sign-ups with the
waitlist, check-in, attendance turned into service hours, stalls, minutes, feedback and
reminders. One named action, one transaction each; a refused action raises ValidationError
naming the field and writes nothing.

Who may act: staff with ACTIVITIES_MANAGE on the activity's grid path organise; anyone who
can see an occurrence (activities.selectors) may sign up, cancel their own place, check
in with the occurrence's code and leave feedback.

Places are counted under a row lock on the occurrence: every sign-up, cancellation and
capacity change takes it first, so two people taking the last place at once are served one
after the other and the second lands on the waitlist.
"""

from datetime import datetime, timedelta

from dateutil.rrule import DAILY, rrulestr
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from linli import clock
from linli.accounts.grid_paths import is_within
from linli.accounts.models import User
from linli.cases.services import photos_prepare, photos_store
from linli.columns import column_fit
from linli.errors import NotAllowed
from linli.grids.models import GridLevel, GridUnit
from linli.notify.services import notification_send
from linli.participation import notices
from linli.participation.activities import selectors
from linli.participation.activities.models import (
    Activity,
    ActivityKind,
    ActivityPhoto,
    CheckInMethod,
    Feedback,
    Occurrence,
    OccurrenceState,
    ProviderKind,
    SignUp,
    SignUpStatus,
    Stall,
    StallService,
    Venue,
)
from linli.volunteers.models import HoursSource, Volunteer
from linli.volunteers.services import service_hours_record

# A series generates its dates up to a year ahead and never more than this many.
MAX_OCCURRENCES = 104
SERIES_HORIZON = timedelta(days=366)
MAX_CAPACITY = 10000


def _require_manage(actor: User, grid_path: str, message: str) -> None:
    if not selectors.may_manage(actor, grid_path):
        raise NotAllowed(message)


def _locked_occurrence(occurrence: Occurrence) -> Occurrence:
    return Occurrence.objects.select_for_update().get(pk=occurrence.pk)


def _confirmed_count(occurrence: Occurrence) -> int:
    return SignUp.objects.filter(occurrence=occurrence, status=SignUpStatus.CONFIRMED).count()


def _capacity(value, field: str = "capacity") -> int:
    try:
        capacity = int(value)
    except (TypeError, ValueError):
        raise ValidationError({field: _("Give the capacity as a whole number.")}) from None
    if capacity < 1:
        raise ValidationError({field: _("The capacity must be at least 1.")})
    if capacity > MAX_CAPACITY:
        raise ValidationError({field: _("The capacity can be at most 10000.")})
    return capacity


def _detail_link(occurrence: Occurrence) -> str:
    return reverse("participation:detail", args=[occurrence.pk])


# Venues ---------------------------------------------------------------------------------


@transaction.atomic
def venue_create(
    *, actor: User, community: GridUnit, name: str, capacity: int, address: str = ""
) -> Venue:
    if community.level != GridLevel.COMMUNITY:
        raise ValidationError({"community": _("A venue belongs to a community.")})
    _require_manage(actor, community.path, _("You may not add venues to this community."))
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the venue a name.")})
    capacity = _capacity(capacity)
    if Venue.objects.filter(community=community, name=name).exists():
        raise ValidationError({"name": _("This community already has a venue of that name.")})
    return Venue.objects.create(
        community=community,
        grid_path=community.path,
        name=name[:100],
        capacity=capacity,
        address=(address or "").strip()[:200],
    )


# Activities and series ------------------------------------------------------------------


def _parse_rrule(text: str, first_start: datetime) -> list[datetime]:
    """The start times an RFC 5545 RRULE yields from `first_start` (aware), computed in
    local time so that "every Thursday 9:00" stays at 9:00."""
    text = (text or "").strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    if not text or "\n" in text or "DTSTART" in text.upper():
        raise ValidationError(
            {"rrule": _("Give one RRULE line such as FREQ=WEEKLY;BYDAY=TH;COUNT=8.")}
        )
    local_start = timezone.localtime(first_start).replace(tzinfo=None)
    try:
        rule = rrulestr(text, dtstart=local_start)
    except (ValueError, TypeError, KeyError, IndexError) as error:
        raise ValidationError(
            {"rrule": _("Not a valid repeat rule (RRULE): %(error)s") % {"error": error}}
        ) from None
    if getattr(rule, "_freq", DAILY) > DAILY:
        raise ValidationError({"rrule": _("An activity repeats at most once a day.")})
    horizon = local_start + SERIES_HORIZON
    starts: list[datetime] = []
    for start in rule:
        if start > horizon or len(starts) >= MAX_OCCURRENCES:
            break
        starts.append(timezone.make_aware(start))
    if not starts:
        raise ValidationError({"rrule": _("The repeat rule yields no dates.")})
    return starts


def _validate_times(
    starts_at: datetime | None, ends_at: datetime | None
) -> tuple[datetime, datetime]:
    if starts_at is None:
        raise ValidationError({"starts_at": _("Give the start time.")})
    if ends_at is None:
        raise ValidationError({"ends_at": _("Give the end time.")})
    # A time without a zone (an app sending "2030-01-03T09:00") means Asia/Shanghai time.
    if timezone.is_naive(starts_at):
        starts_at = timezone.make_aware(starts_at)
    if timezone.is_naive(ends_at):
        ends_at = timezone.make_aware(ends_at)
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": _("The end must be after the start.")})
    if ends_at - starts_at > timedelta(hours=24):
        raise ValidationError({"ends_at": _("One occurrence lasts at most 24 hours.")})
    return starts_at, ends_at


INVITATION_OUTSIDE = gettext_lazy(
    "Only communities of your own area can be invited; a street administrator invites others."
)


def _check_invitations(actor: User, communities: list[GridUnit], kept=()) -> None:
    """Invitations stay inside the organiser's area (selectors.communities_invitable);
    `kept` are the communities already invited, which an edit may keep."""
    if any(unit.level != GridLevel.COMMUNITY for unit in communities):
        raise ValidationError({"invited_communities": _("Only communities can be invited.")})
    allowed = set(kept)
    if any(unit.pk not in allowed for unit in communities):
        allowed |= set(selectors.communities_invitable(user=actor).values_list("pk", flat=True))
    if any(unit.pk not in allowed for unit in communities):
        raise ValidationError({"invited_communities": INVITATION_OUTSIDE})


@transaction.atomic
def activity_create(
    *,
    actor: User,
    organiser: GridUnit,
    kind: str,
    title: str,
    capacity: int,
    starts_at: datetime,
    ends_at: datetime,
    description: str = "",
    venue: Venue | None = None,
    rrule: str = "",
    invited_communities: list[GridUnit] | tuple = (),
    invited_posts: str = "",
) -> Activity:
    """Create an activity and its occurrences: one, or one per date of the RRULE."""
    if kind not in ActivityKind.values:
        raise ValidationError({"kind": _("Unknown kind of activity: %(kind)s") % {"kind": kind}})
    if organiser.level not in (GridLevel.COMMUNITY, GridLevel.MICRO_GRID):
        raise ValidationError({"organiser": _("A community or micro-grid organises activities.")})
    _require_manage(actor, organiser.path, _("You may not organise activities here."))
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": _("Give the activity a title.")})
    capacity = _capacity(capacity)
    starts_at, ends_at = _validate_times(starts_at, ends_at)
    if venue is not None:
        if not is_within(organiser.path, [venue.grid_path]) or not venue.is_active:
            raise ValidationError({"venue": _("The venue is not one of the organiser's.")})
        if capacity > venue.capacity:
            raise ValidationError(
                {"capacity": _("The venue holds at most %(max)d people.") % {"max": venue.capacity}}
            )
    duration = ends_at - starts_at
    starts = _parse_rrule(rrule, starts_at) if (rrule or "").strip() else [starts_at]
    communities = list(invited_communities or ())
    _check_invitations(actor, communities)

    activity = Activity.objects.create(
        kind=kind,
        title=column_fit(title, Activity, "title"),
        description=column_fit(description, Activity, "description"),
        organiser=organiser,
        grid_path=organiser.path,
        venue=venue,
        capacity=capacity,
        starts_at=starts[0],
        ends_at=starts[0] + duration,
        rrule=column_fit(rrule, Activity, "rrule"),
        invited_posts=column_fit(invited_posts, Activity, "invited_posts"),
        created_by=actor,
    )
    if communities:
        activity.invited_communities.set(communities)
    Occurrence.objects.bulk_create(
        [
            Occurrence(
                activity=activity,
                grid_path=activity.grid_path,
                starts_at=start,
                ends_at=start + duration,
                capacity=capacity,
            )
            for start in starts
        ]
    )
    # Followers of its series (kind × organiser) hear of it.
    notices.activity_published(activity=activity, actor=actor)
    return activity


@transaction.atomic
def activity_update(
    *,
    actor: User,
    activity: Activity,
    title: str,
    capacity: int,
    description: str = "",
    venue: Venue | None = None,
    invited_communities: list[GridUnit] | tuple = (),
    invited_posts: str = "",
) -> Activity:
    """Change what an activity is called, where it is held and how many it takes. A new
    capacity applies to every occurrence still to come: a larger one promotes people from
    the waitlist, a smaller one is refused where more places are already given."""
    _require_manage(actor, activity.grid_path, _("You may not change this activity."))
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": _("Give the activity a title.")})
    capacity = _capacity(capacity)
    if venue is not None:
        if not is_within(activity.grid_path, [venue.grid_path]) or not venue.is_active:
            raise ValidationError({"venue": _("The venue is not one of the organiser's.")})
        if capacity > venue.capacity:
            raise ValidationError(
                {"capacity": _("The venue holds at most %(max)d people.") % {"max": venue.capacity}}
            )
    communities = list(invited_communities or ())
    # A community a street administrator invited stays invited when the organiser edits.
    _check_invitations(
        actor, communities, kept=activity.invited_communities.values_list("pk", flat=True)
    )
    coming = list(
        Occurrence.objects.select_for_update()
        .filter(activity=activity, state=OccurrenceState.SCHEDULED, ends_at__gt=clock.now())
        .order_by("starts_at")
    )
    for occurrence in coming:
        taken = _confirmed_count(occurrence)
        if taken > capacity:
            local = timezone.localtime(occurrence.starts_at)
            raise ValidationError(
                {
                    "capacity": _(
                        "%(taken)d places are already given for %(date)s; "
                        "the capacity cannot be lower."
                    )
                    % {"taken": taken, "date": f"{local:%Y-%m-%d %H:%M}"}
                }
            )
    moved = activity.venue_id != (venue.pk if venue is not None else None)
    activity.title = column_fit(title, Activity, "title")
    activity.description = column_fit(description, Activity, "description")
    activity.venue = venue
    activity.capacity = capacity
    activity.invited_posts = column_fit(invited_posts, Activity, "invited_posts")
    activity.save()
    activity.invited_communities.set(communities)
    for occurrence in coming:
        occurrence.capacity = capacity
        occurrence.save(update_fields=["capacity"])
        _promote(occurrence)
    if moved:
        # Everyone signed up or waiting for a coming date hears where it is held now.
        notices.activity_place_changed(activity=activity, occurrences=coming, actor=actor)
    return activity


# Sign-ups and the waitlist --------------------------------------------------------------


def _promote(occurrence: Occurrence) -> list[SignUp]:
    """Give free places to the waitlist, first come first served, and tell each person.
    The caller holds the occurrence's lock."""
    free = occurrence.capacity - _confirmed_count(occurrence)
    if free <= 0:
        return []
    promoted = list(
        SignUp.objects.select_for_update()
        .filter(occurrence=occurrence, status=SignUpStatus.WAITLISTED)
        .order_by("created_at", "id")[:free]
    )
    now = clock.now()
    for sign_up in promoted:
        sign_up.status = SignUpStatus.CONFIRMED
        sign_up.promoted_at = now
        sign_up.save(update_fields=["status", "promoted_at"])
        notification_send(
            recipients=[sign_up.user],
            kind="activity.promoted",
            title=gettext_noop("You have a place: %(title)s"),
            title_params={"title": occurrence.activity.title[:80]},
            body=_("A place became free and is now yours: %(when)s.")
            % {"when": f"{timezone.localtime(occurrence.starts_at):%Y-%m-%d %H:%M}"},
            link=_detail_link(occurrence),
            channels=None,
        )
    return promoted


@transaction.atomic
def signup_create(*, occurrence: Occurrence, user: User) -> SignUp:
    """Take a place, or a place on the waitlist when the occurrence is full."""
    if user is None or not user.is_authenticated:
        raise NotAllowed(_("Log in to sign up."))
    if not selectors.occurrence_visible_to(user=user, occurrence=occurrence):
        raise NotAllowed(_("This activity is not open to you."))
    occurrence = _locked_occurrence(occurrence)
    if occurrence.state != OccurrenceState.SCHEDULED:
        raise ValidationError({"occurrence": _("This activity is not taking sign-ups.")})
    if occurrence.has_ended():
        raise ValidationError({"occurrence": _("This activity is already over.")})
    if (
        SignUp.objects.filter(occurrence=occurrence, user=user)
        .exclude(status=SignUpStatus.CANCELLED)
        .exists()
    ):
        raise ValidationError({"occurrence": _("You have already signed up for this activity.")})
    status = (
        SignUpStatus.CONFIRMED
        if _confirmed_count(occurrence) < occurrence.capacity
        else SignUpStatus.WAITLISTED
    )
    try:
        with transaction.atomic():
            return SignUp.objects.create(
                occurrence=occurrence, user=user, grid_path=occurrence.grid_path, status=status
            )
    except IntegrityError:
        raise ValidationError(
            {"occurrence": _("You have already signed up for this activity.")}
        ) from None


@transaction.atomic
def signup_cancel(*, sign_up: SignUp, actor: User) -> SignUp:
    """Give a place back; the first person on the waitlist gets it and is told."""
    if sign_up.user_id != actor.pk:
        _require_manage(actor, sign_up.grid_path, _("You may not cancel this sign-up."))
    occurrence = _locked_occurrence(sign_up.occurrence)
    sign_up = SignUp.objects.select_for_update().get(pk=sign_up.pk)
    if sign_up.status == SignUpStatus.CANCELLED:
        raise ValidationError({"sign_up": _("This sign-up is already cancelled.")})
    if sign_up.checked_in_at is not None:
        raise ValidationError({"sign_up": _("You have already checked in.")})
    if occurrence.has_ended():
        raise ValidationError({"sign_up": _("This activity is already over.")})
    was_confirmed = sign_up.status == SignUpStatus.CONFIRMED
    sign_up.status = SignUpStatus.CANCELLED
    sign_up.cancelled_at = clock.now()
    sign_up.save(update_fields=["status", "cancelled_at"])
    if was_confirmed and occurrence.state == OccurrenceState.SCHEDULED:
        _promote(occurrence)
    return sign_up


# Check-in, attendance and hours ---------------------------------------------------------


@transaction.atomic
def occurrence_check_in(*, token: str, user: User) -> SignUp:
    """A participant scanned the occurrence's code. Someone without a sign-up who turns up
    is welcome while places are free."""
    if user is None or not user.is_authenticated:
        raise NotAllowed(_("Log in to check in."))
    found = selectors.occurrence_by_token(token=token)
    if found is None:
        raise ValidationError({"token": _("This check-in code is not valid.")})
    if not selectors.occurrence_visible_to(user=user, occurrence=found):
        raise ValidationError({"token": _("This check-in code is not valid.")})
    occurrence = _locked_occurrence(found)
    if not occurrence.check_in_open():
        raise ValidationError(
            {"token": _("This check-in code is not open now (outside the activity's time).")}
        )
    sign_up = (
        SignUp.objects.select_for_update()
        .filter(occurrence=occurrence, user=user)
        .exclude(status=SignUpStatus.CANCELLED)
        .first()
    )
    if sign_up is None:
        if _confirmed_count(occurrence) >= occurrence.capacity:
            raise ValidationError({"token": _("The activity is full; you have no place.")})
        sign_up = SignUp.objects.create(
            occurrence=occurrence,
            user=user,
            grid_path=occurrence.grid_path,
            status=SignUpStatus.CONFIRMED,
        )
    elif sign_up.status == SignUpStatus.WAITLISTED:
        raise ValidationError({"token": _("You are on the waitlist and have no place yet.")})
    elif sign_up.checked_in_at is not None:
        raise ValidationError({"token": _("You have already checked in.")})
    sign_up.checked_in_at = clock.now()
    sign_up.check_in_method = CheckInMethod.SCAN
    sign_up.checked_in_by = user
    sign_up.save(update_fields=["checked_in_at", "check_in_method", "checked_in_by"])
    return sign_up


@transaction.atomic
def signup_check_in(*, sign_up: SignUp, actor: User) -> SignUp:
    """The organiser ticks someone off the list."""
    _require_manage(actor, sign_up.grid_path, _("You may not check people in here."))
    occurrence = _locked_occurrence(sign_up.occurrence)
    sign_up = SignUp.objects.select_for_update().get(pk=sign_up.pk)
    if occurrence.state != OccurrenceState.SCHEDULED:
        raise ValidationError({"occurrence": _("This occurrence is closed.")})
    if sign_up.status != SignUpStatus.CONFIRMED:
        raise ValidationError({"sign_up": _("Only someone with a place can be checked in.")})
    if sign_up.checked_in_at is not None:
        raise ValidationError({"sign_up": _("Already checked in.")})
    sign_up.checked_in_at = clock.now()
    sign_up.check_in_method = CheckInMethod.ORGANISER
    sign_up.checked_in_by = actor
    sign_up.save(update_fields=["checked_in_at", "check_in_method", "checked_in_by"])
    return sign_up


def _credit_hours(sign_up: SignUp, occurrence: Occurrence, actor: User | None) -> bool:
    """Turn one attendance into service hours for a serving volunteer, once. The caller
    holds the sign-up's lock; `hours_credited_at` is what makes a second call a no-op."""
    if sign_up.checked_in_at is None or sign_up.hours_credited_at is not None:
        return False
    volunteer = Volunteer.objects.filter(user_id=sign_up.user_id).first()
    if volunteer is None or not volunteer.is_serving:
        return False
    local = timezone.localtime(occurrence.starts_at)
    now = clock.now()  # one reading: the day credited and the moment recorded agree at midnight
    service_hours_record(
        volunteer=volunteer,
        hours=occurrence.hours,
        source_kind=HoursSource.ACTIVITY,
        source_id=occurrence.pk,
        note=f"{occurrence.activity.title} {local:%Y-%m-%d}"[:300],
        actor=actor,
        occurred_on=min(local.date(), timezone.localdate(now)),
    )
    sign_up.hours_credited_at = now
    sign_up.save(update_fields=["hours_credited_at"])
    return True


@transaction.atomic
def signup_check_out(*, sign_up: SignUp, actor: User) -> SignUp:
    """The participant (or the organiser) leaves: a volunteer's hours are credited now."""
    if sign_up.user_id != actor.pk:
        _require_manage(actor, sign_up.grid_path, _("You may not check this person out."))
    occurrence = _locked_occurrence(sign_up.occurrence)
    sign_up = SignUp.objects.select_for_update().get(pk=sign_up.pk)
    if sign_up.checked_in_at is None:
        raise ValidationError({"sign_up": _("Check in before checking out.")})
    if sign_up.checked_out_at is not None:
        raise ValidationError({"sign_up": _("Already checked out.")})
    sign_up.checked_out_at = clock.now()
    sign_up.save(update_fields=["checked_out_at"])
    _credit_hours(sign_up, occurrence, actor)
    return sign_up


@transaction.atomic
def occurrence_close(*, occurrence: Occurrence, actor: User) -> int:
    """Close an occurrence after it started: everyone checked in and not yet credited gets
    their hours. Returns how many were credited. Closing twice credits nobody twice."""
    _require_manage(actor, occurrence.grid_path, _("You may not close this occurrence."))
    occurrence = _locked_occurrence(occurrence)
    if occurrence.state == OccurrenceState.CANCELLED:
        raise ValidationError({"occurrence": _("This occurrence was cancelled.")})
    if clock.now() < occurrence.starts_at:
        raise ValidationError({"occurrence": _("The occurrence has not started yet.")})
    credited = 0
    for sign_up in SignUp.objects.select_for_update().filter(
        occurrence=occurrence,
        status=SignUpStatus.CONFIRMED,
        checked_in_at__isnull=False,
        hours_credited_at__isnull=True,
    ):
        credited += _credit_hours(sign_up, occurrence, actor)
    if occurrence.state != OccurrenceState.CLOSED:
        occurrence.state = OccurrenceState.CLOSED
        occurrence.closed_at = clock.now()
        occurrence.save(update_fields=["state", "closed_at"])
    return credited


@transaction.atomic
def occurrence_cancel(*, occurrence: Occurrence, actor: User, reason: str) -> Occurrence:
    """Call off one occurrence (rain, a typhoon warning …); everyone signed up or waiting
    is told why on their channels. Their sign-ups stay, for the record."""
    _require_manage(actor, occurrence.grid_path, _("You may not cancel this occurrence."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the occurrence is cancelled.")})
    occurrence = _locked_occurrence(occurrence)
    if occurrence.state != OccurrenceState.SCHEDULED:
        raise ValidationError({"occurrence": _("Only a scheduled occurrence can be cancelled.")})
    if occurrence.has_ended():
        raise ValidationError({"occurrence": _("This activity is already over.")})
    occurrence.state = OccurrenceState.CANCELLED
    occurrence.save(update_fields=["state"])
    people = [
        sign_up.user
        for sign_up in SignUp.objects.filter(occurrence=occurrence)
        .exclude(status=SignUpStatus.CANCELLED)
        .select_related("user")
    ]
    local = timezone.localtime(occurrence.starts_at)
    notification_send(
        recipients=people,
        kind="activity.cancelled",
        title=gettext_noop("Cancelled: %(title)s"),
        title_params={"title": occurrence.activity.title[:80]},
        body=_("%(when)s is cancelled: %(reason)s")
        % {"when": f"{local:%Y-%m-%d %H:%M}", "reason": reason[:500]},
        link=_detail_link(occurrence),
        channels=None,
    )
    return occurrence


# Feedback, stalls, minutes --------------------------------------------------------------


@transaction.atomic
def feedback_submit(*, occurrence: Occurrence, user: User, rating, comment: str = "") -> Feedback:
    """One rating (1–5) and comment per participant, after the occurrence."""
    if not selectors.occurrence_visible_to(user=user, occurrence=occurrence):
        raise NotAllowed(_("This activity is not open to you."))
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        raise ValidationError({"rating": _("Give a rating from 1 to 5.")}) from None
    if not 1 <= rating <= 5:
        raise ValidationError({"rating": _("Give a rating from 1 to 5.")})
    if not occurrence.has_ended():
        raise ValidationError({"occurrence": _("Feedback opens when the activity is over.")})
    if not SignUp.objects.filter(
        occurrence=occurrence, user=user, status=SignUpStatus.CONFIRMED
    ).exists():
        raise ValidationError({"occurrence": _("Only participants can leave feedback.")})
    if Feedback.objects.filter(occurrence=occurrence, user=user).exists():
        raise ValidationError({"occurrence": _("You have already left feedback.")})
    return Feedback.objects.create(
        occurrence=occurrence,
        user=user,
        grid_path=occurrence.grid_path,
        rating=rating,
        comment=(comment or "").strip()[:1000],
    )


@transaction.atomic
def stall_add(
    *,
    actor: User,
    occurrence: Occurrence,
    service: str,
    provider_kind: str,
    provider_id: int | None,
    label: str = "",
) -> Stall:
    """A stall of a service fair and who runs it: a volunteer, a team or a partner unit of
    the organising community."""
    _require_manage(actor, occurrence.grid_path, _("You may not change this fair."))
    if occurrence.activity.kind != ActivityKind.SERVICE_FAIR:
        raise ValidationError({"occurrence": _("Only a service fair has stalls.")})
    if service not in StallService.values:
        raise ValidationError({"service": _("Choose a service.")})
    if provider_kind not in ProviderKind.values:
        raise ValidationError({"provider_kind": _("Choose who provides the service.")})
    providers = selectors.stall_providers(occurrence=occurrence)[provider_kind]
    provider = providers.filter(pk=provider_id).first() if provider_id else None
    if provider is None:
        raise ValidationError({"provider_id": _("Choose a provider of this community.")})
    return Stall.objects.create(
        occurrence=occurrence,
        grid_path=occurrence.grid_path,
        service=service,
        label=(label or "").strip()[:100],
        provider_kind=provider_kind,
        **{provider_kind: provider},
    )


@transaction.atomic
def stall_record_served(*, actor: User, stall: Stall, served_count) -> Stall:
    _require_manage(actor, stall.grid_path, _("You may not change this fair."))
    try:
        served_count = int(served_count)
    except (TypeError, ValueError):
        raise ValidationError({"served_count": _("Give the number of people served.")}) from None
    if served_count < 0 or served_count > 100000:
        raise ValidationError({"served_count": _("Give the number of people served.")})
    stall.served_count = served_count
    stall.save(update_fields=["served_count"])
    return stall


@transaction.atomic
def minutes_record(
    *, actor: User, occurrence: Occurrence, minutes: str, decisions: str
) -> Occurrence:
    """The minutes and decisions of a round table."""
    _require_manage(actor, occurrence.grid_path, _("You may not record minutes here."))
    if occurrence.activity.kind != ActivityKind.ROUND_TABLE:
        raise ValidationError({"occurrence": _("Only a round table keeps minutes.")})
    minutes = (minutes or "").strip()
    if not minutes:
        raise ValidationError({"minutes": _("Write the minutes.")})
    occurrence.minutes = minutes[:10000]
    occurrence.decisions = (decisions or "").strip()[:5000]
    occurrence.save(update_fields=["minutes", "decisions"])
    return occurrence


# Reminders ------------------------------------------------------------------------------

REMINDER_AHEAD = timedelta(hours=24)


def reminders_send(*, now: datetime | None = None) -> int:
    """Remind everyone with a place of an occurrence starting within a day, once per
    sign-up: the conditional update that stamps `reminded_at` is the guard, so two sweeps
    at once cannot both send."""
    now = now or clock.now()
    due = SignUp.objects.filter(
        status=SignUpStatus.CONFIRMED,
        reminded_at__isnull=True,
        occurrence__state=OccurrenceState.SCHEDULED,
        occurrence__starts_at__gt=now,
        occurrence__starts_at__lte=now + REMINDER_AHEAD,
    ).select_related("occurrence__activity__venue", "user")
    sent = 0
    for sign_up in due.iterator():
        with transaction.atomic():
            if not SignUp.objects.filter(pk=sign_up.pk, reminded_at__isnull=True).update(
                reminded_at=now
            ):
                continue
            occurrence = sign_up.occurrence
            venue = occurrence.activity.venue
            local = timezone.localtime(occurrence.starts_at)
            notification_send(
                recipients=[sign_up.user],
                kind="activity.reminder",
                title=gettext_noop("Reminder: %(title)s"),
                title_params={"title": occurrence.activity.title[:80]},
                body=_("%(when)s at %(where)s")
                % {"when": f"{local:%Y-%m-%d %H:%M}", "where": venue.name if venue else "—"},
                link=_detail_link(occurrence),
                channels=None,
            )
            sent += 1
    return sent


# Photos ------------------------------------------------------------------------------------

ACTIVITY_PHOTOS_PER_DATE = 12


@transaction.atomic
def occurrence_photos_add(*, actor: User, occurrence: Occurrence, files) -> list:
    """Up to 3 photos at a time, at most 12 per date, added by the organisers. Checked and
    re-encoded without EXIF like case photos; nothing is written unless every file is good,
    and files already stored are removed again if a row cannot be written."""
    _require_manage(actor, occurrence.grid_path, _("You may not add photos to this activity."))
    prepared = photos_prepare(files=files, actor=actor)
    if not prepared:
        raise ValidationError({"photos": _("Choose at least one photo.")})
    already = ActivityPhoto.objects.filter(occurrence=occurrence).count()
    if already + len(prepared) > ACTIVITY_PHOTOS_PER_DATE:
        raise ValidationError(
            {
                "photos": _("A date keeps at most %(count)d photos; it has %(already)d.")
                % {"count": ACTIVITY_PHOTOS_PER_DATE, "already": already}
            }
        )
    return photos_store(
        prepared=prepared,
        make_row=lambda photo: ActivityPhoto(
            occurrence=occurrence, grid_path=occurrence.grid_path, uploaded_by=actor
        ),
    )
