"""The small checks every partners write shares: a permission on a grid path, and a
quantity given as a whole number.
"""

from django.utils.translation import gettext as _

from linli.grids.selectors import scope_for


def path_has(actor, permission: str, grid_path: str) -> bool:
    """Does one of the actor's posts grant `permission` on `grid_path`?"""
    return scope_for(actor).allows(permission, grid_path)


def check_quantity(value, errors: dict, field: str = "quantity") -> int:
    """The quantity as a whole number from 1 to 100,000; a fault goes into `errors[field]`."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        errors[field] = _("Give a whole number of at least 1.")
        return 0
    if number < 1:
        errors[field] = _("Give a whole number of at least 1.")
    elif number > 100_000:
        errors[field] = _("The quantity is limited to 100,000.")
    return number
