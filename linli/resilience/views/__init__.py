"""Web pages of resilience measurement, one module per area."""
