"""A resident's right of access (PIPL Art. 45): everything Linli holds about their household
and about them, in one workbook, one sheet per kind of record, audited as an export.

Sheets: the household's members (the register's own rows, numbers masked, as
grids.exporting writes them), visits to the household, cases they reported or that concern
the household (filed for one of its members, or from a visit to it), emergency help requests
for the household, their volunteer service hours (when they are a volunteer), their activity
sign-ups, their privacy-notice acceptances and their correction requests.

Staff appear by their post, never by name: the right of access is to the resident's own
information, and a grid worker's name is the grid worker's. The post (网格长, 楼组长…) tells the
resident who holds the record and whom to ask; the committee answers for the person.
"""

import io
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _

from linli import clock
from linli.accounts.models import AuditAction, User
from linli.accounts.services import audit_record
from linli.cases.models import Case
from linli.emergency.models import HelpRequest
from linli.errors import NotAllowed
from linli.exports import xlsx_append
from linli.grids.exporting import ExportFile, own_household_rows
from linli.grids.models import RoleAssignment, Visit
from linli.participation.models import SignUp
from linli.privacy.models import CorrectionRequest, PrivacyNoticeAcceptance
from linli.volunteers.models import ServiceHoursEntry

FILENAME = "my-data.xlsx"


@dataclass(frozen=True)
class Sheet:
    key: str
    title: str
    rows: list[list]  # header first

    @property
    def count(self) -> int:
        return len(self.rows) - 1


def _chinese() -> bool:
    return (translation.get_language() or "zh-hans").startswith("zh")


def _header(*pairs: tuple[str, str]) -> list[str]:
    chinese = _chinese()
    return [zh if chinese else en for zh, en in pairs]


def _moment(value) -> str:
    return clock.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _day(value) -> str:
    return value.isoformat() if value else ""


def _yes_no(value: bool) -> str:
    if _chinese():
        return "是" if value else "否"
    return "yes" if value else "no"


def staff_post(*, user: User | None, grid_path: str) -> str:
    """The post under which `user` acted on something at `grid_path`: the post of their
    closest role covering it (e.g. 楼组长), else of any role; never their name."""
    if user is None:
        return ""
    assignments = list(RoleAssignment.objects.filter(user=user))
    covering = [a for a in assignments if grid_path.startswith(a.grid_path)]
    chosen = max(covering or assignments, key=lambda a: len(a.grid_path), default=None)
    if chosen is None:
        return _("Community staff")
    return chosen.get_post_display() if chosen.post else chosen.get_role_display()


# The sheets --------------------------------------------------------------------------------


def _visits(household_ids: Iterable[int]) -> list[list]:
    rows = [
        _header(
            ("房屋", "Household"),
            ("走访时间", "Visited at"),
            ("方式", "Method"),
            ("走访人岗位", "Visitor's post"),
            ("情绪", "Mood"),
            ("需跟进", "Follow-up needed"),
            ("发现", "Finding"),
        )
    ]
    visits = (
        Visit.objects.filter(household_id__in=household_ids)
        .select_related("household__building", "visitor")
        .order_by("visited_at", "id")
    )
    for visit in visits:
        rows.append(
            [
                f"{visit.household.building.name} {visit.household.room}",
                _moment(visit.visited_at),
                visit.get_method_display(),
                staff_post(user=visit.visitor, grid_path=visit.grid_path),
                visit.get_mood_display() if visit.mood else "",
                _yes_no(visit.needs_follow_up),
                visit.finding,
            ]
        )
    return rows


def _cases(user: User, household_ids: Iterable[int]) -> list[list]:
    rows = [
        _header(
            ("编号", "Reference"),
            ("提交时间", "Filed at"),
            ("与我的关系", "How it concerns me"),
            ("类别", "Category"),
            ("标题", "Title"),
            ("描述", "Description"),
            ("状态", "State"),
            ("承办单位", "Handled by (unit)"),
            ("结案时间", "Closed at"),
        )
    ]
    cases = (
        Case.objects.filter(
            Q(reporter=user)
            | Q(reporter_resident__household_id__in=household_ids)
            | Q(visit__household_id__in=household_ids)
        )
        .select_related("category", "owner_unit")
        .distinct()
        .order_by("created_at", "id")
    )
    for case in cases:
        if case.reporter_id == user.pk:
            relation = "我提交的" if _chinese() else "I reported it"
        else:
            relation = "关于我家" if _chinese() else "About my household"
        rows.append(
            [
                case.reference,
                _moment(case.created_at),
                relation,
                case.category.name,
                case.title,
                case.description,
                case.get_state_display(),
                case.owner_unit.name if case.owner_unit_id else "",
                _moment(case.closed_at),
            ]
        )
    return rows


def _help_requests(household_ids: Iterable[int]) -> list[list]:
    rows = [
        _header(
            ("提交时间", "Filed at"),
            ("应急事件", "Emergency"),
            ("求助类型", "Kind of help"),
            ("紧急程度", "Urgency"),
            ("需要什么", "What is needed"),
            ("代为提交", "Filed on my behalf"),
            ("状态", "State"),
            ("处理结果", "What was done"),
            ("完成时间", "Done at"),
        )
    ]
    requests = (
        HelpRequest.objects.filter(household_id__in=household_ids)
        .select_related("activation")
        .order_by("created_at", "id")
    )
    for help_request in requests:
        activation = help_request.activation
        rows.append(
            [
                _moment(help_request.created_at),
                f"{activation.get_hazard_display()} {_moment(activation.activated_at)}",
                help_request.get_kind_display(),
                help_request.get_urgency_display(),
                help_request.description,
                _yes_no(help_request.on_behalf),
                help_request.get_state_display(),
                help_request.resolution,
                _moment(help_request.done_at),
            ]
        )
    return rows


def _hours(user: User) -> list[list] | None:
    volunteer = getattr(user, "volunteer", None)
    if volunteer is None:
        return None
    rows = [
        _header(
            ("日期", "Date"),
            ("时长（小时）", "Hours"),
            ("来源", "Source"),
            ("备注", "Note"),
        )
    ]
    entries = ServiceHoursEntry.objects.filter(volunteer=volunteer).order_by("occurred_on", "id")
    for entry in entries:
        rows.append(
            [
                _day(entry.occurred_on),
                float(entry.hours),
                entry.get_source_kind_display(),
                entry.note,
            ]
        )
    return rows


def _sign_ups(user: User) -> list[list]:
    rows = [
        _header(
            ("活动", "Activity"),
            ("开始时间", "Starts at"),
            ("报名状态", "Status"),
            ("报名时间", "Signed up at"),
            ("签到时间", "Checked in at"),
        )
    ]
    sign_ups = (
        SignUp.objects.filter(user=user)
        .select_related("occurrence__activity")
        .order_by("occurrence__starts_at", "id")
    )
    for sign_up in sign_ups:
        rows.append(
            [
                sign_up.occurrence.activity.title,
                _moment(sign_up.occurrence.starts_at),
                sign_up.get_status_display(),
                _moment(sign_up.created_at),
                _moment(sign_up.checked_in_at),
            ]
        )
    return rows


def _acceptances(user: User) -> list[list]:
    rows = [_header(("版本", "Version"), ("同意时间", "Accepted at"), ("IP 地址", "IP address"))]
    for acceptance in PrivacyNoticeAcceptance.objects.filter(user=user).order_by("accepted_at"):
        rows.append(
            [acceptance.version, _moment(acceptance.accepted_at), acceptance.ip_address or ""]
        )
    return rows


def _corrections(household_ids: Iterable[int]) -> list[list]:
    rows = [
        _header(
            ("提交时间", "Asked at"),
            ("居民", "Resident"),
            ("更正内容", "What is wrong"),
            ("正确的值", "Correct value"),
            ("说明", "Note"),
            ("状态", "State"),
            ("处理时间", "Handled at"),
            ("处理意见", "Decision"),
        )
    ]
    corrections = (
        CorrectionRequest.objects.filter(household_id__in=household_ids)
        .select_related("resident")
        .order_by("created_at", "id")
    )
    for correction in corrections:
        rows.append(
            [
                _moment(correction.created_at),
                correction.resident.name,
                correction.get_field_display(),
                correction.requested_value,
                correction.note,
                correction.get_state_display(),
                _moment(correction.handled_at),
                correction.decision_note,
            ]
        )
    return rows


def own_data_sheets(*, user: User) -> tuple[list[Sheet], tuple[int, ...], str]:
    """Every sheet of the user's own-data workbook, their household ids and its grid path.
    ValidationError (permission_denied) for a user without a household."""
    household_rows, household_ids, grid_path = own_household_rows(user=user)
    chinese = _chinese()

    def title(zh: str, en: str) -> str:
        return zh if chinese else en

    sheets = [
        Sheet("household", title("我的家庭", "My household"), household_rows),
        Sheet("visits", title("走访记录", "Visits"), _visits(household_ids)),
        Sheet("cases", title("诉求", "Cases"), _cases(user, household_ids)),
        Sheet("help_requests", title("应急求助", "Help requests"), _help_requests(household_ids)),
    ]
    hours = _hours(user)
    if hours is not None:
        sheets.append(Sheet("service_hours", title("志愿服务时长", "Service hours"), hours))
    sheets += [
        Sheet("sign_ups", title("活动报名", "Activity sign-ups"), _sign_ups(user)),
        Sheet("privacy_notice", title("隐私告知同意", "Privacy notice"), _acceptances(user)),
        Sheet("corrections", title("更正申请", "Correction requests"), _corrections(household_ids)),
    ]
    return sheets, household_ids, grid_path


def _workbook(sheets: list[Sheet]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    for sheet in sheets:
        target = workbook.create_sheet(title=sheet.title)
        for row in sheet.rows:
            xlsx_append(target, row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@transaction.atomic
def own_data_export(*, user: User, ip_address: str | None = None) -> ExportFile:
    """Everything held about the user's household and about them as .xlsx; audited as an
    export, with the number of rows of each sheet."""
    if not user.is_authenticated:
        raise NotAllowed(_("You have no household to export."))
    sheets, household_ids, grid_path = own_data_sheets(user=user)
    content = _workbook(sheets)
    counts = {sheet.key: sheet.count for sheet in sheets}
    audit_record(
        actor=user,
        action=AuditAction.EXPORT,
        object_type="household",
        object_id=",".join(str(pk) for pk in household_ids),
        object_label=FILENAME,
        changes={"count": sum(counts.values()), "sheets": counts},
        grid_path=grid_path,
        ip_address=ip_address,
    )
    return ExportFile(filename=FILENAME, content=content, count=counts["household"])
