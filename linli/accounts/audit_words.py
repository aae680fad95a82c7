"""The audit log in words a secretary understands: one sentence per entry and detail lines.

`describe(entry)` turns an AuditEntry into "张帆 查看了居民“张桂英”的完整电话" plus lines such as
"电话：138****1234 → 139****5678" or "共 120 行：新增 100，更新 15，未变 0，错误 5", in the active
language. It never shows a Python structure: [old, new] pairs become arrows, counts become
words, lists are joined with "、", booleans are 是/否 and empty values a dash. A key or an
object type it does not know is shown by its name rather than failing: the log outlives the
code that wrote it.

accounts is the bottom layer, so labels of choices kept by domain apps (a volunteer's status,
a resident's residency type) are read from the model registry, not imported.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime

from django.apps import apps
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext, pgettext_lazy

from linli.accounts.models import AuditAction, AuditEntry, TokenRevocation
from linli.accounts.reveals import purpose_label
from linli.accounts.roles import Role


@dataclass(frozen=True)
class AuditLine:
    """What one audit entry says: `sentence` (who did what to what), `details` (one line per
    change or count) and `reason` (a reveal's purpose and words, or the reason given)."""

    sentence: str
    details: list[str] = field(default_factory=list)
    reason: str = ""


# What each object type is called in a sentence. A type missing here is shown by its name.
OBJECT_NOUNS = {
    "resident": pgettext_lazy("audit object", "resident"),
    "household": pgettext_lazy("audit object", "household"),
    "role_assignment": pgettext_lazy("audit object", "post"),
    "api_token": pgettext_lazy("audit object", "API token"),
    "user": pgettext_lazy("audit object", "account"),
    "case_category": pgettext_lazy("audit object", "case category"),
    "registry_import": pgettext_lazy("audit object", "registry file"),
    "service_hours": pgettext_lazy("audit object", "service hours"),
    "volunteer": pgettext_lazy("audit object", "volunteer"),
    "claim": pgettext_lazy("audit object", "claim"),
    "open311_key": pgettext_lazy("audit object", "Open311 key"),
    "opinion": pgettext_lazy("audit object", "opinion on the topic"),
    "resolution": pgettext_lazy("audit object", "resolution of the topic"),
    "stakeholder_membership": pgettext_lazy("audit object", "stakeholder group membership"),
    "resilience_dimension": pgettext_lazy("audit object", "resilience dimension"),
    "resilience_indicator": pgettext_lazy("audit object", "resilience indicator"),
    "case": pgettext_lazy("audit object", "case"),
    "visit": pgettext_lazy("audit object", "visit"),
    "help_request": pgettext_lazy("audit object", "help request"),
    "emergency_plan": pgettext_lazy("audit object", "emergency plan"),
    "emergency_plan_supply": pgettext_lazy("audit object", "emergency plan supply"),
    "emergency_plan_contact": pgettext_lazy("audit object", "emergency plan contact"),
    "emergency_task_template": pgettext_lazy("audit object", "emergency task template"),
    "audit_log": pgettext_lazy("audit object", "audit log"),
    "correction_request": pgettext_lazy("audit object", "correction request"),
    "privacy_notice": pgettext_lazy("audit object", "privacy notice"),
}

# What an export is of, by object type (a list, not one row).
EXPORT_NOUNS = {
    "resident": pgettext_lazy("audit object", "resident list"),
    "household": pgettext_lazy("audit object", "own household's data"),
    "service_hours": pgettext_lazy("audit object", "service hours"),
    "audit_log": pgettext_lazy("audit object", "audit log"),
}

# Field names and the keys of `changes`, in words.
FIELD_NOUNS = {
    "phone": pgettext_lazy("audit field", "phone"),
    "id_number": pgettext_lazy("audit field", "ID number"),
    "moved_out_on": pgettext_lazy("audit field", "move-out date"),
    "name": pgettext_lazy("audit field", "name"),
    "sex": pgettext_lazy("audit field", "sex"),
    "birth_year": pgettext_lazy("audit field", "year of birth"),
    "residency_type": pgettext_lazy("audit field", "residency type"),
    "party_membership": pgettext_lazy("audit field", "party membership"),
    "vulnerability_tags": pgettext_lazy("audit field", "care tags"),
    "household": pgettext_lazy("audit field", "household"),
    "room": pgettext_lazy("audit field", "room"),
    "is_active": pgettext_lazy("audit field", "in use"),
    "is_public": pgettext_lazy("audit field", "public"),
    "sla_hours": pgettext_lazy("audit field", "time limit (hours)"),
    "sort_order": pgettext_lazy("audit field", "order"),
    "name_zh": pgettext_lazy("audit field", "Chinese name"),
    "name_en": pgettext_lazy("audit field", "English name"),
    "acceptance_condition": pgettext_lazy("audit field", "acceptance condition"),
    "closing_condition": pgettext_lazy("audit field", "closing condition"),
    "usual_handler": pgettext_lazy("audit field", "usual handler"),
    "parent": pgettext_lazy("audit field", "major class"),
    "code": pgettext_lazy("audit field", "code"),
    "status": pgettext_lazy("audit field", "status"),
    "revoked_reason": pgettext_lazy("audit field", "why revoked"),
    "revoked_at": pgettext_lazy("audit field", "revoked at"),
    "hours": pgettext_lazy("audit field", "hours"),
    "volunteer": pgettext_lazy("audit field", "volunteer"),
    "target": pgettext_lazy("audit field", "target"),
    "weight": pgettext_lazy("audit field", "weight"),
    "kind": pgettext_lazy("audit field", "kind"),
    "votes_for": pgettext_lazy("audit field", "votes for"),
    "votes_against": pgettext_lazy("audit field", "votes against"),
    "votes_abstain": pgettext_lazy("audit field", "abstentions"),
    "community": pgettext_lazy("audit field", "community"),
    "prefix": pgettext_lazy("audit field", "prefix"),
    "fields": pgettext_lazy("audit field", "fields changed"),
    "filter": pgettext_lazy("audit field", "filter"),
    "q": pgettext_lazy("audit field", "search words"),
    "text": pgettext_lazy("audit field", "search words"),
    "grid": pgettext_lazy("audit field", "grid"),
    "tag": pgettext_lazy("audit field", "tag"),
    "start": pgettext_lazy("audit field", "from"),
    "end": pgettext_lazy("audit field", "to"),
    "date_from": pgettext_lazy("audit field", "from"),
    "date_to": pgettext_lazy("audit field", "to"),
    "actor": pgettext_lazy("audit field", "who"),
    "action": pgettext_lazy("audit field", "what"),
    "object_type": pgettext_lazy("audit field", "kind of record"),
    "hidden": pgettext_lazy("audit field", "hidden"),
    "skills": pgettext_lazy("audit field", "skills"),
    "willingness": pgettext_lazy("audit field", "willingness"),
    "availability": pgettext_lazy("audit field", "availability"),
    "work_unit": pgettext_lazy("audit field", "work unit"),
    "introduction": pgettext_lazy("audit field", "introduction"),
    "home_building": pgettext_lazy("audit field", "home building"),
    "finding": pgettext_lazy("audit field", "visit notes"),
    "description": pgettext_lazy("audit field", "description"),
    "note": pgettext_lazy("audit field", "note"),
    "title": pgettext_lazy("audit field", "title"),
    "dry_run": pgettext_lazy("audit field", "dry run"),
    "buildings": pgettext_lazy("audit field", "buildings"),
    "households": pgettext_lazy("audit field", "households"),
    "residents": pgettext_lazy("audit field", "residents"),
    "version": pgettext_lazy("audit field", "version"),
    "reason": pgettext_lazy("audit field", "reason"),
    "retry_minutes": pgettext_lazy("audit field", "retry after (minutes)"),
    "max_attempts": pgettext_lazy("audit field", "attempts at most"),
}

# Keys whose values are codes of a model field's choices: (object type or "*", key) →
# (app label, model, field). Read from the registry at display time.
_CHOICE_FIELDS = {
    ("volunteer", "status"): ("volunteers", "Volunteer", "status"),
    ("resolution", "kind"): ("participation", "Resolution", "kind"),
    ("resident", "sex"): ("grids", "Resident", "sex"),
    ("resident", "residency_type"): ("grids", "Resident", "residency_type"),
    ("resident", "party_membership"): ("grids", "Resident", "party_membership"),
}

_COUNT_KEYS = ("created", "updated", "unchanged")
_ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
_ROW_COUNTS = ("rows", "errors", "dry_run", "buildings", "households", "residents")


def object_noun(object_type: str) -> str:
    noun = OBJECT_NOUNS.get(object_type)
    return str(noun) if noun is not None else object_type.replace("_", " ")


def field_noun(key: str) -> str:
    noun = FIELD_NOUNS.get(key)
    return str(noun) if noun is not None else str(key).replace("_", " ")


def actor_name(entry: AuditEntry) -> str:
    """Who acted: their display name (or username); the system when nobody did."""
    actor = entry.actor
    if actor is not None:
        return actor.display_name or actor.username
    if entry.action == AuditAction.ANONYMISE:
        return _("System (retention rule)")
    return _("System")


def _object_label(entry: AuditEntry) -> str:
    label = entry.object_label
    if entry.object_type == "role_assignment":
        # "username · role_code · grid name": the role in words.
        parts = label.split(" · ")
        if len(parts) > 1 and parts[1] in Role.values:
            parts[1] = str(Role(parts[1]).label)
        label = " · ".join(parts)
    return label


def object_phrase(entry: AuditEntry) -> str:
    if entry.action == AuditAction.EXPORT and entry.object_type in EXPORT_NOUNS:
        noun = str(EXPORT_NOUNS[entry.object_type])
    else:
        noun = object_noun(entry.object_type)
    label = _object_label(entry)
    if not label:
        return noun
    return pgettext("audit object", "%(noun)s “%(label)s”") % {"noun": noun, "label": label}


def _sentence(entry: AuditEntry) -> str:
    words = {"actor": actor_name(entry), "object": object_phrase(entry)}
    if entry.field:
        words["field"] = field_noun(entry.field)
    action = entry.action
    if action == AuditAction.CREATE:
        return _("%(actor)s created %(object)s") % words
    if action == AuditAction.UPDATE:
        if entry.field:
            return _("%(actor)s changed the %(field)s of %(object)s") % words
        return _("%(actor)s changed %(object)s") % words
    if action == AuditAction.DELETE:
        return _("%(actor)s deleted %(object)s") % words
    if action == AuditAction.REVEAL:
        words.setdefault("field", pgettext("audit field", "number"))
        return _("%(actor)s revealed the full %(field)s of %(object)s") % words
    if action == AuditAction.IMPORT:
        return _("%(actor)s imported %(object)s") % words
    if action == AuditAction.EXPORT:
        return _("%(actor)s exported %(object)s") % words
    if action == AuditAction.IMPORT_CHECK:
        # A check that wrote nothing: asked for (a dry run), or an import refused for its
        # errors, which must not read as if the person had only been trying.
        if isinstance(entry.changes, dict) and entry.changes.get("dry_run") is False:
            return (
                _("%(actor)s tried to import %(object)s; it was refused and nothing was written")
                % words
            )
        return _("%(actor)s checked %(object)s without importing it (dry run)") % words
    if action == AuditAction.LINK:
        return _("%(actor)s linked a login to %(object)s") % words
    if action == AuditAction.UNLINK:
        return _("%(actor)s unlinked a login from %(object)s") % words
    if action == AuditAction.ROLE_GRANT:
        return _("%(actor)s granted %(object)s") % words
    if action == AuditAction.ROLE_REVOKE:
        return _("%(actor)s removed %(object)s") % words
    if action == AuditAction.TOKEN_REVOKE:
        return _("%(actor)s revoked %(object)s") % words
    if action == AuditAction.TWO_FACTOR:
        return _("%(actor)s changed the two-factor sign-in of %(object)s") % words
    if action == AuditAction.ANONYMISE:
        return _("%(actor)s anonymised %(object)s") % words
    if action == AuditAction.CORRECT:
        return _("%(actor)s corrected %(object)s at the person's request") % words
    if action == AuditAction.CONSENT:
        if entry.object_type == "privacy_notice":
            # The label is the version ("2026-12"); entries written before it was, carry
            # "username · version".
            version = entry.object_label.rsplit(" · ", 1)[-1] or entry.object_id
            return _("%(actor)s agreed to the privacy notice (version %(version)s)") % {
                "actor": words["actor"],
                "version": version,
            }
        return _("%(actor)s accepted %(object)s") % words
    words["action"] = action
    return _("%(actor)s did “%(action)s” to %(object)s") % words


# Values ---------------------------------------------------------------------------------


def _choice_label(object_type: str, key: str, value) -> str | None:
    if key == "revoked_reason" and value in TokenRevocation.values:
        return str(TokenRevocation(value).label)
    target = _CHOICE_FIELDS.get((object_type, key))
    if target is None or not isinstance(value, str):
        return None
    try:
        model_field = apps.get_model(target[0], target[1])._meta.get_field(target[2])
    except LookupError:
        return None
    for code, label in model_field.flatchoices:
        if code == value:
            return str(label)
    return None


def _tag_labels(encoded: str) -> list[str]:
    """A resident's stored tags (",elderly_alone,disabled,") as the register labels them."""
    tags = [tag for tag in encoded.split(",") if tag]
    try:
        choices = apps.get_app_config("grids").models_module.VulnerabilityTag.choices
    except (LookupError, AttributeError):
        choices = []
    labels = dict(choices)
    return [str(labels.get(tag, tag)) for tag in tags]


def value_words(value, *, object_type: str = "", key: str = "") -> str:
    """One stored value in words: never a repr, a dict or a list in brackets."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return pgettext("audit value", "yes") if value else pgettext("audit value", "no")
    if isinstance(value, str):
        label = _choice_label(object_type, key, value)
        if label is not None:
            return label
        if key == "vulnerability_tags":
            return value_words(_tag_labels(value))
        if _ISO_MOMENT.match(value):
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                return value
            if timezone.is_aware(moment):
                moment = timezone.localtime(moment)
            return moment.strftime("%Y-%m-%d %H:%M")
        return value
    if isinstance(value, list | tuple | set):
        separator = pgettext("audit list separator", "、")
        if key == "fields":
            return separator.join(field_noun(str(item)) for item in value)
        return separator.join(value_words(item, object_type=object_type, key=key) for item in value)
    if isinstance(value, dict):
        separator = pgettext("audit list separator", "，")
        return separator.join(
            pgettext("audit pair", "%(name)s %(value)s")
            % {
                "name": field_noun(str(name)),
                "value": value_words(item, object_type=object_type, key=str(name)),
            }
            for name, item in value.items()
        )
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _counts_words(counts: dict) -> str:
    return _("created %(created)s, updated %(updated)s, unchanged %(unchanged)s") % {
        key: counts.get(key, 0) for key in _COUNT_KEYS
    }


def _is_counts(value) -> bool:
    return isinstance(value, dict) and set(value) <= set(_COUNT_KEYS) and bool(value)


def _import_lines(changes: dict) -> list[str]:
    """An import's or a dry run's counts: the rows (residents) first, then buildings and
    households, then whether anything was written."""
    lines = []
    residents = changes.get("residents") if _is_counts(changes.get("residents")) else {}
    words = {"rows": changes.get("rows", 0), "errors": changes.get("errors", 0)}
    words.update({key: residents.get(key, 0) for key in _COUNT_KEYS})
    if "errors" in changes:
        lines.append(
            _(
                "%(rows)s rows: created %(created)s, updated %(updated)s, "
                "unchanged %(unchanged)s, errors %(errors)s"
            )
            % words
        )
    else:
        lines.append(
            _("%(rows)s rows: created %(created)s, updated %(updated)s, unchanged %(unchanged)s")
            % words
        )
    for key in ("buildings", "households"):
        if _is_counts(changes.get(key)):
            lines.append(
                pgettext("audit detail", "%(name)s: %(value)s")
                % {"name": field_noun(key), "value": _counts_words(changes[key])}
            )
    if changes.get("dry_run") is True:
        lines.append(_("Checked only: nothing was written."))
    return lines


def change_lines(entry: AuditEntry, *, skip: tuple[str, ...] = ()) -> list[str]:
    changes = entry.changes
    if not isinstance(changes, dict):
        return [value_words(changes)] if changes not in (None, "", []) else []
    lines: list[str] = []
    if entry.object_type == "registry_import" and "rows" in changes:
        lines += _import_lines(changes)
        changes = {key: value for key, value in changes.items() if key not in _ROW_COUNTS}
    for key, change in changes.items():
        key = str(key)
        if key in skip:
            continue
        words = {"name": field_noun(key)}
        if key == "count" and isinstance(change, int) and not isinstance(change, bool):
            lines.append(
                ngettext("%(count)d row in all", "%(count)d rows in all", change)
                % {"count": change}
            )
            continue
        if isinstance(change, list | tuple) and len(change) == 2 and key != "fields":
            words["old"] = value_words(change[0], object_type=entry.object_type, key=key)
            words["new"] = value_words(change[1], object_type=entry.object_type, key=key)
            lines.append(pgettext("audit detail", "%(name)s: %(old)s → %(new)s") % words)
            continue
        if _is_counts(change):
            words["value"] = _counts_words(change)
        else:
            words["value"] = value_words(change, object_type=entry.object_type, key=key)
        lines.append(pgettext("audit detail", "%(name)s: %(value)s") % words)
    return lines


def reason_words(entry: AuditEntry) -> str:
    """A reveal's purpose and its words ("上门走访联系：核对联系方式"), else the reason given.
    A token's revocation stores its reason's label already."""
    purpose = purpose_label(entry.reason_code) if entry.action == AuditAction.REVEAL else ""
    if purpose and entry.reason:
        return pgettext("audit reason", "%(purpose)s: %(reason)s") % {
            "purpose": purpose,
            "reason": entry.reason,
        }
    return purpose or entry.reason


def describe(entry: AuditEntry) -> AuditLine:
    """The entry in words, in the active language."""
    # A token's revocation says why in its reason; the code's [old, new] adds nothing.
    skip = ("revoked_reason",) if entry.action == AuditAction.TOKEN_REVOKE else ()
    details = change_lines(entry, skip=skip)
    return AuditLine(sentence=_sentence(entry), details=details, reason=reason_words(entry))


__all__ = [
    "AuditLine",
    "actor_name",
    "change_lines",
    "describe",
    "field_noun",
    "object_noun",
    "reason_words",
    "value_words",
]
