from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, register_converter

from approvals import views as review_views
from claims import views as claim_views
from claims_portal import views
from claims_portal.partner_system import views as partner_system_views
from customers import views as customer_views
from partners import views as partner_views


class ReferenceConverter:
    """A claim reference, CLM-YYYY-NNNNNN; anything else (NUL bytes included) is a 404."""

    regex = r"CLM-[0-9]{4}-[0-9]{6,9}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ReferenceConverter, "ref")

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz/", views.healthz, name="healthz"),
    # Customers
    path("c/", claim_views.partner_code, name="partner_code"),
    path("c/<str:slug>/", claim_views.claim_start, name="claim_start"),
    path(
        "c/<str:slug>/<slug:program_slug>/",
        claim_views.claim_start_in_program,
        name="claim_start_in_program",
    ),
    path("claims/", claim_views.customer_claims, name="customer_claims"),
    path(
        "claims/<ref:reference>/",
        claim_views.CustomerClaimPage.as_view(),
        name="customer_claim_detail",
    ),
    path("claims/<ref:reference>/edit/", claim_views.claim_edit, name="claim_edit"),
    path(
        "claims/<ref:reference>/sign/",
        claim_views.CustomerSignView.as_view(),
        name="customer_claim_sign",
    ),
    path(
        "claims/<ref:reference>/route/",
        claim_views.CustomerRouteView.as_view(),
        name="customer_claim_route",
    ),
    path(
        "claims/<ref:reference>/withdraw/",
        claim_views.CustomerWithdrawView.as_view(),
        name="customer_claim_withdraw",
    ),
    path(
        "claims/<ref:reference>/comment/",
        claim_views.CustomerCommentView.as_view(),
        name="customer_claim_comment",
    ),
    path("organisation/", customer_views.organisation, name="organisation"),
    path("organisation/invite/", customer_views.invite, name="organisation_invite"),
    path(
        "organisation/invitations/revoke/",
        customer_views.revoke_invitation,
        name="organisation_invitation_revoke",
    ),
    path(
        "organisation/invitations/resend/",
        customer_views.resend_invitation,
        name="organisation_invitation_resend",
    ),
    path("organisation/members/role/", customer_views.change_role, name="organisation_role"),
    path("organisation/members/remove/", customer_views.remove_member, name="organisation_remove"),
    path("organisation/join/<str:token>/", customer_views.join, name="organisation_join"),
    path("associations/", customer_views.associations, name="associations"),
    path(
        "claims/<ref:reference>/sow.pdf",
        partner_views.CustomerSowView.as_view(),
        name="customer_claim_sow",
    ),
    # Partners
    path("partner/", partner_views.dashboard, name="partner_dashboard"),
    path(
        "partner/claims/<ref:reference>/",
        partner_views.PartnerClaimPage.as_view(),
        name="partner_claim_detail",
    ),
    path(
        "partner/claims/<ref:reference>/confirm/",
        partner_views.ConfirmView.as_view(),
        name="partner_claim_confirm",
    ),
    path(
        "partner/claims/<ref:reference>/return/",
        partner_views.ReturnView.as_view(),
        name="partner_claim_return",
    ),
    path(
        "partner/claims/<ref:reference>/comment/",
        partner_views.PartnerCommentView.as_view(),
        name="partner_claim_comment",
    ),
    path(
        "partner/claims/<ref:reference>/withdraw/",
        partner_views.WithdrawView.as_view(),
        name="partner_claim_withdraw",
    ),
    path("partner/confirm/", partner_views.bulk_confirm, name="partner_bulk_confirm"),
    path("partner/prepare/", partner_views.prepare, name="partner_prepare"),
    path(
        "partner/claims/<ref:reference>/invite/",
        partner_views.IssueInviteView.as_view(),
        name="partner_invite_issue",
    ),
    path(
        "partner/claims/<ref:reference>/invite/revoke/",
        partner_views.RevokeInviteView.as_view(),
        name="partner_invite_revoke",
    ),
    path(
        "partner/claims/<ref:reference>/invite/send/",
        partner_views.SendInviteView.as_view(),
        name="partner_invite_send",
    ),
    path(
        "partner/claims/<ref:reference>/sow.pdf",
        partner_views.PartnerSowView.as_view(),
        name="partner_claim_sow",
    ),
    path("partner/team/", partner_views.team_page, name="partner_team"),
    path("partner/team/invite/", partner_views.team_invite, name="partner_team_invite"),
    path("partner/team/<int:pk>/role/", partner_views.team_role, name="partner_team_role"),
    path("partner/team/<int:pk>/remove/", partner_views.team_remove, name="partner_team_remove"),
    path(
        "partner/team/invitations/<int:pk>/revoke/",
        partner_views.team_revoke,
        name="partner_team_revoke",
    ),
    # Any text reaches the views, so a damaged link gets a page that says so, not a 404.
    path("partner/join/<str:token>/", partner_views.team_join, name="partner_team_join"),
    path("partner/profile/", partner_views.profile, name="partner_profile"),
    path("i/<str:token>/", partner_views.claim_invite, name="claim_invite"),
    # Claims team
    path("review/", review_views.queue, name="review_queue"),
    path(
        "review/claims/<ref:reference>/",
        review_views.ReviewClaimPage.as_view(),
        name="review_claim_detail",
    ),
    path(
        "review/claims/<ref:reference>/decide/",
        review_views.DecideView.as_view(),
        name="review_claim_decide",
    ),
    path(
        "review/claims/<ref:reference>/comment/",
        review_views.ReviewCommentView.as_view(),
        name="review_claim_comment",
    ),
    path(
        "review/claims/<ref:reference>/return/",
        review_views.ReviewReturnView.as_view(),
        name="review_claim_return",
    ),
    path(
        "review/claims/<ref:reference>/return-to-partner/",
        review_views.ReviewReturnPartnerView.as_view(),
        name="review_claim_return_partner",
    ),
    path(
        "review/claims/<ref:reference>/take/",
        review_views.TakeView.as_view(),
        name="review_claim_take",
    ),
    path(
        "review/claims/<ref:reference>/release/",
        review_views.ReleaseView.as_view(),
        name="review_claim_release",
    ),
    path(
        "review/claims/<ref:reference>/assign/",
        review_views.AssignView.as_view(),
        name="review_claim_assign",
    ),
    path(
        "review/claims/<ref:reference>/sow/",
        review_views.sow_document,
        name="review_claim_sow",
    ),
    path("review/bulk/assign/", review_views.bulk_assign, name="review_bulk_assign"),
    path("review/bulk/approve/", review_views.bulk_approve, name="review_bulk_approve"),
    path("review/bulk/reject/", review_views.bulk_reject, name="review_bulk_reject"),
    path("review/sync-conflicts/", partner_system_views.conflict_list, name="sync_conflicts"),
    path(
        "review/sync-conflicts/<int:pk>/keep/",
        partner_system_views.keep_portals,
        name="sync_conflict_keep",
    ),
    path(
        "review/sync-conflicts/<int:pk>/take/",
        partner_system_views.take_vendors,
        name="sync_conflict_take",
    ),
    # Everyone signed in
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/<int:pk>/", views.notification_open, name="notification_open"),
    path("notifications/<int:pk>/read/", views.notification_read, name="notification_read"),
    path("notifications/read-all/", views.notifications_read_all, name="notifications_read_all"),
    path("files/images/<path:name>", views.uploaded_image, name="uploaded_image"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
