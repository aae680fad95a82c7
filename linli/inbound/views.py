"""Receiving: the SMS gateway's webhook and the WeChat Official Account's push. Handling:
staff's list of messages waiting and the one-step filing as a case or a help request."""

import hmac
import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from linli import clock
from linli.accounts.grid_paths import within
from linli.accounts.roles import Permission
from linli.emergency.services.help_requests import active_activation_for
from linli.errors import NotVisible, status_for
from linli.forms import form_add_errors
from linli.grids.models import Building
from linli.grids.selectors import scope_for, user_can
from linli.inbound import selectors, services
from linli.inbound.forms import CaseFromMessageForm, DismissForm, HelpFromMessageForm
from linli.inbound.models import InboundChannel, InboundState
from linli.wechat.push import (
    PushRejected,
    parse_push_xml,
    reply_text_xml,
    verify_push_signature,
)


@csrf_exempt
@require_POST
def sms_webhook(request):
    """POST {"from": phone, "text": ..., "id": gateway id} with `Authorization: Bearer
    LINLI_SMS_INBOUND_TOKEN`. Off (404) while that token is unset."""
    token = settings.LINLI_SMS_INBOUND_TOKEN
    if not token:
        raise NotVisible()
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), token.encode()):
        return JsonResponse({"detail": "unauthorised"}, status=401)
    try:
        payload = json.loads(request.body or b"{}")
        if not isinstance(payload, dict):
            raise ValueError
    except ValueError:
        return JsonResponse({"detail": "a JSON object", "field": "body"}, status=400)
    try:
        message = services.inbound_receive(
            channel=InboundChannel.SMS,
            external_id=str(payload.get("id", "")),
            sender=str(payload.get("from", "")),
            text=str(payload.get("text", "")),
        )
    except ValidationError as error:
        field, detail = next(iter(error.message_dict.items()))
        return JsonResponse({"detail": detail[0], "field": field}, status=status_for(error))
    return JsonResponse({"status": "received" if message else "unsubscribed"})


@csrf_exempt
@require_http_methods(["GET", "POST"])
def wechat_push(request):
    """The Official Account's server address: the GET check answers `echostr`; a pushed text
    message is stored and answered with a short thanks. Off (404) without LINLI_WECHAT_TOKEN."""
    token = settings.LINLI_WECHAT_TOKEN
    if not token:
        raise NotVisible()
    query = request.GET
    if not verify_push_signature(
        token, query.get("signature", ""), query.get("timestamp", ""), query.get("nonce", "")
    ):
        return HttpResponse("bad signature", status=403, content_type="text/plain")
    if request.method == "GET":
        return HttpResponse(query.get("echostr", ""), content_type="text/plain")
    try:
        fields = parse_push_xml(request.body)
    except PushRejected:
        return HttpResponse("bad message", status=400, content_type="text/plain")
    if fields.get("MsgType") != "text" or not fields.get("Content"):
        # Events (follow, menu clicks) and media: nothing to file; WeChat wants "success".
        return HttpResponse("success", content_type="text/plain")
    try:
        services.inbound_receive(
            channel=InboundChannel.WECHAT,
            external_id=fields.get("MsgId", ""),
            sender=fields.get("FromUserName", ""),
            text=fields["Content"],
        )
    except ValidationError:
        return HttpResponse("success", content_type="text/plain")
    reply = reply_text_xml(
        to_user=fields.get("FromUserName", ""),
        from_user=fields.get("ToUserName", ""),
        content=_("Received. The community office will look at it and reply."),
        create_time=int(clock.now().timestamp()),
    )
    return HttpResponse(reply, content_type="application/xml")


def _needs_case_filing(user) -> None:
    if not user_can(user=user, permission=Permission.CASE_FILE):
        raise NotVisible()


@login_required
def message_list(request):
    _needs_case_filing(request.user)
    visible = selectors.inbound_visible(user=request.user)
    return render(
        request,
        "inbound/list.html",
        {
            "waiting": visible.filter(state=InboundState.NEW),
            "handled": visible.exclude(state=InboundState.NEW)[:30],
        },
    )


@login_required
def message_detail(request, message_id: int):
    _needs_case_filing(request.user)
    message = selectors.inbound_get(user=request.user, message_id=message_id)
    resident = message.resident
    buildings = Building.objects.filter(
        within(scope_for(request.user).paths_for(Permission.CASE_FILE))
    ).order_by("grid_path", "name")
    initial_building = resident.household.building_id if resident else None
    case_form = CaseFromMessageForm(
        buildings=buildings, initial={"description": message.text, "building": initial_building}
    )
    help_form = HelpFromMessageForm(initial={"description": message.text})
    dismiss_form = DismissForm()
    action = request.POST.get("action") if request.method == "POST" else None
    status = 200
    if action == "case":
        case_form = CaseFromMessageForm(request.POST, buildings=buildings)
        if case_form.is_valid():
            try:
                case = services.inbound_file_case(
                    actor=request.user,
                    message=message,
                    category=case_form.cleaned_data["category"],
                    building=case_form.cleaned_data["building"],
                    description=case_form.cleaned_data["description"],
                )
            except ValidationError as error:
                form_add_errors(case_form, error)
            else:
                messages.success(
                    request, _("Filed as case %(reference)s.") % {"reference": case.reference}
                )
                return redirect("cases:detail", case_id=case.pk)
        status = 400
    elif action == "help":
        help_form = HelpFromMessageForm(request.POST)
        if help_form.is_valid():
            try:
                services.inbound_file_help(
                    actor=request.user, message=message, **help_form.cleaned_data
                )
            except ValidationError as error:
                form_add_errors(help_form, error)
            else:
                messages.success(request, _("Filed as a help request."))
                return redirect("inbound:list")
        status = 400
    elif action == "dismiss":
        dismiss_form = DismissForm(request.POST)
        if dismiss_form.is_valid():
            try:
                services.inbound_dismiss(
                    actor=request.user, message=message, reason=dismiss_form.cleaned_data["reason"]
                )
            except ValidationError as error:
                form_add_errors(dismiss_form, error)
            else:
                messages.success(request, _("Dismissed."))
                return redirect("inbound:list")
        status = 400
    return render(
        request,
        "inbound/detail.html",
        {
            "message": message,
            "case_form": case_form,
            "help_form": help_form,
            "dismiss_form": dismiss_form,
            "emergency_live": bool(
                resident and active_activation_for(resident.grid_path) is not None
            ),
        },
        status=status,
    )
