"""The partner-system integration sits on top: the domain apps never import it."""

from __future__ import annotations

from tests.test_shape import _imports, _modules, _path


def test_no_domain_app_imports_the_partner_system():
    offending = [
        f"{module}:{lineno} imports {target}"
        for module in _modules()
        if module.split(".")[0] in ("partners", "customers", "claims", "approvals")
        for target, lineno, _ in _imports(_path(module))
        if target.startswith("claims_portal.partner_system")
    ]
    assert offending == []


def test_only_the_url_map_reaches_into_it_from_the_portal_itself():
    users = {
        module
        for module in _modules()
        if module.startswith("claims_portal")
        and not module.startswith("claims_portal.partner_system")
        for target, _, _ in _imports(_path(module))
        if target.startswith("claims_portal.partner_system")
    }
    assert users == {"claims_portal.urls"}
