"""Every write about deliberation (议事厅). One named action, one transaction each; a refused
action raises ValidationError naming the field and writes nothing.

Who may act:
- any member of a community (linli.grids.membership.member_community_ids), a micro-grid
  lead included, raises a topic (it starts as a draft), supports an open topic once, posts
  opinions and replies while a round is open, and reports an opinion;
- staff with DELIBERATION_MANAGE on the topic's path (street admin, secretary) invite
  groups, open and withdraw topics, open and close rounds, record the resolution, keep the
  implementation board, record stakeholder memberships and hide opinions (audited).

State: draft → open (deliberating) → resolved → implementing → done; draft or open →
withdrawn. When a topic lifted from a case is done, the case is closed through
cases.services.case_transition when its state allows (resolved: verify then close;
verified: close). Otherwise the case is left as it is and `Topic.case_link` says so on the
topic page: a deliberation never forces a case past the checks of the case loop.

A topic's participants and followers hear of each round, the resolution, the end and a
withdrawal (participation.notices).
"""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from linli import clock
from linli.accounts.grid_paths import is_within, path_ancestors
from linli.accounts.models import AuditAction, User
from linli.accounts.services import audit_record
from linli.cases.models import Case, CaseState
from linli.cases.selectors import cases_visible
from linli.cases.services import case_transition
from linli.errors import Conflict, Invalid, NotAllowed
from linli.grids.membership import is_member
from linli.grids.models import GridLevel, GridUnit
from linli.participation import notices
from linli.participation.deliberation import selectors
from linli.participation.deliberation.models import (
    CaseLink,
    Milestone,
    Opinion,
    OpinionReport,
    Resolution,
    ResolutionKind,
    Round,
    StakeholderGroup,
    StakeholderMembership,
    Topic,
    TopicState,
    TopicSupport,
    TopicUpdate,
)
from linli.partners.models import Partner

S = TopicState

# action -> (states it is allowed from, state it leads to). Resolution and the step to done
# have their own actions below because they carry data.
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "open": (frozenset({S.DRAFT}), S.OPEN),
    "withdraw": (frozenset({S.DRAFT, S.OPEN}), S.WITHDRAWN),
    "implement": (frozenset({S.RESOLVED}), S.IMPLEMENTING),
}


def _require_manage(actor: User, grid_path: str) -> None:
    if not selectors.may_manage(actor, grid_path):
        raise NotAllowed(_("You may not run deliberation in this community."))


def _text(value, field: str, max_length: int, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    if len(value) > max_length:
        raise ValidationError(
            {field: _("Keep it to %(count)d characters.") % {"count": max_length}}
        )
    return value


def _locked(topic: Topic) -> Topic:
    return Topic.objects.select_for_update().get(pk=topic.pk)


def _require_state(topic: Topic, states, message: str) -> None:
    if topic.state not in states:
        raise Conflict(message, field="state", code="illegal_transition")


def _groups(values, field: str = "invited_groups") -> list[str]:
    values = list(values or [])
    unknown = [value for value in values if value not in StakeholderGroup.values]
    if unknown:
        raise ValidationError({field: _("Unknown group: %(group)s.") % {"group": unknown[0]}})
    return [value for value in StakeholderGroup.values if value in values]


def _community_of(path: str) -> GridUnit:
    community = GridUnit.objects.filter(
        level=GridLevel.COMMUNITY, path__in=path_ancestors(path)
    ).first()
    if community is None:
        raise ValidationError({"case": _("This case does not belong to a community.")})
    return community


# Stakeholder groups ---------------------------------------------------------------------


@transaction.atomic
def stakeholder_membership_add(
    *, actor: User, user: User, group: str, community: GridUnit
) -> StakeholderMembership:
    if community.level != GridLevel.COMMUNITY:
        raise ValidationError({"community": _("Choose a community.")})
    _require_manage(actor, community.path)
    _groups([group], field="group")
    if StakeholderMembership.objects.filter(user=user, group=group, community=community).exists():
        raise ValidationError({"group": _("This person already belongs to that group.")})
    membership = StakeholderMembership.objects.create(
        user=user, group=group, community=community, grid_path=community.path, verified_by=actor
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="stakeholder_membership",
        object_id=membership.pk,
        object_label=f"{user} · {StakeholderGroup(group).label}",
        grid_path=community.path,
    )
    return membership


@transaction.atomic
def stakeholder_membership_remove(*, actor: User, membership: StakeholderMembership) -> None:
    _require_manage(actor, membership.grid_path)
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        object_type="stakeholder_membership",
        object_id=membership.pk,
        object_label=f"{membership.user} · {membership.get_group_display()}",
        grid_path=membership.grid_path,
    )
    membership.delete()


# Topics -----------------------------------------------------------------------------------


@transaction.atomic
def topic_create(
    *,
    actor: User,
    community: GridUnit,
    title: str,
    description: str,
    invited_groups: list[str] | None = None,
) -> Topic:
    if community is None or community.level != GridLevel.COMMUNITY:
        raise ValidationError({"community": _("Choose a community.")})
    if not (
        is_member(user=actor, community=community) or selectors.may_manage(actor, community.path)
    ):
        raise NotAllowed(_("You may raise topics only in your own community."))
    title = _text(title, "title", 100, _("Give the topic a title."))
    description = _text(description, "description", 4000, _("Describe the topic."))
    groups: list[str] = [StakeholderGroup.RESIDENT]
    if invited_groups is not None:
        if not selectors.may_manage(actor, community.path):
            raise NotAllowed(_("Only staff invite stakeholder groups."))
        groups = _groups(invited_groups)
    return Topic.objects.create(
        community=community,
        grid_path=community.path,
        title=title,
        description=description,
        invited_groups=groups,
        raised_by=actor,
    )


@transaction.atomic
def topic_from_case(*, actor: User, case: Case) -> Topic:
    """Lift a case into a draft topic in one step: its title and description are copied, its
    community is the case's, and the topic keeps a link to it."""
    if not cases_visible(user=actor).filter(pk=case.pk).exists():
        raise NotAllowed(_("You may not see this case."))
    community = _community_of(case.grid_path)
    _require_manage(actor, community.path)
    if Topic.objects.filter(case=case).exists():
        raise ValidationError({"case": _("This case is already a deliberation topic.")})
    try:
        with transaction.atomic():
            return Topic.objects.create(
                community=community,
                grid_path=community.path,
                title=case.title[:100],
                description=case.description or case.title,
                invited_groups=[StakeholderGroup.RESIDENT],
                case=case,
                raised_by=actor,
            )
    except IntegrityError:
        # Two staff lifted the same case at once; the unique constraint kept one topic.
        raise ValidationError({"case": _("This case is already a deliberation topic.")}) from None


@transaction.atomic
def topic_invite(*, actor: User, topic: Topic, groups: list[str]) -> Topic:
    _require_manage(actor, topic.grid_path)
    topic = _locked(topic)
    _require_state(topic, {S.DRAFT, S.OPEN}, _("Groups are invited before the resolution."))
    groups = _groups(groups)
    if not groups:
        raise ValidationError({"invited_groups": _("Invite at least one group.")})
    topic.invited_groups = groups
    topic.save(update_fields=["invited_groups", "updated_at"])
    return topic


@transaction.atomic
def topic_transition(*, actor: User, topic: Topic, action: str) -> Topic:
    if action not in TRANSITIONS:
        raise ValidationError({"action": _("Unknown action.")})
    _require_manage(actor, topic.grid_path)
    topic = _locked(topic)
    allowed, target = TRANSITIONS[action]
    _require_state(
        topic,
        allowed,
        _("This is not possible while the topic is “%(state)s”.")
        % {"state": TopicState(topic.state).label},
    )
    if action == "withdraw":
        Round.objects.filter(topic=topic, closed_at__isnull=True).update(closed_at=clock.now())
    topic.state = target
    topic.save(update_fields=["state", "updated_at"])
    if action == "withdraw":
        notices.topic_withdrawn(topic=topic, actor=actor)
    return topic


# Rounds -----------------------------------------------------------------------------------


@transaction.atomic
def round_open(*, actor: User, topic: Topic) -> Round:
    _require_manage(actor, topic.grid_path)
    topic = _locked(topic)
    _require_state(topic, {S.OPEN}, _("Open the topic before opening a round."))
    if Round.objects.filter(topic=topic, closed_at__isnull=True).exists():
        raise Conflict(_("A round is already open."), field="round", code="round_open")
    number = Round.objects.filter(topic=topic).count() + 1
    opened = Round.objects.create(
        topic=topic, number=number, opened_at=clock.now(), opened_by=actor
    )
    notices.round_opened(topic=topic, number=number, actor=actor)
    return opened


@transaction.atomic
def round_close(*, actor: User, topic: Topic) -> Round:
    _require_manage(actor, topic.grid_path)
    topic = _locked(topic)
    current = Round.objects.filter(topic=topic, closed_at__isnull=True).first()
    if current is None:
        raise Conflict(_("No round is open."), field="round", code="round_closed")
    current.closed_at = clock.now()
    current.save(update_fields=["closed_at"])
    notices.round_closed(topic=topic, number=current.number, actor=actor)
    return current


# Supports and opinions --------------------------------------------------------------------


def _require_member(actor: User, topic: Topic, message: str) -> None:
    if not is_member(user=actor, community=topic.community):
        raise NotAllowed(message)


def _already_supported() -> Invalid:
    # Its own code, answered 400: the support is already there, as the person wanted.
    return Invalid(_("You already support this topic."), field="topic", code="supported")


@transaction.atomic
def topic_support(*, actor: User, topic: Topic) -> TopicSupport:
    _require_member(actor, topic, _("Only members of the community support its topics."))
    _require_state(topic, {S.OPEN}, _("Topics are supported while they are deliberated."))
    if TopicSupport.objects.filter(topic=topic, user=actor).exists():
        raise _already_supported()
    try:
        # A savepoint: when two taps race, the unique constraint refuses the second one and
        # the outer transaction stays usable for the clear refusal.
        with transaction.atomic():
            return TopicSupport.objects.create(topic=topic, user=actor)
    except IntegrityError:
        raise _already_supported() from None


@transaction.atomic
def opinion_post(
    *,
    actor: User,
    topic: Topic,
    body: str,
    group: str | None = None,
    parent: Opinion | None = None,
) -> Opinion:
    _require_member(actor, topic, _("Only members of the community take part."))
    body = _text(body, "body", 2000, _("Write your opinion."))
    _require_state(topic, {S.OPEN}, _("Opinions are posted while the topic is deliberated."))
    current = Round.objects.filter(topic=topic, closed_at__isnull=True).first()
    if current is None:
        raise ValidationError({"round": _("No round is open; opinions wait for the next one.")})
    mine = selectors.groups_of(user=actor, community=topic.community)
    speaking = [value for value in mine if value in topic.invited_groups]
    if not group:
        if StakeholderGroup.RESIDENT in speaking:
            group = StakeholderGroup.RESIDENT
        elif len(speaking) == 1:
            group = speaking[0]
        elif not speaking:
            raise NotAllowed(_("None of your groups is invited to this topic."), field="group")
        else:
            raise ValidationError({"group": _("Choose the group you speak for.")})
    _groups([group], field="group")
    if group not in mine:
        raise NotAllowed(_("You do not belong to that group."), field="group")
    if group not in topic.invited_groups:
        raise NotAllowed(_("That group is not invited to this topic."), field="group")
    if parent is not None:
        if parent.topic_id != topic.pk:
            raise ValidationError({"parent": _("Reply to an opinion of this topic.")})
        if parent.parent_id is not None:
            raise ValidationError({"parent": _("Replies go one level deep.")})
    return Opinion.objects.create(
        topic=topic, round=current, author=actor, group=group, body=body, parent=parent
    )


@transaction.atomic
def opinion_report(*, actor: User, opinion: Opinion, reason: str) -> OpinionReport:
    _require_member(actor, opinion.topic, _("Only members of the community report opinions."))
    reason = _text(reason, "reason", 300, _("Say why you report this opinion."))
    if OpinionReport.objects.filter(opinion=opinion, reporter=actor).exists():
        raise ValidationError({"opinion": _("You already reported this opinion.")})
    return OpinionReport.objects.create(opinion=opinion, reporter=actor, reason=reason)


@transaction.atomic
def opinion_hide(*, actor: User, opinion: Opinion, reason: str) -> Opinion:
    """Hide, never delete: the author keeps seeing the original, others see the reason."""
    _require_manage(actor, opinion.topic.grid_path)
    reason = _text(reason, "reason", 300, _("Say why the opinion is hidden."))
    opinion = Opinion.objects.select_for_update().get(pk=opinion.pk)
    if opinion.is_hidden:
        raise ValidationError({"opinion": _("This opinion is already hidden.")})
    opinion.hidden_at = clock.now()
    opinion.hidden_by = actor
    opinion.hidden_reason = reason
    opinion.save(update_fields=["hidden_at", "hidden_by", "hidden_reason"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="opinion",
        field="hidden",
        object_id=opinion.pk,
        object_label=opinion.topic.title,
        reason=reason,
        grid_path=opinion.topic.grid_path,
    )
    return opinion


# Resolution and implementation ------------------------------------------------------------


def _count(value, field: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError({field: _("Give a whole number.")}) from None
    if number < 0:
        raise ValidationError({field: _("A count cannot be negative.")})
    return number


@transaction.atomic
def resolution_record(
    *,
    actor: User,
    topic: Topic,
    kind: str,
    text: str,
    votes_for=None,
    votes_against=None,
    votes_abstain=None,
) -> Resolution:
    _require_manage(actor, topic.grid_path)
    topic = _locked(topic)
    _require_state(topic, {S.OPEN}, _("A resolution is recorded on a topic under deliberation."))
    if kind not in ResolutionKind.values:
        raise ValidationError({"kind": _("Choose vote or consensus.")})
    text = _text(text, "text", 4000, _("Write the resolution."))
    counts: dict[str, int | None] = {
        "votes_for": None,
        "votes_against": None,
        "votes_abstain": None,
    }
    if kind == ResolutionKind.VOTE:
        votes = {
            "votes_for": _count(votes_for, "votes_for"),
            "votes_against": _count(votes_against, "votes_against"),
            "votes_abstain": _count(votes_abstain, "votes_abstain"),
        }
        if sum(votes.values()) == 0:
            raise ValidationError({"votes_for": _("A vote needs at least one vote cast.")})
        counts.update(votes)
    Round.objects.filter(topic=topic, closed_at__isnull=True).update(closed_at=clock.now())
    resolution = Resolution.objects.create(
        topic=topic, kind=kind, text=text, recorded_by=actor, **counts
    )
    topic.state = S.RESOLVED
    topic.save(update_fields=["state", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="resolution",
        object_id=topic.pk,
        object_label=topic.title,
        changes={"kind": kind, **counts},
        grid_path=topic.grid_path,
    )
    notices.topic_resolved(topic=topic, actor=actor)
    return resolution


def _require_board(topic: Topic) -> None:
    _require_state(
        topic,
        {S.RESOLVED, S.IMPLEMENTING},
        _("The implementation board opens once the resolution is recorded."),
    )


@transaction.atomic
def milestone_add(
    *,
    actor: User,
    topic: Topic,
    title: str,
    due_on: date | None,
    responsible_text: str = "",
    responsible_partner: Partner | None = None,
) -> Milestone:
    _require_manage(actor, topic.grid_path)
    topic = _locked(topic)
    _require_board(topic)
    title = _text(title, "title", 200, _("Name the milestone."))
    if not isinstance(due_on, date):
        raise ValidationError({"due_on": _("Give the due date.")})
    responsible_text = (responsible_text or "").strip()[:200]
    if responsible_partner is not None and not is_within(
        responsible_partner.grid_path, [topic.grid_path]
    ):
        raise ValidationError(
            {"responsible_partner": _("Choose a partner unit of this community.")}
        )
    if not responsible_text and responsible_partner is None:
        raise ValidationError({"responsible_text": _("Name the responsible unit.")})
    milestone = Milestone.objects.create(
        topic=topic,
        title=title,
        due_on=due_on,
        responsible_text=responsible_text,
        responsible_partner=responsible_partner,
    )
    if topic.state == S.RESOLVED:
        # The first milestone starts the implementation.
        topic.state = S.IMPLEMENTING
        topic.save(update_fields=["state", "updated_at"])
    return milestone


@transaction.atomic
def milestone_progress(*, actor: User, milestone: Milestone, progress, note: str = "") -> Milestone:
    topic = milestone.topic
    _require_manage(actor, topic.grid_path)
    topic = _locked(topic)
    _require_state(topic, {S.IMPLEMENTING}, _("Progress is kept while the topic is implemented."))
    try:
        value = int(progress)
    except (TypeError, ValueError):
        raise ValidationError({"progress": _("Give the progress as a whole number.")}) from None
    if not 0 <= value <= 100:
        raise ValidationError({"progress": _("Progress runs from 0 to 100.")})
    milestone = Milestone.objects.select_for_update().get(pk=milestone.pk)
    milestone.progress = value
    milestone.save(update_fields=["progress", "updated_at"])
    note = (note or "").strip()
    if note:
        TopicUpdate.objects.create(topic=topic, milestone=milestone, body=note[:2000], author=actor)
    return milestone


@transaction.atomic
def topic_update_post(*, actor: User, topic: Topic, body: str) -> TopicUpdate:
    _require_manage(actor, topic.grid_path)
    _require_board(topic)
    body = _text(body, "body", 2000, _("Write the update."))
    return TopicUpdate.objects.create(topic=topic, body=body, author=actor)


# The steps of the case loop that close a case, from each state that allows closing.
CASE_CLOSING_STEPS: dict[str, list[str]] = {
    CaseState.RESOLVED: ["verify", "close"],
    CaseState.VERIFIED: ["close"],
}


def _close_case(*, actor: User, topic: Topic, case_id: int) -> str:
    """Close the originating case through the case loop when its state allows; say what
    happened. A refusal of the case loop (state or permission) leaves the case untouched."""
    case = Case.objects.get(pk=case_id)
    if case.state == CaseState.CLOSED:
        return CaseLink.ALREADY_CLOSED
    steps = CASE_CLOSING_STEPS.get(case.state)
    if steps is None:
        return CaseLink.LEFT_OPEN
    note = _("Closed by the deliberation resolution: %(link)s") % {
        "link": reverse("participation:deliberation_detail", args=[topic.pk])
    }
    try:
        with transaction.atomic():
            for action in steps:
                case = case_transition(case=case, actor=actor, action=action, note=note)
    except ValidationError:
        return CaseLink.LEFT_OPEN
    return CaseLink.CLOSED


@transaction.atomic
def topic_done(*, actor: User, topic: Topic, outcome: str) -> Topic:
    _require_manage(actor, topic.grid_path)
    topic = _locked(topic)
    _require_state(topic, {S.IMPLEMENTING}, _("Only a topic being implemented can be done."))
    topic.outcome = _text(outcome, "outcome", 300, _("Say what came of it."))
    topic.state = S.DONE
    if topic.case_id:
        topic.case_link = _close_case(actor=actor, topic=topic, case_id=topic.case_id)
    topic.save(update_fields=["outcome", "state", "case_link", "updated_at"])
    notices.topic_finished(topic=topic, actor=actor)
    return topic
