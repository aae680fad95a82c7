"""How what a person types is compared with the registry: names, rooms, ID last four.

Pure functions, no database: the service (linli.registration.services) reads the rows and
asks these. People write rooms as "201", "201室", "3-201", "3号楼201", "２０１"; the register
may hold "201" or "2-201" (unit 2). Full-width characters become half-width (NFKC) first.
"""

import re
import unicodedata

# The dots of minority and foreign names, however typed: 阿卜杜·热合曼.
_NAME_DOTS = re.compile(r"[·•・･.．\u2027\u2219\u22c5]")
_SPACES = re.compile(r"\s+")
# Building and unit written out before the room: "3号楼", "3栋", "3幢", "3单元", "3座".
_PREFIX_WORDS = re.compile(r"(号楼|楼|栋|幢|座|单元)")
_SEPARATORS = re.compile(r"[-－—–_/\\#]+")
_ROOM_SUFFIX = re.compile(r"(室|号|房)$")
ID_LAST_FOUR = re.compile(r"^\d{3}[\dX]$")


def _half_width(value: str) -> str:
    return unicodedata.normalize("NFKC", value or "")


def name_key(value: str) -> str:
    """A name as compared: half-width, no spaces, one kind of dot, any case."""
    value = _SPACES.sub("", _half_width(value))
    return _NAME_DOTS.sub("·", value).casefold()


def room_key(value: str) -> str:
    """A room as compared: half-width, no spaces, "室" dropped, building and unit written
    out ("3号楼2单元201") turned into dashes ("3-2-201"), any case."""
    value = _SPACES.sub("", _half_width(value)).casefold()
    value = _ROOM_SUFFIX.sub("", value)
    value = _PREFIX_WORDS.sub("-", value)
    value = _SEPARATORS.sub("-", value).strip("-")
    return value


def _split(key: str) -> tuple[str, str]:
    prefix, _dash, tail = key.rpartition("-")
    return prefix, tail


def rooms_match(given: str, registered: str) -> bool:
    """Whether a typed room names a registered one: the same after normalising, or the same
    room number where one side leaves out the building or unit ("3-201" and "201", "201"
    and "2-201"). Two different units ("1-201", "2-201") never match."""
    given_key, registered_key = room_key(given), room_key(registered)
    if not given_key or not registered_key:
        return False
    if given_key == registered_key:
        return True
    given_prefix, given_tail = _split(given_key)
    registered_prefix, registered_tail = _split(registered_key)
    if given_tail != registered_tail:
        return False
    return not given_prefix or not registered_prefix


def id_last_four_key(value: str) -> str:
    """The last four characters of an ID number as typed: half-width, upper-case X."""
    return _SPACES.sub("", _half_width(value)).upper()


def id_last_four_matches(given: str, id_number_masked: str) -> bool:
    """The masked number keeps the last four characters (first six + last four)."""
    given = id_last_four_key(given)
    stored = (id_number_masked or "")[-4:].upper()
    return bool(ID_LAST_FOUR.match(given)) and len(stored) == 4 and given == stored


def phone_key(value: str) -> str:
    """A phone as typed: half-width digits, no spaces or dashes, no +86 in front."""
    value = re.sub(r"[\s\-]", "", _half_width(value))
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("0086"):
        value = value[4:]
    return value
