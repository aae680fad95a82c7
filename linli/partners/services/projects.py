"""项目清单 (the projects list): a need matched to a resource with an owner, a schedule and
milestones; the project completes with its last milestone.
"""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from linli import clock
from linli.accounts.models import User
from linli.accounts.roles import Permission
from linli.errors import NotAllowed
from linli.partners.models import Milestone, Need, Project, ProjectState, Resource
from linli.partners.services.common import path_has
from linli.partners.services.partners import agreement_check
from linli.partners.services.providers import acts_for_provider, provider_reaches


@transaction.atomic
def project_create(
    *,
    actor: User,
    need: Need,
    resource: Resource,
    title: str,
    owner: User,
    starts_on: date,
    ends_on: date | None = None,
    schedule: str = "",
    milestones: list[tuple[str, date]] | None = None,
) -> Project:
    """项目清单: match a need to a resource with an owner, a schedule and milestones."""
    if not path_has(actor, Permission.LISTS_MANAGE, need.grid_path):
        raise NotAllowed(_("You may not create projects here."))
    errors: dict[str, str] = {}
    title = (title or "").strip() or need.title
    if len(title) > 100:
        errors["title"] = _("The title is limited to 100 characters.")
    if not provider_reaches(need, resource.grid_path):
        errors["resource"] = _("This resource serves another community.")
    if owner is None or not (
        path_has(owner, Permission.LISTS_MANAGE, need.grid_path)
        or acts_for_provider(
            user=owner, partner_id=resource.partner_id, volunteer_id=resource.volunteer_id
        )
    ):
        errors["owner"] = _("The owner must be community staff or act for the provider.")
    if not isinstance(starts_on, date):
        errors["starts_on"] = _("Give the start date.")
    elif ends_on is not None and ends_on < starts_on:
        errors["ends_on"] = _("The project must end on or after its start.")
    for index, (label, due) in enumerate(milestones or []):
        if not (label or "").strip() or not isinstance(due, date):
            errors[f"milestones.{index}"] = _("Each milestone needs a title and a date.")
    if errors:
        raise ValidationError(errors)
    if resource.partner is not None:
        agreement_check(partner=resource.partner, on=starts_on, until=ends_on)
    project = Project.objects.create(
        need=need,
        resource=resource,
        grid_path=need.grid_path,
        title=title,
        owner=owner,
        starts_on=starts_on,
        ends_on=ends_on,
        schedule=(schedule or "").strip()[:200],
        state=ProjectState.ACTIVE if starts_on <= clock.localdate() else ProjectState.PLANNED,
    )
    Milestone.objects.bulk_create(
        Milestone(project=project, title=label.strip()[:200], due_on=due)
        for label, due in milestones or []
    )
    return project


@transaction.atomic
def milestone_done(*, actor: User, milestone: Milestone, on: date | None = None) -> Milestone:
    project = milestone.project
    if not (
        actor is not None
        and (
            actor.pk == project.owner_id
            or path_has(actor, Permission.LISTS_MANAGE, project.grid_path)
        )
    ):
        raise NotAllowed(_("You may not update this project."))
    milestone.done_on = on or clock.localdate()
    milestone.save(update_fields=["done_on"])
    if not project.milestones.filter(done_on__isnull=True).exists():
        project.state = ProjectState.COMPLETED
        project.save(update_fields=["state"])
    return milestone
