from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from approvals import views as review_views
from claims import views as claim_views
from claims_portal import views
from partners import views as partner_views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz/", views.healthz, name="healthz"),
    path("c/", claim_views.partner_code, name="partner_code"),
    path("c/<slug:slug>/", claim_views.claim_start, name="claim_start"),
    path("claims/", claim_views.customer_claims, name="customer_claims"),
    path(
        "claims/<str:reference>/", claim_views.customer_claim_detail, name="customer_claim_detail"
    ),
    path("claims/<str:reference>/edit/", claim_views.claim_edit, name="claim_edit"),
    path(
        "claims/<str:reference>/<slug:action>/",
        claim_views.customer_claim_action,
        name="customer_claim_action",
    ),
    path("partner/", partner_views.dashboard, name="partner_dashboard"),
    path(
        "partner/claims/<str:reference>/",
        partner_views.claim_detail,
        name="partner_claim_detail",
    ),
    path(
        "partner/claims/<str:reference>/<slug:action>/",
        partner_views.claim_action,
        name="partner_claim_action",
    ),
    path("review/", review_views.queue, name="review_queue"),
    path(
        "review/claims/<str:reference>/",
        review_views.claim_detail,
        name="review_claim_detail",
    ),
    path(
        "review/claims/<str:reference>/<slug:action>/",
        review_views.claim_action,
        name="review_claim_action",
    ),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
