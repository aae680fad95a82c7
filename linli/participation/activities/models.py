"""Activities (action days, service fairs, round tables, culture, training,
drills), their occurrences, sign-ups with a waitlist, attendance and feedback.

An Activity is what staff organise once; each Occurrence is one date of it (a one-off
activity has one, a Thursday action day one per Thursday its RRULE yields). Sign-ups,
check-in codes, attendance, stalls, minutes and feedback belong to the occurrence, because
that is what a person actually attends. Every row carries the organising unit's
`grid_path`, so scope is one prefix match.
"""

import secrets
import uuid
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli import clock
from linli.accounts.fields import GridPathField
from linli.cases.models import PHOTO_EXTENSIONS, PHOTO_MAX_BYTES
from linli.grids.models import WithinPathQuerySet, path_index

# A participant may check in from a little before the start until a little after the end.
CHECK_IN_EARLY = timedelta(minutes=60)
CHECK_IN_LATE = timedelta(minutes=60)


def new_check_in_token() -> str:
    # 32 bytes from the OS generator: the code on the wall cannot be guessed from another.
    return secrets.token_urlsafe(32)


class ActivityKind(models.TextChoices):
    ACTION_DAY = "action_day", _("Action day (周四行动日)")
    SERVICE_FAIR = "service_fair", _("Service fair (便民集市)")
    ROUND_TABLE = "round_table", _("Round table (圆桌交流会)")
    CULTURE = "culture", _("Culture")
    TRAINING = "training", _("Training")
    DRILL = "drill", _("Drill")


class Venue(models.Model):
    """A shared space of a community (门卫室服务站, 共享客厅 …) with its capacity."""

    community = models.ForeignKey(
        "grids.GridUnit", on_delete=models.PROTECT, related_name="+", verbose_name=_("community")
    )
    grid_path = GridPathField(editable=False)
    name = models.CharField(_("name"), max_length=100)
    address = models.CharField(_("address"), max_length=200, blank=True)
    capacity = models.PositiveIntegerField(_("capacity"))
    is_active = models.BooleanField(_("active"), default=True)

    objects = WithinPathQuerySet.as_manager()

    class Meta:
        ordering = ["grid_path", "name"]
        verbose_name = _("venue")
        verbose_name_plural = _("venues")
        indexes = [path_index("venue")]
        constraints = [
            models.UniqueConstraint(fields=["community", "name"], name="venue_unique_name"),
            models.CheckConstraint(condition=models.Q(capacity__gte=1), name="venue_capacity_min"),
        ]

    def __str__(self) -> str:
        return self.name


class Activity(models.Model):
    kind = models.CharField(_("kind"), max_length=20, choices=ActivityKind.choices)
    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("description"), max_length=2000, blank=True)
    # The organising unit (a community or one of its micro-grids): the activity's scope.
    organiser = models.ForeignKey(
        "grids.GridUnit", on_delete=models.PROTECT, related_name="+", verbose_name=_("organiser")
    )
    grid_path = GridPathField(editable=False)
    venue = models.ForeignKey(
        Venue,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="activities",
        verbose_name=_("venue"),
    )
    capacity = models.PositiveIntegerField(_("capacity"))
    # The first occurrence; later ones follow the RRULE (RFC 5545), in Asia/Shanghai time.
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    rrule = models.CharField(_("repeat rule (RRULE)"), max_length=300, blank=True)
    # Round tables: who is invited beyond the organiser (communities and posts).
    invited_communities = models.ManyToManyField(
        "grids.GridUnit", blank=True, related_name="+", verbose_name=_("invited communities")
    )
    invited_posts = models.CharField(_("invited posts"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = WithinPathQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        indexes = [path_index("activity")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=ActivityKind.values), name="activity_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(capacity__gte=1), name="activity_capacity_min"
            ),
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="activity_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_series(self) -> bool:
        return bool(self.rrule)


class OccurrenceState(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


class OccurrenceQuerySet(WithinPathQuerySet):
    def upcoming(self, now=None) -> "OccurrenceQuerySet":
        now = now or clock.now()
        return self.filter(state=OccurrenceState.SCHEDULED, ends_at__gt=now)


class Occurrence(models.Model):
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="occurrences")
    grid_path = GridPathField(editable=False)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    capacity = models.PositiveIntegerField(_("capacity"))
    state = models.CharField(
        _("state"),
        max_length=10,
        choices=OccurrenceState.choices,
        default=OccurrenceState.SCHEDULED,
    )
    check_in_token = models.CharField(max_length=64, unique=True, default=new_check_in_token)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Round tables: what was said and what was decided.
    minutes = models.TextField(_("minutes"), max_length=10000, blank=True)
    decisions = models.TextField(_("decisions"), max_length=5000, blank=True)

    objects = OccurrenceQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("occurrence")
        verbose_name_plural = _("occurrences")
        indexes = [
            models.Index(fields=["grid_path", "starts_at"], name="occurrence_path_start"),
            models.Index(fields=["state", "starts_at"], name="occurrence_state_start"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["activity", "starts_at"], name="occurrence_unique_start"
            ),
            models.CheckConstraint(
                condition=models.Q(capacity__gte=1), name="occurrence_capacity_min"
            ),
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="occurrence_ends_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=OccurrenceState.values),
                name="occurrence_state_valid",
            ),
        ]

    def __str__(self) -> str:
        local = timezone.localtime(self.starts_at)
        return f"{self.activity.title} {local:%Y-%m-%d %H:%M}"

    @property
    def hours(self) -> Decimal:
        """The service hours one attendance is worth: the occurrence's length, at most a day."""
        seconds = (self.ends_at - self.starts_at).total_seconds()
        return min(Decimal(seconds) / Decimal(3600), Decimal(24)).quantize(Decimal("0.01"))

    def check_in_open(self, now=None) -> bool:
        now = now or clock.now()
        return (
            self.state == OccurrenceState.SCHEDULED
            and self.starts_at - CHECK_IN_EARLY <= now <= self.ends_at + CHECK_IN_LATE
        )

    def has_ended(self, now=None) -> bool:
        return (now or clock.now()) >= self.ends_at


class SignUpStatus(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed")
    WAITLISTED = "waitlisted", _("On the waitlist")
    CANCELLED = "cancelled", _("Cancelled")


class CheckInMethod(models.TextChoices):
    SCAN = "scan", _("Scanned the code")
    ORGANISER = "organiser", _("Checked in by the organiser")


class SignUp(models.Model):
    occurrence = models.ForeignKey(Occurrence, on_delete=models.CASCADE, related_name="sign_ups")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="activity_sign_ups"
    )
    grid_path = GridPathField(editable=False)
    status = models.CharField(_("status"), max_length=10, choices=SignUpStatus.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    promoted_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    check_in_method = models.CharField(
        max_length=10, choices=CheckInMethod.choices, blank=True, default=""
    )
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    checked_out_at = models.DateTimeField(null=True, blank=True)
    # Set once, when the attendance became service hours: the guard against crediting twice.
    hours_credited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # The waitlist is first come, first served: (created_at, id) is its order.
        ordering = ["created_at", "id"]
        verbose_name = _("sign-up")
        verbose_name_plural = _("sign-ups")
        indexes = [
            models.Index(fields=["occurrence", "status"], name="signup_occurrence_status"),
            models.Index(fields=["user", "status"], name="signup_user_status"),
        ]
        constraints = [
            # One live sign-up per person and occurrence; a cancelled one may be followed by
            # a new one.
            models.UniqueConstraint(
                fields=["occurrence", "user"],
                condition=~models.Q(status="cancelled"),
                name="signup_one_live_per_user",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=SignUpStatus.values), name="signup_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(checked_in_at__isnull=True) | models.Q(status="confirmed"),
                name="signup_check_in_needs_place",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.occurrence}"

    @property
    def is_live(self) -> bool:
        return self.status != SignUpStatus.CANCELLED


class StallService(models.TextChoices):
    HAIRCUT = "haircut", _("Haircut")
    WATCH_REPAIR = "watch_repair", _("Watch repair")
    KNIFE_SHARPENING = "knife_sharpening", _("Knife sharpening")
    BLOOD_PRESSURE = "blood_pressure", _("Blood pressure check")
    BLOOD_SUGAR = "blood_sugar", _("Blood sugar check")
    LEGAL_ADVICE = "legal_advice", _("Legal advice")
    POLICY_ADVICE = "policy_advice", _("Policy advice")
    APPLIANCE_REPAIR = "appliance_repair", _("Appliance repair")
    OTHER = "other", _("Other service")


class ProviderKind(models.TextChoices):
    VOLUNTEER = "volunteer", _("Volunteer")
    TEAM = "team", _("Volunteer team")
    PARTNER = "partner", _("Partner unit")


class Stall(models.Model):
    """One stall of a service fair: a service, who provides it, and how many were served."""

    occurrence = models.ForeignKey(Occurrence, on_delete=models.CASCADE, related_name="stalls")
    grid_path = GridPathField(editable=False)
    service = models.CharField(_("service"), max_length=20, choices=StallService.choices)
    label = models.CharField(_("description"), max_length=100, blank=True)
    provider_kind = models.CharField(_("provider"), max_length=10, choices=ProviderKind.choices)
    volunteer = models.ForeignKey(
        "volunteers.Volunteer", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    team = models.ForeignKey(
        "volunteers.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    partner = models.ForeignKey(
        "partners.Partner", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Recorded afterwards; empty until then.
    served_count = models.PositiveIntegerField(_("people served"), null=True, blank=True)

    class Meta:
        ordering = ["occurrence", "id"]
        verbose_name = _("stall")
        verbose_name_plural = _("stalls")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(service__in=StallService.values), name="stall_service_valid"
            ),
            # Exactly the provider the kind names, and no other.
            models.CheckConstraint(
                condition=(
                    models.Q(
                        provider_kind="volunteer",
                        volunteer__isnull=False,
                        team__isnull=True,
                        partner__isnull=True,
                    )
                    | models.Q(
                        provider_kind="team",
                        volunteer__isnull=True,
                        team__isnull=False,
                        partner__isnull=True,
                    )
                    | models.Q(
                        provider_kind="partner",
                        volunteer__isnull=True,
                        team__isnull=True,
                        partner__isnull=False,
                    )
                ),
                name="stall_one_provider",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_service_display()} · {self.provider_name}"

    @property
    def provider_name(self) -> str:
        provider = self.volunteer or self.team or self.partner
        return str(provider) if provider else ""


class Feedback(models.Model):
    occurrence = models.ForeignKey(Occurrence, on_delete=models.CASCADE, related_name="feedback")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    grid_path = GridPathField(editable=False)
    rating = models.PositiveSmallIntegerField(_("rating"))
    comment = models.TextField(_("comment"), max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")
        constraints = [
            models.UniqueConstraint(fields=["occurrence", "user"], name="feedback_one_per_user"),
            models.CheckConstraint(
                condition=models.Q(rating__gte=1, rating__lte=5), name="feedback_rating_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.rating}"


def activity_photo_upload_to(instance: "ActivityPhoto", filename: str) -> str:
    """activities/<yyyy>/<mm>/<uuid>.<ext>: never the uploaded name (chosen by the client)."""
    now = clock.now()
    extension = PHOTO_EXTENSIONS.get(instance.content_type, "bin")
    return f"activities/{now:%Y}/{now:%m}/{uuid.uuid4().hex}.{extension}"


class ActivityPhoto(models.Model):
    """A photo of one date of an activity, checked and re-encoded like case photos (no EXIF)
    and served only to those who may see the activity."""

    occurrence = models.ForeignKey(Occurrence, on_delete=models.CASCADE, related_name="photos")
    grid_path = GridPathField(editable=False)
    image = models.ImageField(_("photo"), upload_to=activity_photo_upload_to, max_length=200)
    content_type = models.CharField(max_length=30)
    size = models.PositiveIntegerField(_("size (bytes)"))
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("activity photo")
        verbose_name_plural = _("activity photos")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(size__gt=0, size__lte=PHOTO_MAX_BYTES),
                name="activityphoto_size_limit",
            )
        ]

    def __str__(self) -> str:
        return self.image.name
