"""Page checks for browser tests: axe-core's WCAG 2 A/AA rules, and no sideways scrolling."""

from __future__ import annotations

from pathlib import Path

VENDOR = Path(__file__).resolve().parent / "vendor"
AXE_VERSION = (VENDOR / "VERSION").read_text().strip()
# WCAG 2.0, 2.1 and 2.2 at levels A and AA; axe's best-practice rules are left out.
WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa")
# Moderate and minor findings are worth reading in the report but do not fail a test.
FAILING_IMPACTS = ("serious", "critical")

_axe_source: str | None = None


def _inject_axe(page) -> None:
    global _axe_source
    if page.evaluate("() => typeof window.axe === 'object'"):
        return
    if _axe_source is None:
        _axe_source = (VENDOR / "axe.min.js").read_text()
    # Evaluated through the DevTools protocol rather than a <script> tag, so a
    # Content-Security-Policy on the page cannot block it.
    page.evaluate(_axe_source)
    version = page.evaluate("() => window.axe.version")
    assert version == AXE_VERSION, f"vendor/axe.min.js is {version}, vendor/VERSION {AXE_VERSION}"


def axe_violations(page, *, tags=WCAG_TAGS) -> list[dict]:
    """Every violation axe-core finds on the page as it is now (all impacts)."""
    _inject_axe(page)
    return page.evaluate(
        """async (tags) => {
            const results = await window.axe.run(document, {
                runOnly: {type: 'tag', values: tags},
                resultTypes: ['violations'],
            });
            return results.violations.map(v => ({
                id: v.id,
                impact: v.impact,
                help: v.help,
                helpUrl: v.helpUrl,
                nodes: v.nodes.map(n => ({
                    target: n.target.map(t => Array.isArray(t) ? t.join(' >>> ') : t),
                    html: n.html,
                    summary: n.failureSummary,
                })),
            }));
        }""",
        list(tags),
    )


def format_violations(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']}  <{v['helpUrl']}>")
        for node in v["nodes"]:
            lines.append(f"    at {', '.join(node['target'])}")
            lines.append(f"       {node['html'][:160]}")
            for line in (node["summary"] or "").splitlines():
                if line.strip():
                    lines.append(f"       {line.strip()}")
    return "\n".join(lines)


def accessibility_problems(page, *, impacts=FAILING_IMPACTS) -> str | None:
    """A readable list of axe violations with one of these impacts, or None."""
    failing = [v for v in axe_violations(page) if v["impact"] in impacts]
    if not failing:
        return None
    return (
        f"axe-core {AXE_VERSION} found {len(failing)} serious or critical WCAG A/AA "
        f"violation(s) on {page.url}:\n{format_violations(failing)}"
    )


def assert_accessible(page, *, impacts=FAILING_IMPACTS) -> None:
    """Fail when axe-core finds a serious or critical WCAG 2 A/AA violation on the page."""
    problem = accessibility_problems(page, impacts=impacts)
    assert problem is None, problem


def overflow_problems(page) -> str | None:
    """Say which elements stick out when the page is wider than the viewport, or None."""
    report = page.evaluate(
        """() => {
            const width = document.documentElement.clientWidth;
            const scrollWidth = document.documentElement.scrollWidth;
            if (scrollWidth <= width) return null;
            // Inside a scrolling or clipping box (.table-responsive) an element may be wider.
            const clipped = el => {
                for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
                    if (getComputedStyle(p).overflowX !== 'visible') return true;
                }
                return false;
            };
            // The outermost elements reaching past the right edge, not each of their children.
            const culprits = [];
            for (const el of document.body.querySelectorAll('*')) {
                const rect = el.getBoundingClientRect();
                if (rect.right <= width + 0.5 || rect.width === 0) continue;
                if (culprits.some(c => c.contains(el)) || clipped(el)) continue;
                culprits.push(el);
            }
            const describe = el => {
                let s = el.tagName.toLowerCase();
                if (el.id) s += '#' + el.id;
                if (el.classList.length) s += '.' + [...el.classList].join('.');
                return s;
            };
            return {
                width, scrollWidth,
                culprits: culprits.slice(0, 10).map(el => ({
                    element: describe(el),
                    right: Math.round(el.getBoundingClientRect().right),
                    text: (el.innerText || '').trim().slice(0, 60),
                })),
            };
        }"""
    )
    if report is None:
        return None
    lines = [
        f"{page.url} scrolls sideways at {report['width']} px: it is "
        f"{report['scrollWidth']} px wide. Elements reaching past the right edge:"
    ]
    for c in report["culprits"]:
        lines.append(f"  {c['element']} (right edge at {c['right']} px) {c['text']!r}")
    return "\n".join(lines)


def assert_fits_width(page) -> None:
    """Fail when the page is wider than the viewport, so it would scroll sideways."""
    problem = overflow_problems(page)
    assert problem is None, problem
