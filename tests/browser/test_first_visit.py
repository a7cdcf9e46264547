"""Each role's first pages before any claim exists, and the menu on a phone, in Chromium.

Empty lists, the partner-code page and the 404 page are where a new user starts; each is
checked at 1280 and 390 px (axe-core's WCAG A/AA rules, no sideways scrolling).
"""

from __future__ import annotations

import pytest

from tests.browser.screens import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_menu(page) -> None:
    page.click(".navbar-toggler")
    page.wait_for_selector("#portal-nav.show")


def test_it_checks_each_roles_first_pages(new_page, check_page, world):
    visitor = new_page()
    visitor.goto("/c/")
    visitor.fill("input[name=code]", "CONTOSO1")
    check_page(visitor, "partner-code")
    visitor.goto("/no-such-page/")
    check_page(visitor, "not-found")

    customer = new_page(world.approver)
    customer.goto("/claims/")
    assert "No claims match." in customer.content()
    check_page(customer, "customer-no-claims")

    partner = new_page(world.partner_member)
    partner.goto("/partner/")
    assert "No claims match." in partner.content()
    check_page(partner, "partner-no-claims")

    lead = new_page(world.lead)
    lead.goto("/review/?mine=1")
    assert "The queue is empty." in lead.content()
    check_page(lead, "queue-empty")


@pytest.mark.parametrize("role", ["visitor", "approver", "partner_member", "lead"])
def test_it_opens_the_menu_on_a_phone(new_page, check_page, world, role):
    page = new_page(None if role == "visitor" else getattr(world, role), viewport=PHONE)
    page.goto("/")
    open_menu(page)
    if role != "visitor":
        page.click("#account-menu")
        page.wait_for_selector("#account-menu + .dropdown-menu.show")
    check_page(page, "menu-open", widths=[PHONE])
