"""Volunteer pages (a package, so each area can grow its own module)."""
