"""`/api/v1/deliberation`: the 议事厅 for apps.

Mounted by linli/api.py with `api.add_router("/deliberation", router)`. Conventions follow
cases.api: limit/offset pages `{"items", "count"}`, errors `{"message", "field"}`, 404 for
anything outside the caller's scope, 403 for a refused action, 409 when the topic or round
moved on under the caller (a step its state no longer allows; linli/api.py maps every
refusal by its code). Reads go through deliberation.selectors, writes through
deliberation.services. Authors are
named by display name only; a hidden opinion's text reaches its author alone.
"""

from datetime import date, datetime
from typing import Annotated

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from linli.api_shared import (
    ERRORS,
    WRITE_ERRORS,
    BoundedDate,
    Id,
    NotVisible,
    PageIn,
    column_int,
    column_text,
    paginate,
    visible_or_404,
)
from linli.cases.selectors import case_get
from linli.grids.membership import member_communities
from linli.participation.deliberation import selectors, services
from linli.participation.deliberation.models import (
    Milestone,
    Opinion,
    OpinionReport,
    Resolution,
    Topic,
    TopicUpdate,
)
from linli.partners.models import Partner

router = Router(tags=["deliberation"])


# Schemas ------------------------------------------------------------------------------


class TopicOut(Schema):
    id: int
    community_id: int
    community: str
    title: str
    state: str
    invited_groups: list[str]
    case_id: int | None
    support_count: int
    created_at: datetime


class TopicPage(Schema):
    items: list[TopicOut]
    count: int


class RoundOut(Schema):
    id: int
    number: int
    opened_at: datetime
    closed_at: datetime | None


class OpinionOut(Schema):
    id: int
    round: int
    parent_id: int | None
    author: str
    group: str
    body: str | None = Field(description="null when hidden and you are not the author")
    hidden: bool
    hidden_reason: str
    created_at: datetime


class ResolutionOut(Schema):
    kind: str
    votes_for: int | None
    votes_against: int | None
    votes_abstain: int | None
    text: str
    recorded_at: datetime


class TopicMilestoneOut(Schema):
    id: int
    title: str
    due_on: date
    progress: int
    responsible: str
    responsible_partner_id: int | None


class UpdateOut(Schema):
    id: int
    body: str
    milestone_id: int | None
    created_at: datetime


class TopicDetailOut(TopicOut):
    description: str
    outcome: str
    case_link: str
    supported: bool
    my_groups: list[str]
    rounds: list[RoundOut]
    opinions: list[OpinionOut]
    resolution: ResolutionOut | None
    milestones: list[TopicMilestoneOut]
    updates: list[UpdateOut]


class TopicIn(Schema):
    community_id: Id
    title: column_text(Topic, "title")
    description: column_text(Topic, "description")
    invited_groups: list[column_text(Opinion, "group")] | None = None


class FromCaseIn(Schema):
    case_id: Id


class InviteIn(Schema):
    invited_groups: list[column_text(Opinion, "group")]


class TransitionIn(Schema):
    action: Annotated[str, Field(max_length=20)] = Field(description="open, withdraw or implement")


class OpinionIn(Schema):
    body: column_text(Opinion, "body")
    group: column_text(Opinion, "group") | None = None
    parent_id: Id | None = None


class OpinionReasonIn(Schema):
    reason: column_text(OpinionReport, "reason")


class ResolutionIn(Schema):
    kind: column_text(Resolution, "kind") = Field(description="vote or consensus")
    text: column_text(Resolution, "text")
    votes_for: column_int(Resolution, "votes_for") | None = None
    votes_against: column_int(Resolution, "votes_against") | None = None
    votes_abstain: column_int(Resolution, "votes_abstain") | None = None


class TopicMilestoneIn(Schema):
    title: column_text(Milestone, "title")
    due_on: BoundedDate
    responsible_text: column_text(Milestone, "responsible_text") = ""
    responsible_partner_id: Id | None = None


class ProgressIn(Schema):
    progress: column_int(Milestone, "progress")
    note: column_text(TopicUpdate, "body") = ""


class UpdateIn(Schema):
    body: column_text(TopicUpdate, "body")


class DoneIn(Schema):
    outcome: column_text(Topic, "outcome")


class TopicListFilters(Schema):
    state: column_text(Topic, "state") | None = None


# Helpers ------------------------------------------------------------------------------


def _topic(topic: Topic) -> dict:
    return {
        "id": topic.pk,
        "community_id": topic.community_id,
        "community": topic.community.name,
        "title": topic.title,
        "state": topic.state,
        "invited_groups": topic.invited_groups,
        "case_id": topic.case_id,
        "support_count": (
            topic.support_count if hasattr(topic, "support_count") else topic.supports.count()
        ),
        "created_at": topic.created_at,
    }


def _opinion(opinion: Opinion, user) -> dict:
    return {
        "id": opinion.pk,
        "round": opinion.round.number,
        "parent_id": opinion.parent_id,
        "author": opinion.author.display_name or opinion.author.username,
        "group": opinion.group,
        "body": selectors.opinion_text_for(opinion=opinion, user=user),
        "hidden": opinion.is_hidden,
        "hidden_reason": opinion.hidden_reason,
        "created_at": opinion.created_at,
    }


def _milestone(milestone: Milestone) -> dict:
    return {
        "id": milestone.pk,
        "title": milestone.title,
        "due_on": milestone.due_on,
        "progress": milestone.progress,
        "responsible": milestone.responsible,
        "responsible_partner_id": milestone.responsible_partner_id,
    }


def _visible(user, topic_id: Id) -> Topic:
    return visible_or_404(selectors.topic_get, "topic_id", user=user, topic_id=topic_id)


def _detail(user, topic_id: Id) -> dict:
    topic = _visible(user, topic_id)
    resolution = Resolution.objects.filter(topic=topic).first()
    opinions = []
    for top in selectors.opinions_for(topic=topic):
        opinions.append(_opinion(top, user))
        opinions.extend(_opinion(reply, user) for reply in top.reply_list)
    return {
        **_topic(topic),
        "description": topic.description,
        "outcome": topic.outcome,
        "case_link": topic.case_link,
        "supported": selectors.has_supported(user=user, topic=topic),
        "my_groups": selectors.groups_of(user=user, community=topic.community),
        "rounds": list(topic.rounds.all()),
        "opinions": opinions,
        "resolution": resolution,
        "milestones": [
            _milestone(item) for item in topic.milestones.select_related("responsible_partner")
        ],
        "updates": list(topic.updates.all()),
    }


# Topics -------------------------------------------------------------------------------


@router.get("/topics", response={200: TopicPage, **ERRORS}, summary="Topics I may see")
def topic_list(request: HttpRequest, filters: Query[TopicListFilters], page: Query[PageIn]):
    queryset = selectors.topics_visible(user=request.auth)
    if filters.state:
        queryset = queryset.filter(state=filters.state)
    items, count = paginate(queryset, page)
    return {"items": [_topic(item) for item in items], "count": count}


@router.get("/topics/{int:topic_id}", response={200: TopicDetailOut, **ERRORS})
def topic_detail(request: HttpRequest, topic_id: Id):
    return _detail(request.auth, topic_id)


@router.post("/topics", response={201: TopicDetailOut, **WRITE_ERRORS}, summary="Raise a topic")
def topic_create(request: HttpRequest, payload: TopicIn):
    community = (
        member_communities(user=request.auth).filter(pk=payload.community_id).first()
        or selectors.managed_communities(user=request.auth).filter(pk=payload.community_id).first()
    )
    if community is None:
        raise ValidationError({"community_id": _("Choose one of your communities.")})
    topic = services.topic_create(
        actor=request.auth,
        community=community,
        title=payload.title,
        description=payload.description,
        invited_groups=payload.invited_groups,
    )
    return Status(201, _detail(request.auth, topic.pk))


@router.post("/topics/from-case", response={201: TopicDetailOut, **WRITE_ERRORS})
def topic_from_case(request: HttpRequest, payload: FromCaseIn):
    case = visible_or_404(case_get, "case_id", user=request.auth, case_id=payload.case_id)
    topic = services.topic_from_case(actor=request.auth, case=case)
    return Status(201, _detail(request.auth, topic.pk))


@router.post("/topics/{int:topic_id}/invite", response={200: TopicDetailOut, **WRITE_ERRORS})
def topic_invite(request: HttpRequest, topic_id: Id, payload: InviteIn):
    topic = _visible(request.auth, topic_id)
    services.topic_invite(actor=request.auth, topic=topic, groups=payload.invited_groups)
    return _detail(request.auth, topic_id)


@router.post("/topics/{int:topic_id}/transition", response={200: TopicDetailOut, **WRITE_ERRORS})
def topic_transition(request: HttpRequest, topic_id: Id, payload: TransitionIn):
    topic = _visible(request.auth, topic_id)
    services.topic_transition(actor=request.auth, topic=topic, action=payload.action)
    return _detail(request.auth, topic_id)


@router.post("/topics/{int:topic_id}/support", response={201: TopicDetailOut, **WRITE_ERRORS})
def topic_support(request: HttpRequest, topic_id: Id):
    topic = _visible(request.auth, topic_id)
    services.topic_support(actor=request.auth, topic=topic)
    return Status(201, _detail(request.auth, topic_id))


# Rounds and opinions --------------------------------------------------------------------


@router.post("/topics/{int:topic_id}/rounds/open", response={201: RoundOut, **WRITE_ERRORS})
def round_open(request: HttpRequest, topic_id: Id):
    topic = _visible(request.auth, topic_id)
    return Status(201, services.round_open(actor=request.auth, topic=topic))


@router.post("/topics/{int:topic_id}/rounds/close", response={200: RoundOut, **WRITE_ERRORS})
def round_close(request: HttpRequest, topic_id: Id):
    topic = _visible(request.auth, topic_id)
    return services.round_close(actor=request.auth, topic=topic)


@router.post("/topics/{int:topic_id}/opinions", response={201: OpinionOut, **WRITE_ERRORS})
def opinion_post(request: HttpRequest, topic_id: Id, payload: OpinionIn):
    topic = _visible(request.auth, topic_id)
    parent = None
    if payload.parent_id is not None:
        parent = visible_or_404(
            selectors.opinion_get, "parent_id", user=request.auth, opinion_id=payload.parent_id
        )
    opinion = services.opinion_post(
        actor=request.auth, topic=topic, body=payload.body, group=payload.group, parent=parent
    )
    return Status(201, _opinion(opinion, request.auth))


@router.post("/opinions/{int:opinion_id}/report", response={201: dict[str, int], **WRITE_ERRORS})
def opinion_report(request: HttpRequest, opinion_id: Id, payload: OpinionReasonIn):
    opinion = visible_or_404(
        selectors.opinion_get, "opinion_id", user=request.auth, opinion_id=opinion_id
    )
    report = services.opinion_report(actor=request.auth, opinion=opinion, reason=payload.reason)
    return Status(201, {"id": report.pk})


@router.post("/opinions/{int:opinion_id}/hide", response={200: OpinionOut, **WRITE_ERRORS})
def opinion_hide(request: HttpRequest, opinion_id: Id, payload: OpinionReasonIn):
    opinion = visible_or_404(
        selectors.opinion_get, "opinion_id", user=request.auth, opinion_id=opinion_id
    )
    hidden = services.opinion_hide(actor=request.auth, opinion=opinion, reason=payload.reason)
    return _opinion(hidden, request.auth)


# Resolution and implementation ------------------------------------------------------------


@router.post("/topics/{int:topic_id}/resolution", response={201: ResolutionOut, **WRITE_ERRORS})
def resolution_record(request: HttpRequest, topic_id: Id, payload: ResolutionIn):
    topic = _visible(request.auth, topic_id)
    resolution = services.resolution_record(actor=request.auth, topic=topic, **payload.dict())
    return Status(201, resolution)


@router.post("/topics/{int:topic_id}/milestones", response={201: TopicMilestoneOut, **WRITE_ERRORS})
def milestone_add(request: HttpRequest, topic_id: Id, payload: TopicMilestoneIn):
    topic = _visible(request.auth, topic_id)
    partner = None
    if payload.responsible_partner_id is not None:
        partner = (
            Partner.objects.within([topic.grid_path])
            .filter(pk=payload.responsible_partner_id)
            .first()
        )
        if partner is None:
            raise ValidationError(
                {"responsible_partner_id": _("Choose a partner unit of this community.")}
            )
    milestone = services.milestone_add(
        actor=request.auth,
        topic=topic,
        title=payload.title,
        due_on=payload.due_on,
        responsible_text=payload.responsible_text,
        responsible_partner=partner,
    )
    return Status(201, _milestone(milestone))


@router.post(
    "/topics/{int:topic_id}/milestones/{int:milestone_id}/progress",
    response={200: TopicMilestoneOut, **WRITE_ERRORS},
)
def milestone_progress(request: HttpRequest, topic_id: Id, milestone_id: Id, payload: ProgressIn):
    topic = _visible(request.auth, topic_id)
    milestone = _milestone_or_404(topic, milestone_id)
    updated = services.milestone_progress(
        actor=request.auth,
        milestone=milestone,
        progress=payload.progress,
        note=payload.note,
    )
    return _milestone(updated)


def _milestone_or_404(topic: Topic, milestone_id: Id) -> Milestone:
    found = topic.milestones.filter(pk=milestone_id).first()
    if found is None:
        raise NotVisible("milestone_id")
    return found


@router.post("/topics/{int:topic_id}/updates", response={201: UpdateOut, **WRITE_ERRORS})
def update_post(request: HttpRequest, topic_id: Id, payload: UpdateIn):
    topic = _visible(request.auth, topic_id)
    update = services.topic_update_post(actor=request.auth, topic=topic, body=payload.body)
    return Status(201, update)


@router.post("/topics/{int:topic_id}/done", response={200: TopicDetailOut, **WRITE_ERRORS})
def topic_done(request: HttpRequest, topic_id: Id, payload: DoneIn):
    topic = _visible(request.auth, topic_id)
    services.topic_done(actor=request.auth, topic=topic, **payload.dict())
    return _detail(request.auth, topic_id)
