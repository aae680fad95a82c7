"""Deliberation (议事厅): topics, rounds of opinions, supports, the resolution (决议) and its
implementation board.

A Topic belongs to one community (its `grid_path` is the community's path, so scope is one
prefix match). It may be lifted from a case; when the topic is done the case is closed
through the cases state machine if its state allows (see deliberation.services.topic_done).
Opinions are never deleted: a moderator hides one with a reason, the author keeps seeing the
original text.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.accounts.fields import GridPathField
from linli.grids.models import WithinPathQuerySet, path_index


class StakeholderGroup(models.TextChoices):
    RESIDENT = "resident", _("Residents (居民)")
    DEPUTY = "deputy", _("People's congress deputies / CPPCC members (人大代表/政协委员)")
    ENTERPRISE = "enterprise", _("Enterprises (企业)")
    SOCIAL_ORG = "social_org", _("Social organisations (社会组织)")
    PROPERTY = "property", _("Property management (物业)")
    PARTY_MEMBER = "party_member", _("Party members (党员)")
    COMMITTEE = "committee", _("Residents' committee (居委)")


class StakeholderMembership(models.Model):
    """A person's standing in a group of one community, recorded by staff. Residents belong
    to 居民 through their household and need no row here."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="stakeholder_groups"
    )
    group = models.CharField(_("group"), max_length=20, choices=StakeholderGroup.choices)
    community = models.ForeignKey(
        "grids.GridUnit", on_delete=models.PROTECT, related_name="+", verbose_name=_("community")
    )
    grid_path = GridPathField(editable=False)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = WithinPathQuerySet.as_manager()

    class Meta:
        ordering = ["grid_path", "group", "id"]
        indexes = [path_index("stakeholder")]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "group", "community"], name="stakeholder_unique_membership"
            ),
            models.CheckConstraint(
                condition=models.Q(group__in=StakeholderGroup.values),
                name="stakeholder_group_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_group_display()}"


class TopicState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Deliberating")
    RESOLVED = "resolved", _("Resolved")
    IMPLEMENTING = "implementing", _("Implementing")
    DONE = "done", _("Done")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class CaseLink(models.TextChoices):
    """What became of the originating case when the topic was done."""

    NONE = "", _("No case")
    CLOSED = "closed", _("Case closed")
    ALREADY_CLOSED = "already_closed", _("Case was already closed")
    LEFT_OPEN = "left_open", _("Case left open (its state does not allow closing)")


class Topic(models.Model):
    community = models.ForeignKey(
        "grids.GridUnit", on_delete=models.PROTECT, related_name="+", verbose_name=_("community")
    )
    grid_path = GridPathField(editable=False)
    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("description"), max_length=4000)
    state = models.CharField(
        _("state"), max_length=12, choices=TopicState.choices, default=TopicState.DRAFT
    )
    # The stakeholder groups invited to speak (values of StakeholderGroup).
    invited_groups = models.JSONField(_("invited groups"), default=list)
    case = models.ForeignKey(
        "cases.Case",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deliberation_topics",
        verbose_name=_("case"),
    )
    case_link = models.CharField(max_length=16, choices=CaseLink.choices, blank=True)
    outcome = models.CharField(_("outcome"), max_length=300, blank=True)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = WithinPathQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("topic")
        verbose_name_plural = _("topics")
        indexes = [path_index("topic")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=TopicState.values), name="topic_state_valid"
            ),
            # A case is lifted into one topic only.
            models.UniqueConstraint(
                fields=["case"], condition=models.Q(case__isnull=False), name="topic_unique_case"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class TopicSupport(models.Model):
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="supports")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # One support per person per topic, also when two taps race (tested on PostgreSQL).
            models.UniqueConstraint(fields=["topic", "user"], name="topic_support_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.topic_id}"


class Round(models.Model):
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="rounds")
    number = models.PositiveSmallIntegerField(_("round"))
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["topic", "number"]
        constraints = [
            models.UniqueConstraint(fields=["topic", "number"], name="round_unique_number"),
            # At most one round of a topic is open at a time.
            models.UniqueConstraint(
                fields=["topic"],
                condition=models.Q(closed_at__isnull=True),
                name="round_one_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.topic_id} #{self.number}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class Opinion(models.Model):
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="opinions")
    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="opinions")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    group = models.CharField(_("group"), max_length=20, choices=StakeholderGroup.choices)
    body = models.TextField(_("opinion"), max_length=2000)
    # Replies go one level deep: a reply's parent is never itself a reply (services).
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replies"
    )
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    hidden_reason = models.CharField(_("reason"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # A top-level opinion's replies, set by deliberation.selectors.opinions_for (not a column).
    reply_list: list["Opinion"]

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(group__in=StakeholderGroup.values),
                name="opinion_group_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(hidden_at__isnull=True) | ~models.Q(hidden_reason=""),
                name="opinion_hidden_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.author} ({self.get_group_display()})"

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None


class OpinionReport(models.Model):
    """Anyone who sees an opinion may report it; a moderator decides whether to hide it."""

    opinion = models.ForeignKey(Opinion, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["opinion", "reporter"], name="opinion_report_once"),
        ]

    def __str__(self) -> str:
        return f"{self.reporter} → {self.opinion_id}"


class ResolutionKind(models.TextChoices):
    VOTE = "vote", _("Vote")
    CONSENSUS = "consensus", _("Consensus")


class Resolution(models.Model):
    topic = models.OneToOneField(Topic, on_delete=models.CASCADE, related_name="resolution")
    kind = models.CharField(_("decided by"), max_length=10, choices=ResolutionKind.choices)
    votes_for = models.PositiveIntegerField(_("for"), null=True, blank=True)
    votes_against = models.PositiveIntegerField(_("against"), null=True, blank=True)
    votes_abstain = models.PositiveIntegerField(_("abstain"), null=True, blank=True)
    text = models.TextField(_("resolution"), max_length=4000)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(
                        kind=ResolutionKind.VOTE,
                        votes_for__isnull=False,
                        votes_against__isnull=False,
                        votes_abstain__isnull=False,
                    )
                    | models.Q(
                        kind=ResolutionKind.CONSENSUS,
                        votes_for__isnull=True,
                        votes_against__isnull=True,
                        votes_abstain__isnull=True,
                    )
                ),
                name="resolution_votes_match_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.topic_id}: {self.get_kind_display()}"


class Milestone(models.Model):
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(_("milestone"), max_length=200)
    due_on = models.DateField(_("due"))
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    responsible_text = models.CharField(_("responsible unit"), max_length=200, blank=True)
    responsible_partner = models.ForeignKey(
        "partners.Partner",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("responsible partner unit"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__lte=100), name="milestone_progress_max"
            ),
            models.CheckConstraint(
                condition=~models.Q(responsible_text="")
                | models.Q(responsible_partner__isnull=False),
                name="milestone_has_responsible",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def responsible(self) -> str:
        if self.responsible_partner_id:
            return self.responsible_partner.name
        return self.responsible_text


class TopicUpdate(models.Model):
    """A dated public note on the implementation board."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="updates")
    milestone = models.ForeignKey(
        Milestone, null=True, blank=True, on_delete=models.SET_NULL, related_name="updates"
    )
    body = models.TextField(_("update"), max_length=2000)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.topic_id} {self.created_at:%Y-%m-%d}"
