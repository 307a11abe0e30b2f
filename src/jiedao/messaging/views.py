"""The notifications page (消息): one's own and one's unit's messages, marked read in a batch."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from jiedao.common.errors import DomainError
from jiedao.org.permissions import permission

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
