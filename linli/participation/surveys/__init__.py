"""Resident surveys: Likert instruments, one anonymous response per resident, and results
by unit with Cronbach's alpha."""
