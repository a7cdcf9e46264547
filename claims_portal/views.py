from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET, require_POST

from claims import inbox
from claims.forms import PartnerCodeForm
from claims_portal import uploads
from claims_portal.lists import Column, LargeListPaginator, list_response

log = logging.getLogger(__name__)


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html", {"code_form": PartnerCodeForm()})


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        log.warning("Health check: database unreachable: %s", exc)
        return False
    return True


def _broker_ok() -> bool:
    if not settings.REDIS_URL:
        return True  # in-process tasks: there is no broker to reach
    import redis

    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2
        )
        return bool(client.ping())
    except Exception as exc:
        log.warning("Health check: broker unreachable: %s", exc)
        return False


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    down = [name for name, ok in checks.items() if not ok]
    body = {
        "status": "ok" if not down else "unavailable",
        "checks": {name: ("ok" if ok else "down") for name, ok in checks.items()},
    }
    if down:
        body["down"] = down
    return JsonResponse(body, status=503 if down else 200)


@require_GET
@cache_control(public=True, max_age=86400)
def uploaded_image(request: HttpRequest, name: str) -> FileResponse:
    """A re-encoded image anyone may see (a partner's logo)."""
    response = FileResponse(uploads.image_storage().open_image(name), content_type="image/png")
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# --- Notifications, for everyone signed in -------------------------------------------------

NOTIFICATION_COLUMNS = [
    Column(gettext_lazy("Received"), lambda n: n.created_at),
    Column(gettext_lazy("Subject"), lambda n: n.subject),
    Column(gettext_lazy("Claim"), lambda n: n.claim.reference),
    Column(gettext_lazy("Read"), lambda n: n.read_at),
]


@login_required
def notifications(request: HttpRequest) -> HttpResponseBase:
    return list_response(
        request,
        inbox.notification_list(request.user, filters=request.GET),
        template="notifications.html",
        columns=NOTIFICATION_COLUMNS,
        filename="notifications",
        paginator_class=LargeListPaginator,
    )


@login_required
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Follow a notification to its claim; following it marks it read."""
    notification = inbox.get_notification(request.user, pk)
    inbox.mark_read(notification)
    url = inbox.link_for(notification, request.roles)  # type: ignore[attr-defined]
    if not url:
        messages.info(request, _("You no longer have access to claim %s.") % notification.claim)
        return redirect("notifications")
    return redirect(url)


@require_POST
@login_required
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    inbox.mark_read(inbox.get_notification(request.user, pk))
    return redirect(_back(request))


@require_POST
@login_required
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    count = inbox.mark_all_read(request.user)
    if count:
        messages.success(
            request,
            ngettext("%(n)d notification marked read.", "%(n)d notifications marked read.", count)
            % {"n": count},
        )
    return redirect(_back(request))


def _back(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("notifications")
