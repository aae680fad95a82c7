"""Test data that must be valid by the rules the code checks: passwords, ID numbers."""

from datetime import date

# Every user the tests make (linli/conftest.py's make_user) signs in with this password.
PASSWORD = "correct-horse-battery-staple"

# GB 11643-1999: the weight of each of the first 17 digits, and the check character that
# the weighted sum modulo 11 selects. Written out here rather than taken from
# linli.accounts.privacy, so that the tests do not check that code against itself.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def with_check_character(first_17: str) -> str:
    """The valid resident ID number that begins with these 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first_17, _ID_WEIGHTS, strict=True))
    return first_17 + _ID_CHECK[total % 11]


def id_number(serial: int, *, born: date = date(1950, 1, 1), region: str = "110101") -> str:
    """A valid resident ID number, a different one for each serial below 1000: the region
    code, the date of birth, the serial as the three-digit sequence, the check character."""
    return with_check_character(f"{region}{born:%Y%m%d}{serial:03d}")
