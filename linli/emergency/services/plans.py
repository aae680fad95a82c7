"""Every write to emergency plans (预案): the default plan per hazard, a plan's rules, its
task templates, minimum supply levels and contact tree, and a community's copy of its
street's plan; and `plan_check`, the static problems shown while a plan is edited.

Plans are written by those holding EMERGENCY_PLANS on the owning unit itself (the street
administrator for the street's plans, the secretary for the community's own). Every write
validates the whole input first, names each field at fault and writes nothing on error;
each change is one transaction with its audit row. What the registry makes impossible
(nobody in the required team, no such volunteer nearby) is for `activation_preview`, which
reads the registry at activation time; `plan_check` only reads the plan.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from linli import clock
from linli.accounts.models import AuditAction, User
from linli.accounts.roles import Permission
from linli.accounts.services import audit_record
from linli.emergency.default_plans import COMMON_CONTACTS, DEFAULT_PLANS, PlanDefault
from linli.emergency.models import (
    Grade,
    Hazard,
    MovementRule,
    Plan,
    PlanContact,
    PlanSupplyMinimum,
    TaskKind,
    TaskTemplate,
)
from linli.errors import NotAllowed
from linli.grids.models import GridLevel, GridUnit, Post, VulnerabilityTag
from linli.grids.selectors import scope_for
from linli.supplies.models import SupplyCategory
from linli.volunteers.models import ServiceKind, Skill, decode_codes, encode_codes

P = Permission

# Plans serve a whole community or more: an activation covers a micro-grid or wider, and
# the units below a community have nobody who may write plans.
OWNER_LEVELS = (GridLevel.STREET, GridLevel.BLOCK, GridLevel.COMMUNITY)

# Bounds a person could mean; anything beyond is a typing slip.
MAX_CAPACITY = 50
MAX_MINUTES = 24 * 60
MAX_ATTEMPTS = 10
MAX_DUE_HOURS = 7 * 24
MAX_LEVEL = 9
MAX_SUPPLY_QUANTITY = 1_000_000

PLAN_EDITABLE = frozenset(
    {
        "hazard",
        "name",
        "description",
        "movement_rule",
        "volunteer_capacity",
        "acknowledge_minutes",
        "retry_minutes",
        "max_attempts",
        "is_active",
    }
)
TEMPLATE_EDITABLE = frozenset(
    {
        "kind",
        "title",
        "instructions",
        "target_tags",
        "due_hours",
        "required_team",
        "required_skills",
        "lowest_grade",
        "sort_order",
    }
)


def may_edit(actor: User | None, grid_path: str) -> bool:
    return scope_for(actor).allows(P.EMERGENCY_PLANS, grid_path)


def _require_editor(actor: User | None, plan: Plan) -> None:
    if not may_edit(actor, plan.grid_path):
        raise NotAllowed(
            _("You may not edit the plans of %(owner)s.") % {"owner": plan.grid_unit.name}
        )


def _locked(plan: Plan) -> Plan:
    """The plan row locked for the rest of the transaction: two people editing one plan's
    templates at once are serialised, so titles stay unique and orders do not collide."""
    return Plan.objects.select_for_update().select_related("grid_unit").get(pk=plan.pk)


def _touch(plan: Plan) -> None:
    Plan.objects.filter(pk=plan.pk).update(updated_at=clock.now())


def _audit(
    actor: User | None, action: str, object_type: str, row, label: str, plan: Plan, changes: dict
) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=row.pk,
        object_label=label,
        changes=changes,
        grid_path=plan.grid_path,
    )


# ---------------------------------------------------------------------------------------
# Input checks: each adds a message under its field and returns the cleaned value.


def _text(value, field_name: str, errors: dict, *, max_length: int, required: str = "") -> str:
    text = str(value if value is not None else "").strip()
    if required and not text:
        errors[field_name] = required
    elif len(text) > max_length:
        errors[field_name] = _("Keep this to %(max)d characters.") % {"max": max_length}
    return text


def _whole(value, field_name: str, errors: dict, *, minimum: int, maximum: int) -> int:
    if isinstance(value, bool):
        number = None
    else:
        try:
            number = int(str(value).strip()) if not isinstance(value, int) else value
        except (TypeError, ValueError):
            number = None
    if number is None:
        errors[field_name] = _("Give a whole number.")
        return 0
    if not minimum <= number <= maximum:
        errors[field_name] = _("Give a whole number from %(min)d to %(max)d.") % {
            "min": minimum,
            "max": maximum,
        }
    return number


def _choice(value, field_name: str, errors: dict, choices, *, blank: bool = False) -> str:
    value = str(value if value is not None else "").strip()
    if blank and not value:
        return ""
    if value not in choices.values:
        errors[field_name] = _("Unknown value: %(value)s") % {"value": value or "—"}
    return value


def _codes(value, field_name: str, errors: dict, choices) -> str:
    """A list of codes (or the stored ",a,b," form) checked against `choices`, encoded."""
    if value is None:
        codes: list[str] = []
    elif isinstance(value, str):
        codes = [code.strip() for code in value.replace("，", ",").split(",")]
    else:
        codes = [str(code).strip() for code in value]
    codes = [code for code in codes if code]
    unknown = [code for code in dict.fromkeys(codes) if code not in choices.values]
    if unknown:
        errors[field_name] = _("Unknown codes: %(codes)s") % {"codes": ", ".join(unknown)}
    return encode_codes(codes)


def _flag(value, field_name: str, errors: dict) -> bool:
    if not isinstance(value, bool):
        errors[field_name] = _("Yes or no.")
        return False
    return value


def _check_owner(owner, errors: dict, field_name: str = "owner") -> None:
    if not isinstance(owner, GridUnit):
        errors[field_name] = _("Choose the unit that owns the plan.")
    elif owner.level not in OWNER_LEVELS:
        errors[field_name] = _("Plans belong to a street, a block or a community.")


def _check_plan_values(values: dict, errors: dict) -> dict:
    """Clean the plan fields present in `values` (all of them on create)."""
    cleaned = {}
    checks = {
        "hazard": lambda v: _choice(v, "hazard", errors, Hazard),
        "name": lambda v: _text(
            v, "name", errors, max_length=100, required=_("Give the plan a name.")
        ),
        "description": lambda v: _text(v, "description", errors, max_length=2000),
        "movement_rule": lambda v: _choice(v, "movement_rule", errors, MovementRule),
        "volunteer_capacity": lambda v: _whole(
            v, "volunteer_capacity", errors, minimum=1, maximum=MAX_CAPACITY
        ),
        "acknowledge_minutes": lambda v: _whole(
            v, "acknowledge_minutes", errors, minimum=1, maximum=MAX_MINUTES
        ),
        "retry_minutes": lambda v: _whole(
            v, "retry_minutes", errors, minimum=1, maximum=MAX_MINUTES
        ),
        "max_attempts": lambda v: _whole(
            v, "max_attempts", errors, minimum=1, maximum=MAX_ATTEMPTS
        ),
        "is_active": lambda v: _flag(v, "is_active", errors),
    }
    for name, value in values.items():
        cleaned[name] = checks[name](value)
    return cleaned


def _check_template_values(values: dict, errors: dict) -> dict:
    cleaned = {}
    checks = {
        "kind": lambda v: _choice(v, "kind", errors, TaskKind),
        "title": lambda v: _text(
            v, "title", errors, max_length=100, required=_("Give the task a title.")
        ),
        "instructions": lambda v: _text(v, "instructions", errors, max_length=1000),
        "target_tags": lambda v: _codes(v, "target_tags", errors, VulnerabilityTag),
        "due_hours": lambda v: _whole(v, "due_hours", errors, minimum=1, maximum=MAX_DUE_HOURS),
        "required_team": lambda v: _choice(v, "required_team", errors, ServiceKind, blank=True),
        "required_skills": lambda v: _codes(v, "required_skills", errors, Skill),
        "lowest_grade": lambda v: _whole(v, "lowest_grade", errors, minimum=1, maximum=4),
        "sort_order": lambda v: _whole(v, "sort_order", errors, minimum=0, maximum=10_000),
    }
    for name, value in values.items():
        cleaned[name] = checks[name](value)
    return cleaned


def _check_template_whole(values: dict, errors: dict) -> None:
    """Rules across fields, on the template as it will be stored."""
    if "kind" in errors or "target_tags" in errors:
        return
    if values["kind"] == TaskKind.WELFARE_CHECK and not values["target_tags"]:
        errors["target_tags"] = _(
            "A welfare check needs at least one vulnerability tag: it visits the households "
            "with a member carrying one."
        )
    elif values["kind"] != TaskKind.WELFARE_CHECK and values["target_tags"]:
        errors["target_tags"] = _(
            "Only welfare checks target tagged households; patrols and distribution go to "
            "every building, information relay to every building group."
        )


def _refuse_unknown(changes: dict, editable: frozenset[str]) -> None:
    unknown = sorted(set(changes) - editable)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in unknown})


def _diff(row, values: dict) -> dict:
    return {
        name: [getattr(row, name), value]
        for name, value in values.items()
        if getattr(row, name) != value
    }


# ---------------------------------------------------------------------------------------
# Plans


@transaction.atomic
def plan_create(
    *,
    actor: User | None,
    owner: GridUnit,
    hazard: str,
    name: str,
    description: str = "",
    movement_rule: str = MovementRule.COMMUNITY,
    volunteer_capacity: int = 8,
    acknowledge_minutes: int = 15,
    retry_minutes: int = 30,
    max_attempts: int = 3,
) -> Plan:
    """A new, empty plan of `owner`; templates, supplies and contacts are added after."""
    errors: dict[str, str] = {}
    _check_owner(owner, errors)
    if "owner" not in errors and not may_edit(actor, owner.path):
        raise NotAllowed(_("You may not edit the plans of %(owner)s.") % {"owner": owner.name})
    values = _check_plan_values(
        {
            "hazard": hazard,
            "name": name,
            "description": description,
            "movement_rule": movement_rule,
            "volunteer_capacity": volunteer_capacity,
            "acknowledge_minutes": acknowledge_minutes,
            "retry_minutes": retry_minutes,
            "max_attempts": max_attempts,
        },
        errors,
    )
    if "owner" not in errors and "name" not in errors:
        if Plan.objects.filter(grid_unit=owner, name=values["name"]).exists():
            errors["name"] = _("%(owner)s already has a plan named “%(name)s”.") % {
                "owner": owner.name,
                "name": values["name"],
            }
    if errors:
        raise ValidationError(errors)
    plan = Plan.objects.create(
        grid_unit=owner,
        grid_path=owner.path,
        created_by=actor if actor is not None and actor.is_authenticated else None,
        **values,
    )
    _audit(actor, AuditAction.CREATE, "emergency_plan", plan, plan.name, plan, values)
    return plan


@transaction.atomic
def plan_update(*, actor: User | None, plan: Plan, **changes) -> Plan:
    """Change any of PLAN_EDITABLE; `is_active` False retires the plan (it is kept, with
    its activations, but no longer offered). A running activation keeps the rules it was
    started with. Returns the fresh row; one audit row lists what changed."""
    _require_editor(actor, plan)
    _refuse_unknown(changes, PLAN_EDITABLE)
    errors: dict[str, str] = {}
    values = _check_plan_values(changes, errors)
    plan = _locked(plan)
    if "name" in values and "name" not in errors and values["name"] != plan.name:
        if Plan.objects.filter(grid_unit_id=plan.grid_unit_id, name=values["name"]).exists():
            errors["name"] = _("%(owner)s already has a plan named “%(name)s”.") % {
                "owner": plan.grid_unit.name,
                "name": values["name"],
            }
    if errors:
        raise ValidationError(errors)
    diff = _diff(plan, values)
    if diff:
        for name, (_old, new) in diff.items():
            setattr(plan, name, new)
        plan.save(update_fields=[*sorted(diff), "updated_at"])
        _audit(actor, AuditAction.UPDATE, "emergency_plan", plan, plan.name, plan, diff)
    plan.refresh_from_db()
    return plan


def _copy_children(source: Plan, copy: Plan) -> None:
    TaskTemplate.objects.bulk_create(
        TaskTemplate(
            plan=copy,
            kind=t.kind,
            title=t.title,
            instructions=t.instructions,
            target_tags=t.target_tags,
            due_hours=t.due_hours,
            required_team=t.required_team,
            required_skills=t.required_skills,
            lowest_grade=t.lowest_grade,
            sort_order=t.sort_order,
        )
        for t in source.templates.all()
    )
    PlanSupplyMinimum.objects.bulk_create(
        PlanSupplyMinimum(plan=copy, category=m.category, minimum_quantity=m.minimum_quantity)
        for m in source.supply_minimums.all()
    )
    PlanContact.objects.bulk_create(
        PlanContact(plan=copy, level=c.level, post=c.post, duty=c.duty)
        for c in source.contacts.all()
    )


@transaction.atomic
def plan_copy(*, actor: User, plan: Plan, owner: GridUnit, name: str = "") -> Plan:
    """A community adapts its street's plan: a full copy (rules, templates, supply levels,
    contact tree) owned by `owner`, which then edits it freely. The source is the plan of
    `owner` itself or of a unit above it; `name` defaults to the source's name."""
    errors: dict[str, str] = {}
    _check_owner(owner, errors)
    if errors:
        raise ValidationError(errors)
    if not may_edit(actor, owner.path):
        raise NotAllowed(_("You may not edit the plans of %(owner)s.") % {"owner": owner.name})
    if not owner.path.startswith(plan.grid_path):
        errors["plan"] = _("Only a plan of %(owner)s or of a unit above it can be copied.") % {
            "owner": owner.name
        }
    name = _text(
        name or plan.name, "name", errors, max_length=100, required=_("Give the copy a name.")
    )
    if "name" not in errors and Plan.objects.filter(grid_unit=owner, name=name).exists():
        errors["name"] = _("%(owner)s already has a plan named “%(name)s”.") % {
            "owner": owner.name,
            "name": name,
        }
    if errors:
        raise ValidationError(errors)
    copy = Plan.objects.create(
        grid_unit=owner,
        grid_path=owner.path,
        hazard=plan.hazard,
        name=name,
        description=plan.description,
        movement_rule=plan.movement_rule,
        volunteer_capacity=plan.volunteer_capacity,
        acknowledge_minutes=plan.acknowledge_minutes,
        retry_minutes=plan.retry_minutes,
        max_attempts=plan.max_attempts,
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    _copy_children(plan, copy)
    _audit(
        actor,
        AuditAction.CREATE,
        "emergency_plan",
        copy,
        copy.name,
        copy,
        {"copied_from": plan.pk, "copied_from_owner": plan.grid_unit.name},
    )
    return copy


# ---------------------------------------------------------------------------------------
# Task templates


def _next_order(plan: Plan) -> int:
    last = plan.templates.order_by("-sort_order").values_list("sort_order", flat=True).first()
    return 1 if last is None else last + 1


def _check_title_free(plan: Plan, title: str, errors: dict, exclude: int | None = None) -> None:
    if "title" in errors:
        return
    others = TaskTemplate.objects.filter(plan=plan, title=title)
    if exclude is not None:
        others = others.exclude(pk=exclude)
    if others.exists():
        errors["title"] = _("This plan already has a task titled “%(title)s”.") % {"title": title}


@transaction.atomic
def template_create(
    *,
    actor: User | None,
    plan: Plan,
    kind: str,
    title: str,
    instructions: str = "",
    target_tags: Iterable[str] | str = (),
    due_hours: int = 4,
    required_team: str = "",
    required_skills: Iterable[str] | str = (),
    lowest_grade: int = Grade.IV,
    sort_order: int | None = None,
) -> TaskTemplate:
    """A task the plan's activation creates for each target: a welfare check for each
    household with a member carrying one of `target_tags`, a patrol or distribution for
    each building, information relay for each building group. It applies at
    `lowest_grade` and every more severe grade (I is the most severe)."""
    _require_editor(actor, plan)
    plan = _locked(plan)
    errors: dict[str, str] = {}
    values = _check_template_values(
        {
            "kind": kind,
            "title": title,
            "instructions": instructions,
            "target_tags": target_tags,
            "due_hours": due_hours,
            "required_team": required_team,
            "required_skills": required_skills,
            "lowest_grade": lowest_grade,
            **({"sort_order": sort_order} if sort_order is not None else {}),
        },
        errors,
    )
    _check_template_whole(values, errors)
    _check_title_free(plan, values["title"], errors)
    if errors:
        raise ValidationError(errors)
    values.setdefault("sort_order", _next_order(plan))
    template = TaskTemplate.objects.create(plan=plan, **values)
    _audit(
        actor, AuditAction.CREATE, "emergency_task_template", template, template.title, plan, values
    )
    _touch(plan)
    return template


@transaction.atomic
def template_update(*, actor: User | None, template: TaskTemplate, **changes) -> TaskTemplate:
    """Change any of TEMPLATE_EDITABLE; the cross-field rules (a welfare check has tags,
    other kinds have none) are checked on the template as it will be stored."""
    plan = template.plan
    _require_editor(actor, plan)
    _refuse_unknown(changes, TEMPLATE_EDITABLE)
    plan = _locked(plan)
    template = TaskTemplate.objects.get(pk=template.pk)
    errors: dict[str, str] = {}
    values = _check_template_values(changes, errors)
    merged = {
        "kind": values.get("kind", template.kind),
        "target_tags": values.get("target_tags", template.target_tags),
    }
    _check_template_whole(merged, errors)
    if "title" in values:
        _check_title_free(plan, values["title"], errors, exclude=template.pk)
    if errors:
        raise ValidationError(errors)
    diff = _diff(template, values)
    if diff:
        for name, (_old, new) in diff.items():
            setattr(template, name, new)
        template.save(update_fields=sorted(diff))
        _audit(
            actor,
            AuditAction.UPDATE,
            "emergency_task_template",
            template,
            template.title,
            plan,
            diff,
        )
        _touch(plan)
    return template


@transaction.atomic
def template_delete(*, actor: User | None, template: TaskTemplate) -> None:
    """Tasks already generated from it keep their own copy of title and instructions."""
    plan = template.plan
    _require_editor(actor, plan)
    plan = _locked(plan)
    _audit(
        actor,
        AuditAction.DELETE,
        "emergency_task_template",
        template,
        template.title,
        plan,
        {"kind": template.kind, "title": template.title},
    )
    template.delete()
    _touch(plan)


# ---------------------------------------------------------------------------------------
# Minimum supply levels and the contact tree


@transaction.atomic
def supply_minimum_set(
    *, actor: User | None, plan: Plan, category: str, minimum_quantity: int
) -> PlanSupplyMinimum:
    """Set (or change) how much of one supply category the scope must hold."""
    _require_editor(actor, plan)
    errors: dict[str, str] = {}
    category = _choice(category, "category", errors, SupplyCategory)
    quantity = _whole(
        minimum_quantity, "minimum_quantity", errors, minimum=1, maximum=MAX_SUPPLY_QUANTITY
    )
    if errors:
        raise ValidationError(errors)
    plan = _locked(plan)
    minimum = PlanSupplyMinimum.objects.filter(plan=plan, category=category).first()
    if minimum is None:
        minimum = PlanSupplyMinimum.objects.create(
            plan=plan, category=category, minimum_quantity=quantity
        )
        action, changes = AuditAction.CREATE, {"category": category, "minimum_quantity": quantity}
    elif minimum.minimum_quantity != quantity:
        changes = {"minimum_quantity": [minimum.minimum_quantity, quantity]}
        minimum.minimum_quantity = quantity
        minimum.save(update_fields=["minimum_quantity"])
        action = AuditAction.UPDATE
    else:
        return minimum
    label = f"{SupplyCategory(category).label} ≥ {quantity}"
    _audit(actor, action, "emergency_plan_supply", minimum, label, plan, changes)
    _touch(plan)
    return minimum


@transaction.atomic
def supply_minimum_delete(*, actor: User | None, minimum: PlanSupplyMinimum) -> None:
    plan = minimum.plan
    _require_editor(actor, plan)
    plan = _locked(plan)
    _audit(
        actor,
        AuditAction.DELETE,
        "emergency_plan_supply",
        minimum,
        minimum.category,
        plan,
        {"category": minimum.category, "minimum_quantity": minimum.minimum_quantity},
    )
    minimum.delete()
    _touch(plan)


@transaction.atomic
def contact_set(
    *, actor: User | None, plan: Plan, post: str, level: int, duty: str = ""
) -> PlanContact:
    """Put holders of `post` at `level` of the contact tree (1 is told first), with their
    duty in this emergency; a post already in the tree is moved."""
    _require_editor(actor, plan)
    errors: dict[str, str] = {}
    post = _choice(post, "post", errors, Post)
    level = _whole(level, "level", errors, minimum=1, maximum=MAX_LEVEL)
    duty = _text(duty, "duty", errors, max_length=200)
    if errors:
        raise ValidationError(errors)
    plan = _locked(plan)
    contact = PlanContact.objects.filter(plan=plan, post=post).first()
    if contact is None:
        contact = PlanContact.objects.create(plan=plan, post=post, level=level, duty=duty)
        action, changes = AuditAction.CREATE, {"post": post, "level": level, "duty": duty}
    else:
        changes = _diff(contact, {"level": level, "duty": duty})
        if not changes:
            return contact
        contact.level, contact.duty = level, duty
        contact.save(update_fields=["level", "duty"])
        action = AuditAction.UPDATE
    _audit(actor, action, "emergency_plan_contact", contact, str(Post(post).label), plan, changes)
    _touch(plan)
    return contact


@transaction.atomic
def contact_delete(*, actor: User | None, contact: PlanContact) -> None:
    plan = contact.plan
    _require_editor(actor, plan)
    plan = _locked(plan)
    _audit(
        actor,
        AuditAction.DELETE,
        "emergency_plan_contact",
        contact,
        contact.post,
        plan,
        {"post": contact.post, "level": contact.level},
    )
    contact.delete()
    _touch(plan)


# ---------------------------------------------------------------------------------------
# Static problems


def _label(choices, code: str) -> str:
    return str(choices(code).label) if code in choices.values else code


def plan_check(plan: Plan) -> list[str]:
    """What is wrong with the plan as written, without reading the registry: shown in the
    editor so that the secretary fixes it before an emergency rather than during one.
    (Whether the community's volunteers can carry it out is `activation_preview`'s.)"""
    problems: list[str] = []
    templates = list(plan.templates.all())
    if not templates:
        problems.append(_("The plan has no task templates: activating it creates no tasks."))
    else:
        least_severe = max(template.lowest_grade for template in templates)
        if least_severe < Grade.IV:
            grades = "、".join(Grade(grade).name for grade in range(least_severe + 1, 5))
            problems.append(
                _("No task applies at grade %(grades)s: activating at that grade is refused.")
                % {"grades": grades}
            )
    titles: dict[str, int] = {}
    for template in templates:
        titles[template.title] = titles.get(template.title, 0) + 1
        tags = decode_codes(template.target_tags)
        if template.kind == TaskKind.WELFARE_CHECK and not tags:
            problems.append(
                _("“%(template)s” is a welfare check without vulnerability tags: it visits nobody.")
                % {"template": template.title}
            )
        unknown = [tag for tag in tags if tag not in VulnerabilityTag.values]
        unknown += [
            code for code in decode_codes(template.required_skills) if code not in Skill.values
        ]
        if template.required_team and template.required_team not in ServiceKind.values:
            unknown.append(template.required_team)
        if unknown:
            problems.append(
                _("“%(template)s” names unknown codes: %(codes)s.")
                % {"template": template.title, "codes": ", ".join(unknown)}
            )
    for title, count in titles.items():
        if count > 1:
            problems.append(
                _("%(count)d tasks are titled “%(title)s”.") % {"count": count, "title": title}
            )
    # Two welfare checks sharing a tag visit the same household twice at grade I (every
    # template applies there).
    checks = [t for t in templates if t.kind == TaskKind.WELFARE_CHECK]
    for index, first in enumerate(checks):
        for second in checks[index + 1 :]:
            shared = sorted(
                set(decode_codes(first.target_tags)) & set(decode_codes(second.target_tags))
            )
            if shared:
                problems.append(
                    _(
                        "Households tagged %(tags)s are checked twice, by “%(first)s” and "
                        "“%(second)s”."
                    )
                    % {
                        "tags": "、".join(_label(VulnerabilityTag, tag) for tag in shared),
                        "first": first.title,
                        "second": second.title,
                    }
                )
    unknown_supplies = [
        m.category for m in plan.supply_minimums.all() if m.category not in SupplyCategory.values
    ]
    if unknown_supplies:
        problems.append(
            _("Unknown supply categories: %(codes)s.") % {"codes": ", ".join(unknown_supplies)}
        )
    contacts = list(plan.contacts.all())
    if not contacts:
        problems.append(
            _(
                "The plan has no contact tree: on activation only the party secretary and the "
                "street administrator are told."
            )
        )
    else:
        unknown_posts = [c.post for c in contacts if c.post not in Post.values]
        if unknown_posts:
            problems.append(_("Unknown posts: %(codes)s.") % {"codes": ", ".join(unknown_posts)})
        levels = sorted({c.level for c in contacts})
        missing = [str(level) for level in range(1, levels[-1] + 1) if level not in levels]
        if missing:
            problems.append(
                _("The contact tree skips level %(levels)s.") % {"levels": "、".join(missing)}
            )
    return problems


# ---------------------------------------------------------------------------------------
# Default plans (the data: linli.emergency.default_plans)


def _create_default(owner: GridUnit, default: PlanDefault, actor: User | None) -> Plan:
    plan = Plan.objects.create(
        grid_unit=owner,
        grid_path=owner.path,
        hazard=default.hazard,
        name=default.name,
        description=default.description,
        movement_rule=default.movement_rule,
        volunteer_capacity=default.volunteer_capacity,
        acknowledge_minutes=default.acknowledge_minutes,
        retry_minutes=default.retry_minutes,
        max_attempts=default.max_attempts,
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    TaskTemplate.objects.bulk_create(
        TaskTemplate(
            plan=plan,
            kind=template.kind,
            title=template.title,
            instructions=template.instructions,
            target_tags=encode_codes(template.tags),
            due_hours=template.due_hours,
            required_team=template.team,
            required_skills=encode_codes(template.skills),
            lowest_grade=template.lowest_grade,
            sort_order=order,
        )
        for order, template in enumerate(default.templates, start=1)
    )
    PlanSupplyMinimum.objects.bulk_create(
        PlanSupplyMinimum(plan=plan, category=category, minimum_quantity=quantity)
        for category, quantity in default.supplies
    )
    PlanContact.objects.bulk_create(
        PlanContact(plan=plan, level=level, post=post, duty=duty)
        for level, post, duty in (*COMMON_CONTACTS, *default.contacts)
    )
    _audit(
        actor,
        AuditAction.CREATE,
        "emergency_plan",
        plan,
        plan.name,
        plan,
        {"default": default.hazard, "templates": len(default.templates)},
    )
    return plan


@transaction.atomic
def plans_create_defaults(*, owner: GridUnit, actor: User | None) -> list[Plan]:
    """One default plan per hazard for `owner` (a street's plans serve all its
    communities). Plans whose name `owner` already uses are left as they are, so running
    it twice adds nothing; returns the plans created. `actor` None is the system (the
    demo generator, `linli plans defaults`)."""
    errors: dict[str, str] = {}
    _check_owner(owner, errors)
    if errors:
        raise ValidationError(errors)
    if actor is not None and not may_edit(actor, owner.path):
        raise NotAllowed(_("You may not edit the plans of %(owner)s.") % {"owner": owner.name})
    existing = set(Plan.objects.filter(grid_unit=owner).values_list("name", flat=True))
    return [
        _create_default(owner, default, actor)
        for default in DEFAULT_PLANS
        if default.name not in existing
    ]
