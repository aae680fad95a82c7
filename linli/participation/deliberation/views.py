"""Deliberation pages (议事厅).

Members of a community (residents, leaders, volunteers): the topic list of their
communities, raising a topic, a topic's page with its rounds, opinions by group, the support
button, the resolution and the implementation board. Staff with DELIBERATION_MANAGE find
their controls on the same topic page (invite groups, open/withdraw, rounds, resolution,
milestones, updates, done, hide opinions), plus the stakeholder-groups page and "lift a case
into a topic".

Views stay thin: reads through deliberation.selectors (out of scope answers 404), writes
through deliberation.services (a refusal is shown as a message; nothing was written).
"""

from collections import Counter

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from linli.accounts.models import User
from linli.cases.selectors import case_get, cases_visible
from linli.forms import form_add_errors
from linli.grids.membership import is_member, member_communities
from linli.grids.models import GridUnit
from linli.notify.selectors import is_following
from linli.notify.services import follow, unfollow
from linli.participation.deliberation import selectors, services
from linli.participation.deliberation.models import (
    Resolution,
    ResolutionKind,
    StakeholderGroup,
    TopicState,
)
from linli.participation.notices import topic_target
from linli.partners.models import Partner


def _message(error: ValidationError) -> str:
    return " ".join(error.messages)


def _detail_url(topic_id: int) -> str:
    return reverse("participation:deliberation_detail", args=[topic_id])


# Members ----------------------------------------------------------------------------------


@login_required
def topic_list(request):
    topics = selectors.topics_visible(user=request.user).exclude(state=TopicState.WITHDRAWN)
    return render(
        request,
        "participation/deliberation/list.html",
        {"topics": topics[:100], "staff": selectors.may_manage(request.user)},
    )


class TopicForm(forms.Form):
    community = forms.ModelChoiceField(label=gettext_lazy("Community"), queryset=None)
    title = forms.CharField(label=gettext_lazy("Title"), max_length=100)
    description = forms.CharField(
        label=gettext_lazy("Description"), max_length=4000, widget=forms.Textarea
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        ids = set(member_communities(user=user).values_list("pk", flat=True))
        ids |= set(selectors.managed_communities(user=user).values_list("pk", flat=True))
        queryset = GridUnit.objects.filter(pk__in=ids)
        self.fields["community"].queryset = queryset.order_by("path")
        if len(ids) == 1:
            self.fields["community"].initial = next(iter(ids))


@login_required
def topic_new(request):
    form = TopicForm(request.POST or None, user=request.user)
    if not form.fields["community"].queryset.exists():
        raise Http404
    if request.method == "POST" and form.is_valid():
        try:
            topic = services.topic_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            messages.success(request, _("Your topic is saved; staff will open it for discussion."))
            return redirect(_detail_url(topic.pk))
    return render(request, "participation/deliberation/topic_form.html", {"form": form})


@login_required
def topic_detail(request, topic_id: int):
    topic = selectors.topic_get(user=request.user, topic_id=topic_id)
    opinions = selectors.opinions_for(topic=topic)
    for opinion in [*opinions, *[reply for top in opinions for reply in top.reply_list]]:
        opinion.visible_body = selectors.opinion_text_for(opinion=opinion, user=request.user)
    my_groups = selectors.groups_of(user=request.user, community=topic.community)
    staff = selectors.may_manage(request.user, topic.grid_path)
    labels = dict(StakeholderGroup.choices)
    by_group = Counter(opinion.group for top in opinions for opinion in [top, *top.reply_list])
    return render(
        request,
        "participation/deliberation/detail.html",
        {
            "topic": topic,
            "rounds": list(topic.rounds.all()),
            "current_round": topic.rounds.filter(closed_at__isnull=True).first(),
            "opinions": opinions,
            "by_group": [(labels[value], by_group[value]) for value in labels if by_group[value]],
            "invited": [labels[value] for value in topic.invited_groups if value in labels],
            "speaking_groups": [
                (value, labels[value]) for value in my_groups if value in topic.invited_groups
            ],
            "supported": selectors.has_supported(user=request.user, topic=topic),
            "member": is_member(user=request.user, community=topic.community),
            "resolution": Resolution.objects.filter(topic=topic).first(),
            "milestones": topic.milestones.select_related("responsible_partner"),
            "updates": topic.updates.all()[:50],
            "staff": staff,
            "groups": StakeholderGroup.choices,
            "resolution_kinds": ResolutionKind.choices,
            "partners": Partner.objects.within([topic.grid_path]) if staff else [],
            "following": is_following(user=request.user, target=topic_target(topic.pk)),
        },
    )


@login_required
@require_POST
def follow_topic(request, topic_id: int):
    """Follow a topic one may see: its rounds, resolution and end reach one's channels."""
    topic = selectors.topic_get(user=request.user, topic_id=topic_id)
    follow(user=request.user, target=topic_target(topic.pk))
    messages.success(request, _("You follow this topic."))
    return redirect(_detail_url(topic.pk))


@login_required
@require_POST
def unfollow_topic(request, topic_id: int):
    topic = selectors.topic_get(user=request.user, topic_id=topic_id)
    unfollow(user=request.user, target=topic_target(topic.pk))
    messages.success(request, _("You no longer follow this topic."))
    return redirect(_detail_url(topic.pk))


def _act(request, topic_id: int, call, success: str, **kwargs):
    """Run one write on a visible topic and go back to its page with the outcome."""
    topic = selectors.topic_get(user=request.user, topic_id=topic_id)
    try:
        call(actor=request.user, topic=topic, **kwargs)
    except ValidationError as error:
        messages.error(request, _message(error))
    else:
        messages.success(request, success)
    return redirect(_detail_url(topic_id))


def _act_on_opinion(request, opinion_id: int, call, success: str):
    """Report or hide a visible opinion, with the reason from the form, back to its topic."""
    opinion = selectors.opinion_get(user=request.user, opinion_id=opinion_id)
    try:
        call(actor=request.user, opinion=opinion, reason=request.POST.get("reason", ""))
    except ValidationError as error:
        messages.error(request, _message(error))
    else:
        messages.success(request, success)
    return redirect(_detail_url(opinion.topic_id))


@login_required
@require_POST
def support(request, topic_id: int):
    return _act(request, topic_id, services.topic_support, _("Thank you for your support."))


@login_required
@require_POST
def opinion_post(request, topic_id: int):
    parent = None
    if request.POST.get("parent"):
        parent = selectors.opinion_get(user=request.user, opinion_id=request.POST["parent"])
    return _act(
        request,
        topic_id,
        services.opinion_post,
        _("Your opinion is posted."),
        body=request.POST.get("body", ""),
        group=request.POST.get("group") or None,
        parent=parent,
    )


@login_required
@require_POST
def opinion_report(request, opinion_id: int):
    return _act_on_opinion(
        request, opinion_id, services.opinion_report, _("Thank you; a moderator will look at it.")
    )


# Staff ------------------------------------------------------------------------------------


@login_required
@require_POST
def opinion_hide(request, opinion_id: int):
    return _act_on_opinion(request, opinion_id, services.opinion_hide, _("The opinion is hidden."))


@login_required
@require_POST
def invite(request, topic_id: int):
    return _act(
        request,
        topic_id,
        services.topic_invite,
        _("The invited groups are saved."),
        groups=request.POST.getlist("groups"),
    )


@login_required
@require_POST
def transition(request, topic_id: int):
    return _act(
        request,
        topic_id,
        services.topic_transition,
        _("The topic is updated."),
        action=request.POST.get("action", ""),
    )


@login_required
@require_POST
def round_open(request, topic_id: int):
    return _act(request, topic_id, services.round_open, _("A new round is open."))


@login_required
@require_POST
def round_close(request, topic_id: int):
    return _act(request, topic_id, services.round_close, _("The round is closed."))


@login_required
@require_POST
def resolution(request, topic_id: int):
    return _act(
        request,
        topic_id,
        services.resolution_record,
        _("The resolution is recorded."),
        kind=request.POST.get("kind", ""),
        text=request.POST.get("text", ""),
        votes_for=request.POST.get("votes_for"),
        votes_against=request.POST.get("votes_against"),
        votes_abstain=request.POST.get("votes_abstain"),
    )


class MilestoneForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Milestone"), max_length=200)
    due_on = forms.DateField(label=gettext_lazy("Due"))
    responsible_text = forms.CharField(
        label=gettext_lazy("Responsible unit"), max_length=200, required=False
    )
    responsible_partner = forms.IntegerField(required=False)


@login_required
@require_POST
def milestone_add(request, topic_id: int):
    topic = selectors.topic_get(user=request.user, topic_id=topic_id)
    form = MilestoneForm(request.POST)
    if not form.is_valid():
        field, errors = next(iter(form.errors.items()))
        messages.error(request, f"{form.fields[field].label or field}: {errors[0]}")
        return redirect(_detail_url(topic_id))
    data = form.cleaned_data
    partner = None
    if data["responsible_partner"]:
        partner = (
            Partner.objects.within([topic.grid_path]).filter(pk=data["responsible_partner"]).first()
        )
    return _act(
        request,
        topic_id,
        services.milestone_add,
        _("The milestone is added."),
        title=data["title"],
        due_on=data["due_on"],
        responsible_text=data["responsible_text"],
        responsible_partner=partner,
    )


@login_required
@require_POST
def milestone_progress(request, topic_id: int, milestone_id: int):
    topic = selectors.topic_get(user=request.user, topic_id=topic_id)
    milestone = topic.milestones.filter(pk=milestone_id).first()
    if milestone is None:
        raise Http404
    try:
        services.milestone_progress(
            actor=request.user,
            milestone=milestone,
            progress=request.POST.get("progress"),
            note=request.POST.get("note", ""),
        )
    except ValidationError as error:
        messages.error(request, _message(error))
    else:
        messages.success(request, _("Progress is saved."))
    return redirect(_detail_url(topic_id))


@login_required
@require_POST
def update_post(request, topic_id: int):
    return _act(
        request,
        topic_id,
        services.topic_update_post,
        _("The update is published."),
        body=request.POST.get("body", ""),
    )


@login_required
@require_POST
def done(request, topic_id: int):
    return _act(
        request,
        topic_id,
        services.topic_done,
        _("The topic is done."),
        outcome=request.POST.get("outcome", ""),
    )


@login_required
@require_POST
def from_case(request, case_id: int | None = None):
    """Lift a case into a draft topic: from a link carrying the case id, or from the staff
    form on the topic list that names the case by its reference."""
    if case_id is None:
        reference = request.POST.get("reference", "").strip()
        found = cases_visible(user=request.user).filter(reference=reference).first()
        if found is None:
            messages.error(request, _("No case with that reference is in your scope."))
            return redirect(reverse("participation:deliberation_list"))
        case_id = found.pk
    case = case_get(user=request.user, case_id=case_id)
    try:
        topic = services.topic_from_case(actor=request.user, case=case)
    except ValidationError as error:
        messages.error(request, _message(error))
        return redirect(reverse("participation:deliberation_list"))
    messages.success(request, _("The case is now a deliberation topic."))
    return redirect(_detail_url(topic.pk))


class MembershipForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("Username"), max_length=150)
    group = forms.ChoiceField(label=gettext_lazy("Group"), choices=StakeholderGroup.choices)
    community = forms.ModelChoiceField(label=gettext_lazy("Community"), queryset=None)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = selectors.managed_communities(user=user)


@login_required
def memberships(request):
    if not selectors.may_manage(request.user):
        raise Http404
    form = MembershipForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        person = User.objects.filter(username=form.cleaned_data["username"]).first()
        if person is None:
            form.add_error("username", _("No such user."))
        else:
            try:
                services.stakeholder_membership_add(
                    actor=request.user,
                    user=person,
                    group=form.cleaned_data["group"],
                    community=form.cleaned_data["community"],
                )
            except ValidationError as error:
                form_add_errors(form, error)
            else:
                messages.success(request, _("The membership is recorded."))
                return redirect(reverse("participation:deliberation_groups"))
    return render(
        request,
        "participation/deliberation/groups.html",
        {"form": form, "memberships": selectors.memberships_managed(user=request.user)[:500]},
    )


@login_required
@require_POST
def membership_remove(request, membership_id: int):
    membership = selectors.memberships_managed(user=request.user).filter(pk=membership_id).first()
    if membership is None:
        raise Http404
    services.stakeholder_membership_remove(actor=request.user, membership=membership)
    messages.success(request, _("The membership is removed."))
    return redirect(reverse("participation:deliberation_groups"))
