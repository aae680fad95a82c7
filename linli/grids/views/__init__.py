"""Web pages of the grid and registry, one module per area: `registry` (grid tree,
buildings, households, residents, visits, audit) and `transfer` (import and export)."""
