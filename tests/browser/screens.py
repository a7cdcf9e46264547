"""Numbered full-page screenshots of a browser test at desktop and phone width, with checks."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.browser.a11y import accessibility_problems, overflow_problems

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
WIDTHS = (DESKTOP, PHONE)


class Screens:
    """artifacts/screenshots/<test name>/NN-<name>-<width>.png, NN counting the test's steps."""

    def __init__(self, test_name: str):
        self.directory = SCREENSHOTS / re.sub(r"[^\w.-]+", "-", test_name).strip("-")
        # Only this run's pictures: a step the test no longer takes must not linger.
        shutil.rmtree(self.directory, ignore_errors=True)
        self.count = 0

    def shoot(self, page, name: str, *, widths=WIDTHS) -> None:
        """Save full-page screenshots of the page at 1280 and 390 px wide."""
        self._at_each_width(page, name, widths, check=False)

    def check_page(self, page, name: str, *, widths=WIDTHS) -> None:
        """The screenshots, then axe-core and the overflow check at each width.

        Fails listing every problem at every width, after all the screenshots are taken.
        widths=(PHONE,) for a state that exists at one width only, like the open menu.
        """
        __tracebackhide__ = True  # the failure points at the test's line, not at this one
        problems = self._at_each_width(page, name, widths, check=True)
        if problems:
            pytest.fail("\n\n".join(problems))

    def _at_each_width(self, page, name: str, widths, *, check: bool) -> list[str]:
        self.count += 1
        self.directory.mkdir(parents=True, exist_ok=True)
        restore = page.viewport_size
        found: dict[str, list[int]] = {}  # a problem seen at both widths is told once
        try:
            for size in widths:
                page.set_viewport_size(size)
                path = self.directory / f"{self.count:02d}-{name}-{size['width']}.png"
                page.screenshot(path=str(path), full_page=True)
                if check:
                    for problem in (accessibility_problems(page), overflow_problems(page)):
                        if problem:
                            found.setdefault(problem, []).append(size["width"])
        finally:
            page.set_viewport_size(restore)
        return [
            f"[{name} at {' and '.join(map(str, at))} px] {problem}"
            for problem, at in found.items()
        ]
