"""Shared pieces of the browser tests: Chromium, signed-in pages, screenshots, page checks.

    pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

    def test_it_shows_the_dashboard(new_page, check_page, world):
        page = new_page(world.partner_member)    # signed in by session cookie
        page.goto("/partner/")                   # relative to the live server
        check_page(page, "dashboard")            # screenshots at 1280 and 390 px, axe, overflow

`new_page()` is a visitor, and `sign_in(page, email)` (accounts.py) goes through the
sign-in form. `shoot(page, name)` takes the screenshots without the checks (screens.py);
`assert_accessible(page)` and `assert_fits_width(page)` (a11y.py) check the page at its
current size. Screenshots land in artifacts/screenshots/<test name>/NN-<name>-<width>.png.
"""

from __future__ import annotations

import os

import pytest

from tests.browser.accounts import session_cookie
from tests.browser.screens import DESKTOP, Screens
from tests.conftest import CHROMIUM

# Playwright's sync API leaves an event loop marked as running in the test thread for as
# long as the browser is up, and Django's ORM refuses to run under one unless told it may.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"]


def pytest_collection_modifyitems(config, items):
    # The browser (and the running event loop above) lives until the session ends: run the
    # browser tests last, so no other test runs under that loop.
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole run (Debian's, not a Playwright download)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, live_server, stray_connections_closed):
    """Make a page in a fresh browser context; with a user, already signed in as them.

    Page URLs may be relative to the live server: page.goto("/claims/").
    """
    contexts = []

    def new_page(user=None, *, viewport=DESKTOP):
        context = browser.new_context(base_url=live_server.url, viewport=viewport)
        contexts.append(context)
        if user is not None:
            context.add_cookies([session_cookie(user, live_server.url)])
        return context.new_page()

    yield new_page
    for context in contexts:
        context.close()


@pytest.fixture
def screens(request) -> Screens:
    return Screens(request.node.name)


@pytest.fixture
def shoot(screens):
    """shoot(page, name): NN-<name>-1280.png and NN-<name>-390.png for this test."""
    return screens.shoot


@pytest.fixture
def check_page(screens):
    """check_page(page, name): the screenshots, then fail on serious/critical axe findings
    or sideways scrolling at either width (every problem listed, not just the first)."""
    return screens.check_page
