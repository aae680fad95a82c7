"""Deliberation (议事厅): topics, rounds of opinions, supports, the resolution and its
implementation board."""
