"""Web pages of partners and the three lists, one module per area: `lists` (the provider's
phone page, needs, claims, resources, projects) and `units` (the partner registry and the
community resources page with redundancy)."""
