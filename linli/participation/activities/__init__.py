"""Activities: action days, service fairs, round tables and the rest, their dates, sign-ups
with a waitlist, check-in, service hours, stalls, minutes, feedback and photos."""
