"""The notifications page (消息): one's own and one's unit's messages, marked read in a batch.
The operations page (消息发送): the outbox per channel, the failed messages, 重新发送."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jiedao.common.errors import DomainError
from jiedao.org.permissions import permission
from jiedao.web.access import role_required

from . import selectors, services


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
    context = {
        "channels": selectors.outbox_overview(request.user),
        "failed": selectors.failed_messages(request.user),
    }
    return render(request, "messaging/outbox.html", context)


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
