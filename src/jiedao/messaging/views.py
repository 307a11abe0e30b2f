"""The notifications page (消息): one's own and one's unit's messages, marked read in a batch;
one's channels (接收方式). The operations page (消息发送): the outbox per channel, the failed
messages, 重新发送; the templates (消息模板) with a preview and the SMS length. The residents'
退订 page, and the SMS providers' delivery reports."""

import hmac

from django.apps import apps
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from jiedao.common.errors import DomainError
from jiedao.common.throttle import Limit, limited
from jiedao.org.permissions import permission
from jiedao.web.access import role_required

from . import receipts, selectors, services, wording
from .forms import ChannelsForm, OptOutForm, TemplateForm


@login_required
@permission("account.notifications")
def notifications(request):
    show_all = request.GET.get("all") == "1"
    if request.method == "POST":
        try:
            changed = services.mark_read(request.user, ids=request.POST.getlist("ids"))
        except DomainError as exc:
            messages.error(request, getattr(exc, "message", str(exc)))
        else:
            messages.success(request, _("已将 %(n)d 条消息标为已读。") % {"n": changed})
        return redirect(reverse("messaging:notifications") + ("?all=1" if show_all else ""))
    items = selectors.notifications_for(request.user, unread_only=not show_all, limit=100)
    return render(request, "messaging/notifications.html", {"items": items, "show_all": show_all})


@role_required("admin")
def outbox(request):
    """消息发送. Apps add lines of their own figures (``ops_figures`` on their ``AppConfig``: dotted
    paths of functions of the user giving (label, text) pairs), e.g. the emergencies' 接警确认."""
    context = {
        "channels": selectors.outbox_overview(request.user),
        "failed": selectors.failed_messages(request.user),
        "opt_out_form": OptOutForm(),
        "figures": [
            line
            for config in apps.get_app_configs()
            for read in getattr(config, "ops_figures", ())
            for line in import_string(read)(request.user)
        ],
    }
    return render(request, "messaging/outbox.html", context)


@require_POST
@permission("messaging.opt_out")
@role_required("admin")
def opt_out(request):
    form = OptOutForm(request.POST)
    if form.is_valid():
        try:
            services.opt_out(request.user, phone=form.cleaned_data["phone"])
        except DomainError as exc:
            messages.error(request, getattr(exc, "message", str(exc)))
        else:
            messages.success(request, _("已登记退订：这个号码今后不再收到短信通知。"))
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect(reverse("messaging:outbox") + "#opt-out")


@require_POST
@permission("messaging.resend")
@role_required("admin")
def resend(request, pk):
    try:
        services.resend(request.user, message_id=pk)
    except DomainError as exc:
        messages.error(request, getattr(exc, "message", str(exc)))
    else:
        messages.success(request, _("已重新放入发送队列，稍后发出。"))
    return redirect("messaging:outbox")


@login_required
@permission("account.message_settings")
def channel_settings(request):
    choices = selectors.personal_channels(request.user)
    form = ChannelsForm(request.POST if request.method == "POST" else None, choices=choices)
    if request.method == "POST" and form.is_valid():
        try:
            services.set_channels(request.user, enabled=form.choices_made())
        except DomainError as exc:
            form.add_error(None, getattr(exc, "message", str(exc)))
        else:
            messages.success(request, _("接收方式已保存。"))
            return redirect("messaging:channel_settings")
    return render(request, "messaging/channel_settings.html", {"form": form, "choices": choices})


@role_required("admin")
def templates(request):
    return render(request, "messaging/templates.html", {"rows": selectors.template_rows()})


@permission("messaging.templates")
@role_required("admin")
def template_edit(request, kind):
    if kind not in wording.KINDS:
        raise Http404
    row = selectors.template_row(kind)
    form = TemplateForm(
        request.POST or None,
        initial={"text": row["text"], "sms_template_id": row["sms_template_id"], "urgent": row["urgent"]},
    )
    preview = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            text = form.cleaned_data["text"]
            try:
                wording.check(text, row["variables"])
            except wording.TemplateError as error:
                form.add_error("text", error.message)
            else:
                if request.POST.get("step") == "save":
                    try:
                        services.save_template(
                            request.user,
                            kind=kind,
                            text=text,
                            sms_template_id=form.cleaned_data["sms_template_id"],
                            urgent=form.cleaned_data["urgent"],
                        )
                    except DomainError as exc:
                        form.add_error(
                            getattr(exc, "field", None) if getattr(exc, "field", None) in form.fields else None,
                            getattr(exc, "message", str(exc)),
                        )
                    else:
                        messages.success(request, _("模板“%(label)s”已保存。") % {"label": row["label"]})
                        return redirect("messaging:templates")
                preview = selectors.preview(kind, text)
        if form.errors:
            status = 422
    else:
        preview = selectors.preview(kind, row["text"])
    return render(
        request, "messaging/template_edit.html", {"row": row, "form": form, "preview": preview}, status=status
    )


@limited(Limit("PUBLIC_PAGE_RATE"))
@permission("public.unsubscribe")
def unsubscribe(request, code):
    """退订: the link at the end of a resident's SMS. A GET only asks; the POST does it."""
    contact = selectors.contact_by_code(code)
    if contact is None:
        return render(request, "messaging/unsubscribe.html", {"missing": True}, status=404)
    if request.method == "POST":
        if request.POST.get("step") == "resume":
            contact = services.resubscribe(code)
            messages.success(request, _("已恢复接收短信通知。"))
        else:
            contact = services.unsubscribe(code)
            messages.success(request, _("已退订，今后不再给您发送短信通知。"))
        return redirect("messaging:unsubscribe", code=code)
    return render(request, "messaging/unsubscribe.html", {"contact": contact})


@csrf_exempt
@require_POST
@permission("public.delivery_report")
def delivery_report(request, channel, token):
    """An SMS provider's delivery reports (送达回执), at the address given to it with the secret
    ``SMS_RECEIPT_TOKEN``."""
    expected = str(settings.JIEDAO.get("SMS_RECEIPT_TOKEN") or "")
    if not expected or channel not in ("sms_http", "sms_tencent") or not hmac.compare_digest(expected, token):
        raise Http404
    id_field = str(getattr(settings, "SMS_HTTP", {}).get("ID_FIELD") or "")
    try:
        reports = receipts.parse(channel, request.body, id_field=id_field)
    except receipts.BadReport:
        return JsonResponse({"result": 1, "errmsg": _("回执格式不对：应为 JSON 对象或对象列表。")}, status=400)
    changed = services.record_receipts(channel=channel, reports=reports)
    return JsonResponse({"result": 0, "errmsg": "OK", "changed": changed})
