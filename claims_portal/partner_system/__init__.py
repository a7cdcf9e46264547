"""The vendor's partner system: import associations and usage, export decisions.

An app of its own (label `partner_system`) inside claims_portal, because it is the layer
that joins the others: it reads and writes customers (associations, usage snapshots),
reads partners (ids, workload codes) and claims (decided lines), and nothing imports it
back. Its own models and migrations keep the portal's base app (audit history, roles)
free of migrations that depend on every domain app.
"""
