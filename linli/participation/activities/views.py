"""Activity pages.

Residents (and volunteers, leaders, anyone signed in): the upcoming list of their
community with a sign-up button on each row (two taps: list → 报名 → done), an
occurrence's page, their own activities with cancel and feedback, and the check-in page a
phone opens from the QR code. Staff with ACTIVITIES_MANAGE: the organiser's list, creating
and editing activities and series, venues, and an occurrence's page with its QR code, the
attendance list, stalls and minutes.

Photos of an occurrence: organisers add them on the occurrence's page; anyone who may see
the activity sees them, served through this module (never as public files).

Views stay thin: reads through activities.selectors (out of scope answers 404), writes
through activities.services (a refusal is shown as a message; nothing was written).
"""

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from linli import clock
from linli.forms import form_add_errors
from linli.grids.models import GridLevel, GridUnit
from linli.idempotency.web import once_per_form
from linli.notify.selectors import is_following
from linli.notify.services import follow, unfollow
from linli.participation import notices
from linli.participation.activities import selectors, services
from linli.participation.activities.models import (
    ActivityKind,
    ActivityPhoto,
    OccurrenceState,
    ProviderKind,
    SignUpStatus,
    StallService,
)


def _message(error: ValidationError) -> str:
    return " ".join(error.messages)


def _require_staff(user) -> None:
    if not selectors.may_manage(user):
        raise Http404


def _back(request, fallback: str) -> str:
    target = request.POST.get("next", "")
    # Only a path on this site: never an open redirect.
    if target.startswith("/") and not target.startswith("//"):
        return target
    return fallback


# Residents ------------------------------------------------------------------------------


@login_required
def upcoming(request):
    occurrences = selectors.upcoming_for(user=request.user)[:100]
    return render(
        request,
        "participation/upcoming.html",
        {"occurrences": occurrences, "staff": selectors.may_manage(request.user)},
    )


@login_required
def detail(request, occurrence_id: int):
    occurrence = selectors.occurrence_get(user=request.user, occurrence_id=occurrence_id)
    counted = selectors.with_counts(
        selectors.occurrences_visible(user=request.user).filter(pk=occurrence.pk),
        user=request.user,
    ).get()
    mine = selectors.my_sign_up_for(user=request.user, occurrence=occurrence)
    return render(
        request,
        "participation/detail.html",
        {
            "occurrence": counted,
            "activity": occurrence.activity,
            "mine": mine,
            "stalls": occurrence.stalls.select_related("volunteer", "team", "partner"),
            "can_feedback": mine is not None
            and mine.status == SignUpStatus.CONFIRMED
            and occurrence.has_ended(),
            "staff": selectors.may_manage(request.user, occurrence.grid_path),
            "series": notices.series_label(occurrence.activity.organiser, occurrence.activity.kind),
            "following_series": is_following(
                user=request.user, target=notices.series_target(occurrence.activity)
            ),
        },
    )


@login_required
@require_POST
def follow_series(request, occurrence_id: int):
    """Follow the series of an activity one may see: its kind by its organiser."""
    occurrence = selectors.occurrence_get(user=request.user, occurrence_id=occurrence_id)
    activity = occurrence.activity
    follow(user=request.user, target=notices.series_target(activity))
    messages.success(
        request,
        _("You will hear of each new activity: %(series)s.")
        % {"series": notices.series_label(activity.organiser, activity.kind)},
    )
    return redirect("participation:detail", occurrence.pk)


@login_required
@require_POST
def unfollow_series(request, occurrence_id: int):
    occurrence = selectors.occurrence_get(user=request.user, occurrence_id=occurrence_id)
    unfollow(user=request.user, target=notices.series_target(occurrence.activity))
    messages.success(request, _("You no longer follow this series."))
    return redirect("participation:detail", occurrence.pk)


@login_required
@require_POST
@once_per_form
def sign_up(request, occurrence_id: int):
    occurrence = selectors.occurrence_get(user=request.user, occurrence_id=occurrence_id)
    try:
        created = services.signup_create(occurrence=occurrence, user=request.user)
    except ValidationError as error:
        messages.error(request, _message(error))
    else:
        if created.status == SignUpStatus.CONFIRMED:
            messages.success(request, _("Signed up: %(title)s") % {"title": str(occurrence)})
        else:
            messages.success(
                request,
                _(
                    "The activity is full: you are on the waitlist and will be told if a place frees up."
                ),
            )
    return redirect(_back(request, reverse("participation:list")))


@login_required
def mine(request):
    return render(
        request,
        "participation/mine.html",
        {"sign_ups": selectors.my_sign_ups(user=request.user)[:200], "now": clock.now()},
    )


@login_required
@require_POST
def cancel(request, sign_up_id: int):
    sign_up = selectors.sign_up_get_own(user=request.user, sign_up_id=sign_up_id)
    try:
        services.signup_cancel(sign_up=sign_up, actor=request.user)
    except ValidationError as error:
        messages.error(request, _message(error))
    else:
        messages.success(request, _("Your sign-up is cancelled."))
    return redirect(_back(request, reverse("participation:mine")))


@login_required
@require_POST
def check_out(request, sign_up_id: int):
    sign_up = selectors.sign_up_get_own(user=request.user, sign_up_id=sign_up_id)
    try:
        services.signup_check_out(sign_up=sign_up, actor=request.user)
    except ValidationError as error:
        messages.error(request, _message(error))
    else:
        messages.success(request, _("Checked out. Thank you for taking part."))
    return redirect(_back(request, reverse("participation:mine")))


class FeedbackForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=gettext_lazy("Rating"), choices=[(n, str(n)) for n in range(1, 6)], coerce=int
    )
    comment = forms.CharField(
        label=gettext_lazy("Comment"), required=False, max_length=1000, widget=forms.Textarea
    )


@login_required
def feedback(request, occurrence_id: int):
    occurrence = selectors.occurrence_get(user=request.user, occurrence_id=occurrence_id)
    form = FeedbackForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.feedback_submit(
                occurrence=occurrence,
                user=request.user,
                rating=form.cleaned_data["rating"],
                comment=form.cleaned_data["comment"],
            )
        except ValidationError as error:
            form.add_error(None, _message(error))
        else:
            messages.success(request, _("Thank you for your feedback."))
            return redirect("participation:mine")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "participation/feedback.html",
        {"occurrence": occurrence, "form": form},
        status=status,
    )


@login_required
def check_in(request, token: str):
    """The page the QR code opens: one button, so that opening the link alone changes
    nothing (link previews and prefetchers open links too)."""
    occurrence = selectors.occurrence_by_token(token=token)
    if occurrence is None or not selectors.occurrence_visible_to(
        user=request.user, occurrence=occurrence
    ):
        raise Http404
    error = ""
    if request.method == "POST":
        try:
            services.occurrence_check_in(token=token, user=request.user)
        except ValidationError as refused:
            error = _message(refused)
        else:
            messages.success(request, _("Checked in: %(title)s") % {"title": str(occurrence)})
            return redirect("participation:detail", occurrence.pk)
    return render(
        request,
        "participation/check_in.html",
        {"occurrence": occurrence, "error": error, "open": occurrence.check_in_open()},
        status=400 if error else 200,
    )


# Staff ----------------------------------------------------------------------------------


@login_required
def manage(request):
    _require_staff(request.user)
    show_past = request.GET.get("past") == "1"
    occurrences = selectors.occurrences_for_staff(user=request.user, upcoming_only=not show_past)
    return render(
        request,
        "participation/manage.html",
        {
            "occurrences": occurrences[:300],
            "activities": selectors.activities_managed(user=request.user)[:100],
            "show_past": show_past,
        },
    )


class ActivityForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=ActivityKind.choices)
    title = forms.CharField(label=gettext_lazy("Title"), max_length=100)
    description = forms.CharField(
        label=gettext_lazy("Description"), required=False, max_length=2000, widget=forms.Textarea
    )
    organiser = forms.ModelChoiceField(
        label=gettext_lazy("Organiser"), queryset=GridUnit.objects.none()
    )
    venue = forms.ModelChoiceField(
        label=gettext_lazy("Venue"), queryset=GridUnit.objects.none(), required=False
    )
    capacity = forms.IntegerField(label=gettext_lazy("Capacity"))
    starts_at = forms.DateTimeField(
        label=gettext_lazy("Starts at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    ends_at = forms.DateTimeField(
        label=gettext_lazy("Ends at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    rrule = forms.CharField(
        label=gettext_lazy("Repeat rule (RRULE), e.g. FREQ=WEEKLY;BYDAY=TH;COUNT=8"),
        required=False,
        max_length=300,
    )
    invited_communities = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Invited communities (round tables)"),
        queryset=GridUnit.objects.none(),
        required=False,
    )
    invited_posts = forms.CharField(
        label=gettext_lazy("Invited posts (round tables)"), required=False, max_length=300
    )

    def __init__(self, *args, user, editing: bool = False, invited=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organiser"].queryset = selectors.communities_managed(user=user)
        self.fields["venue"].queryset = selectors.venues_usable(user=user)
        # The organiser's own area, and what a street administrator already invited.
        self.fields["invited_communities"].queryset = (
            selectors.communities_invitable(user=user)
            | GridUnit.objects.filter(pk__in=list(invited))
        ).order_by("path")
        if editing:
            # The dates of a series are fixed once generated; kind and organiser too.
            for name in ("kind", "organiser", "starts_at", "ends_at", "rrule"):
                del self.fields[name]


@login_required
def activity_new(request):
    _require_staff(request.user)
    form = ActivityForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            activity = services.activity_create(
                actor=request.user,
                organiser=data["organiser"],
                kind=data["kind"],
                title=data["title"],
                description=data["description"],
                venue=data["venue"],
                capacity=data["capacity"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                rrule=data["rrule"],
                invited_communities=list(data["invited_communities"]),
                invited_posts=data["invited_posts"],
            )
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            count = activity.occurrences.count()
            messages.success(
                request,
                _("Activity created with %(count)d occurrence(s).") % {"count": count},
            )
            return redirect("participation:manage")
    return render(
        request,
        "participation/activity_form.html",
        {"form": form, "activity": None},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def activity_edit(request, activity_id: int):
    _require_staff(request.user)
    activity = selectors.activity_get_managed(user=request.user, activity_id=activity_id)
    initial = {
        "title": activity.title,
        "description": activity.description,
        "venue": activity.venue_id,
        "capacity": activity.capacity,
        "invited_communities": list(activity.invited_communities.values_list("pk", flat=True)),
        "invited_posts": activity.invited_posts,
    }
    form = ActivityForm(
        request.POST or None,
        initial=initial,
        user=request.user,
        editing=True,
        invited=initial["invited_communities"],
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.activity_update(
                actor=request.user,
                activity=activity,
                title=data["title"],
                description=data["description"],
                venue=data["venue"],
                capacity=data["capacity"],
                invited_communities=list(data["invited_communities"]),
                invited_posts=data["invited_posts"],
            )
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            messages.success(request, _("Activity saved."))
            return redirect("participation:manage")
    return render(
        request,
        "participation/activity_form.html",
        {"form": form, "activity": activity},
        status=400 if request.method == "POST" else 200,
    )


class VenueForm(forms.Form):
    community = forms.ModelChoiceField(
        label=gettext_lazy("Community"), queryset=GridUnit.objects.none()
    )
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    address = forms.CharField(label=gettext_lazy("Address"), max_length=200, required=False)
    capacity = forms.IntegerField(label=gettext_lazy("Capacity"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = selectors.communities_managed(user=user).filter(
            level=GridLevel.COMMUNITY
        )


@login_required
def venues(request):
    _require_staff(request.user)
    form = VenueForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.venue_create(
                actor=request.user,
                community=data["community"],
                name=data["name"],
                address=data["address"],
                capacity=data["capacity"],
            )
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            messages.success(request, _("Venue added."))
            return redirect("participation:venues")
    return render(
        request,
        "participation/venues.html",
        {"form": form, "venues": selectors.venues_usable(user=request.user)},
        status=400 if request.method == "POST" else 200,
    )


def _qr_svg(request, occurrence) -> str:
    url = request.build_absolute_uri(
        reverse("participation:check_in", args=[occurrence.check_in_token])
    )
    return segno.make(url, error="m").svg_inline(scale=6, dark="#111", light="#fff"), url


@login_required
def occurrence(request, occurrence_id: int):
    _require_staff(request.user)
    found = selectors.occurrence_get_managed(user=request.user, occurrence_id=occurrence_id)
    counted = selectors.with_counts(
        selectors.occurrences_managed(user=request.user).filter(pk=found.pk), user=request.user
    ).get()
    qr_svg, check_in_url = _qr_svg(request, found)
    providers = []
    if found.activity.kind == ActivityKind.SERVICE_FAIR:
        providers = [
            (kind, ProviderKind(kind).label, rows)
            for kind, rows in selectors.stall_providers(occurrence=found).items()
        ]
    return render(
        request,
        "participation/occurrence.html",
        {
            "occurrence": counted,
            "activity": found.activity,
            "sign_ups": selectors.sign_ups_of(user=request.user, occurrence=found),
            "qr_svg": qr_svg,
            "check_in_url": check_in_url,
            "stalls": found.stalls.select_related("volunteer", "team", "partner"),
            "services": StallService.choices,
            "providers": providers,
            "feedback": selectors.feedback_summary(occurrence=found),
            "feedback_rows": selectors.feedback_of(occurrence=found)[:200],
            "closed": found.state == OccurrenceState.CLOSED,
        },
    )


def _occurrence_action(request, occurrence_id: int, action, success: str):
    _require_staff(request.user)
    found = selectors.occurrence_get_managed(user=request.user, occurrence_id=occurrence_id)
    try:
        action(found)
    except ValidationError as error:
        messages.error(request, _message(error))
    else:
        messages.success(request, success)
    return redirect("participation:occurrence", found.pk)


@login_required
@require_POST
def occurrence_close(request, occurrence_id: int):
    return _occurrence_action(
        request,
        occurrence_id,
        lambda found: services.occurrence_close(occurrence=found, actor=request.user),
        _("Occurrence closed; volunteers' hours are credited."),
    )


@login_required
@require_POST
def occurrence_cancel(request, occurrence_id: int):
    return _occurrence_action(
        request,
        occurrence_id,
        lambda found: services.occurrence_cancel(
            occurrence=found, actor=request.user, reason=request.POST.get("reason", "")
        ),
        _("Occurrence cancelled; everyone signed up has been told."),
    )


@login_required
@require_POST
def minutes(request, occurrence_id: int):
    return _occurrence_action(
        request,
        occurrence_id,
        lambda found: services.minutes_record(
            actor=request.user,
            occurrence=found,
            minutes=request.POST.get("minutes", ""),
            decisions=request.POST.get("decisions", ""),
        ),
        _("Minutes saved."),
    )


@login_required
@require_POST
def stall_new(request, occurrence_id: int):
    def add(found):
        provider_kind = request.POST.get("provider_kind", "")
        try:
            provider_id = int(request.POST.get(f"provider_{provider_kind}", "") or 0) or None
        except ValueError:
            provider_id = None
        services.stall_add(
            actor=request.user,
            occurrence=found,
            service=request.POST.get("service", ""),
            provider_kind=provider_kind,
            provider_id=provider_id,
            label=request.POST.get("label", ""),
        )

    return _occurrence_action(request, occurrence_id, add, _("Stall added."))


@login_required
@require_POST
def stall_served(request, stall_id: int):
    _require_staff(request.user)
    stall = selectors.stall_get_managed(user=request.user, stall_id=stall_id)
    try:
        services.stall_record_served(
            actor=request.user, stall=stall, served_count=request.POST.get("served_count")
        )
    except ValidationError as error:
        messages.error(request, _message(error))
    else:
        messages.success(request, _("Number served saved."))
    return redirect("participation:occurrence", stall.occurrence_id)


@login_required
@require_POST
def organiser_check_in(request, sign_up_id: int):
    _require_staff(request.user)
    sign_up = selectors.sign_up_get_managed(user=request.user, sign_up_id=sign_up_id)
    try:
        if request.POST.get("action") == "check_out":
            services.signup_check_out(sign_up=sign_up, actor=request.user)
        else:
            services.signup_check_in(sign_up=sign_up, actor=request.user)
    except ValidationError as error:
        messages.error(request, _message(error))
    else:
        messages.success(request, _("Attendance saved."))
    return redirect("participation:occurrence", sign_up.occurrence_id)


# Photos ---------------------------------------------------------------------------------


@login_required
@require_POST
def photos_add(request, occurrence_id: int):
    occurrence = selectors.occurrence_get_managed(user=request.user, occurrence_id=occurrence_id)
    try:
        services.occurrence_photos_add(
            actor=request.user, occurrence=occurrence, files=request.FILES.getlist("photos")
        )
    except ValidationError as error:
        messages.error(request, _message(error))
    else:
        messages.success(request, _("Photos added."))
    return redirect("participation:occurrence", occurrence.pk)


@login_required
def photo(request, occurrence_id: int, photo_id: int):
    occurrence = selectors.occurrence_get(user=request.user, occurrence_id=occurrence_id)
    found = ActivityPhoto.objects.filter(pk=photo_id, occurrence=occurrence).first()
    if found is None:
        raise Http404
    response = FileResponse(found.image.open("rb"), content_type=found.content_type)
    response["Cache-Control"] = "no-store"  # personal data (linli.ops.security_headers)
    return response
