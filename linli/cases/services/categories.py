"""The category tree and its time limits.

The tree is one table for the whole platform: every community files under the same classes
and time limits. Changing it therefore belongs to the street, not to one community: only a
user holding CASE_CATEGORIES on a street-level unit edits it (a secretary holds the same
permission on a community and sees the editor read-only). Classes are never deleted,
because cases keep pointing at them; a deactivated class is no longer offered for filing. A
case's due time is fixed when it is filed, so a new time limit applies to cases filed
afterwards; later extensions, escalations and reopenings of any open case use the limit in
force at that moment.
"""

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from linli.accounts.models import AuditAction, User
from linli.accounts.roles import Permission
from linli.accounts.services import audit_record
from linli.cases.models import CaseCategory
from linli.errors import NotAllowed
from linli.grids.models import GridLevel, GridUnit
from linli.grids.selectors import scope_for

MAJOR_CODE = re.compile(r"[A-Z]{2,4}")
MINOR_CODE = re.compile(r"[A-Z]{2,4}-\d{2}")
MAX_SLA_HOURS = 2160  # 90 days: anything longer is a project, not a case.
CATEGORY_TEXT_LIMITS = {"name_zh": 50, "name_en": 80, "usual_handler": 100}
CATEGORY_EDITABLE = frozenset(
    {
        "name_zh",
        "name_en",
        "sla_hours",
        "acceptance_condition",
        "closing_condition",
        "usual_handler",
        "is_public",
        "sort_order",
        "is_active",
    }
)


def category_editor_path(user: User | None) -> str | None:
    """The street path on which the user may edit the tree ("" for a superuser), or None."""
    scope = scope_for(user)
    if scope.unrestricted:
        return ""
    paths = scope.paths_for(Permission.CASE_CATEGORIES)
    if not paths:
        return None
    return (
        GridUnit.objects.filter(level=GridLevel.STREET, path__in=paths)
        .order_by("path")
        .values_list("path", flat=True)
        .first()
    )


def may_edit_categories(user: User | None) -> bool:
    return category_editor_path(user) is not None


def may_view_category_editor(user: User | None) -> bool:
    # Everyone logged in reads the tree through the API for filing; the editor page with its
    # open-case counts is for those who hold the permission anywhere.
    return scope_for(user).allows_anywhere(Permission.CASE_CATEGORIES)


def _category_label(category: CaseCategory) -> str:
    return f"{category.code} {category.name_zh}"


def _check_category_texts(values: dict[str, Any], errors: dict[str, str]) -> None:
    for field in ("name_zh", "name_en"):
        if field in values and not values[field]:
            errors[field] = _("A name is required.")
    for field, limit in CATEGORY_TEXT_LIMITS.items():
        if len(values.get(field) or "") > limit:
            errors[field] = _("At most %(limit)d characters.") % {"limit": limit}


def _check_sla(*, is_major: bool, sla_hours: Any, errors: dict[str, str]) -> None:
    if is_major:
        if sla_hours is not None:
            errors["sla_hours"] = _("A major class carries no time limit; its minor classes do.")
        return
    if isinstance(sla_hours, bool) or not isinstance(sla_hours, int):
        errors["sla_hours"] = _("Give the time limit in whole hours.")
    elif not 1 <= sla_hours <= MAX_SLA_HOURS:
        errors["sla_hours"] = _("The time limit is between 1 and %(max)d hours.") % {
            "max": MAX_SLA_HOURS
        }


def _editor_path_or_deny(actor: User | None) -> str:
    path = category_editor_path(actor)
    if path is None:
        raise NotAllowed(_("Only a street administrator may change case categories."))
    return path


def _text(value: Any) -> str:
    return str(value or "").strip()


@transaction.atomic
def category_create(
    *,
    actor: User | None,
    parent: CaseCategory | None,
    code: str,
    name_zh: str,
    name_en: str,
    sla_hours: int | None = None,
    acceptance_condition: str = "",
    closing_condition: str = "",
    usual_handler: str = "",
    is_public: bool = True,
) -> CaseCategory:
    """A new major class (no parent, no time limit) or minor class (under an active major,
    coded after it: SAF-04 under SAF), placed after its siblings."""
    editor_path = _editor_path_or_deny(actor)
    values = {
        "code": _text(code).upper(),
        "name_zh": _text(name_zh),
        "name_en": _text(name_en),
        "acceptance_condition": _text(acceptance_condition),
        "closing_condition": _text(closing_condition),
        "usual_handler": _text(usual_handler),
    }
    errors: dict[str, str] = {}
    is_major = parent is None
    if parent is not None and (not isinstance(parent, CaseCategory) or not parent.is_major):
        errors["parent"] = _("A minor class belongs to a major class.")
    elif parent is not None and not parent.is_active:
        errors["parent"] = _("This major class is inactive; reactivate it first.")
    code = values["code"]
    if is_major and not MAJOR_CODE.fullmatch(code):
        errors["code"] = _("A major class code is 2 to 4 capital letters, e.g. SAF.")
    elif not is_major and not MINOR_CODE.fullmatch(code):
        errors["code"] = _("A minor class code is its major's code, a hyphen and two digits.")
    elif parent is not None and "parent" not in errors and not code.startswith(f"{parent.code}-"):
        errors["code"] = _("A minor class code starts with its major's code: %(prefix)s-01.") % {
            "prefix": parent.code
        }
    if "code" not in errors and CaseCategory.objects.filter(code=code).exists():
        errors["code"] = _("The code %(code)s is taken.") % {"code": code}
    _check_category_texts(values, errors)
    _check_sla(is_major=is_major, sla_hours=sla_hours, errors=errors)
    if errors:
        raise ValidationError(errors)
    siblings = CaseCategory.objects.filter(parent=parent)
    last = siblings.order_by("-sort_order").values_list("sort_order", flat=True).first()
    category = CaseCategory.objects.create(
        parent=parent,
        sla_hours=sla_hours,
        is_public=bool(is_public),
        sort_order=0 if last is None else last + 1,
        **values,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="case_category",
        object_id=category.pk,
        object_label=_category_label(category),
        changes={
            "parent": parent.code if parent else None,
            **values,
            "sla_hours": sla_hours,
            "is_public": category.is_public,
        },
        grid_path=editor_path,
    )
    return category


def _deactivate_locked(
    *, actor: User | None, category: CaseCategory, editor_path: str
) -> list[CaseCategory]:
    """Deactivate the class and, for a major, its active minors; one audit row each."""
    targets = [category]
    if category.is_major:
        targets += list(
            CaseCategory.objects.select_for_update().filter(parent=category, is_active=True)
        )
    for target in targets:
        target.is_active = False
        target.save(update_fields=["is_active"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type="case_category",
            object_id=target.pk,
            object_label=_category_label(target),
            field="is_active",
            changes={"is_active": [True, False]},
            grid_path=editor_path,
        )
    return targets


@transaction.atomic
def category_update(*, actor: User | None, category: CaseCategory, **changes: Any) -> CaseCategory:
    """Change names, conditions, handler, public flag, order or time limit; `is_active`
    True reactivates (a minor only under an active major), False deactivates as
    `category_deactivate` does. Code and parent are fixed: Open311 clients and reports
    know a class by its code. Returns the fresh row; one audit row lists what changed."""
    editor_path = _editor_path_or_deny(actor)
    errors: dict[str, str] = {}
    for field in sorted(set(changes) - CATEGORY_EDITABLE):
        errors[field] = _("This field cannot be changed.")
    if errors:
        raise ValidationError(errors)
    category = CaseCategory.objects.select_for_update().get(pk=category.pk)
    values = dict(changes)
    for field in ("name_zh", "name_en", "acceptance_condition", "closing_condition"):
        if field in values:
            values[field] = _text(values[field])
    if "usual_handler" in values:
        values["usual_handler"] = _text(values["usual_handler"])
    _check_category_texts(values, errors)
    if "sla_hours" in values:
        _check_sla(is_major=category.is_major, sla_hours=values["sla_hours"], errors=errors)
    if "sort_order" in values and (
        isinstance(values["sort_order"], bool)
        or not isinstance(values["sort_order"], int)
        or values["sort_order"] < 0
    ):
        errors["sort_order"] = _("The order is a whole number from 0.")
    for field in ("is_public", "is_active"):
        if field in values and not isinstance(values[field], bool):
            errors[field] = _("Yes or no.")
    # A minor class (one with a parent) comes back only under an active major.
    if (
        values.get("is_active") is True
        and not category.is_active
        and category.parent_id is not None
    ):
        if not CaseCategory.objects.filter(pk=category.parent_id, is_active=True).exists():
            errors["is_active"] = _("Reactivate its major class first.")
    if errors:
        raise ValidationError(errors)
    if values.pop("is_active", category.is_active) is False and category.is_active:
        _deactivate_locked(actor=actor, category=category, editor_path=editor_path)
    elif not category.is_active and changes.get("is_active") is True:
        values["is_active"] = True
    diff = {
        field: [getattr(category, field), value]
        for field, value in values.items()
        if getattr(category, field) != value
    }
    if diff:
        for field, (_old, new) in diff.items():
            setattr(category, field, new)
        category.save(update_fields=sorted(diff))
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type="case_category",
            object_id=category.pk,
            object_label=_category_label(category),
            changes=diff,
            grid_path=editor_path,
        )
    category.refresh_from_db()
    return category


@transaction.atomic
def category_deactivate(*, actor: User | None, category: CaseCategory) -> CaseCategory:
    """Hide a class from filing; cases filed under it keep it. A major takes its minors."""
    editor_path = _editor_path_or_deny(actor)
    category = CaseCategory.objects.select_for_update().get(pk=category.pk)
    if not category.is_active:
        raise ValidationError({"is_active": _("This class is already inactive.")})
    _deactivate_locked(actor=actor, category=category, editor_path=editor_path)
    return category
