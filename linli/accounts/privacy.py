"""Masking, encryption at rest and keyed hashing of personal data (DESIGN.md section 5).

ID numbers are encrypted with AES-GCM under a key from the environment, and looked up by an
HMAC-SHA256 of the normalised number, so equality search never needs decryption.
"""

import base64
import hashlib
import hmac
import os
import re
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.utils.translation import gettext_lazy

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_PATTERN = re.compile(r"^\d{17}[\dX]$")
_PHONE_PATTERN = re.compile(r"^1[3-9]\d{9}$")


@lru_cache(maxsize=4)
def _keys(secret: str) -> tuple[bytes, bytes]:
    # Two independent keys derived from the one configured secret: one encrypts, one hashes.
    master = hashlib.sha256(secret.encode()).digest()
    encryption = hmac.new(master, b"linli/id-number/encrypt", hashlib.sha256).digest()
    lookup = hmac.new(master, b"linli/id-number/lookup", hashlib.sha256).digest()
    return encryption, lookup


# Every column that holds text encrypted under the field key, as (model, field, what it
# holds): the key check, the backup manifest and restore count what a wrong key leaves
# unreadable from this list. A new encrypted column is added here.
ENCRYPTED_COLUMNS = (
    ("grids.Resident", "id_number_encrypted", gettext_lazy("residents' ID numbers")),
)


@lru_cache(maxsize=4)
def _cipher(secret: str) -> AESGCM:
    return AESGCM(_keys(secret)[0])


def _lookup_key() -> bytes:
    return _keys(settings.FIELD_ENCRYPTION_KEY)[1]


def normalise_id_number(value: str) -> str:
    return value.strip().upper().replace(" ", "")


def id_number_is_valid(value: str) -> bool:
    """GB 11643-1999 resident ID number: 17 digits and a check character."""
    if not _ID_PATTERN.match(value):
        return False
    total = sum(int(digit) * weight for digit, weight in zip(value[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == value[17]


def phone_is_valid(value: str) -> bool:
    return bool(_PHONE_PATTERN.match(value))


def mask_phone(value: str) -> str:
    if not value:
        return ""
    if len(value) < 7:
        return "*" * len(value)
    return f"{value[:3]}****{value[-4:]}"


def mask_id_number(value: str) -> str:
    if not value:
        return ""
    return f"{value[:6]}{'*' * (len(value) - 10)}{value[-4:]}"


def id_number_hash(value: str) -> str:
    return hmac.new(_lookup_key(), normalise_id_number(value).encode(), hashlib.sha256).hexdigest()


def encrypt_text(value: str) -> str:
    nonce = os.urandom(12)
    sealed = _cipher(settings.FIELD_ENCRYPTION_KEY).encrypt(nonce, value.encode(), None)
    return base64.b64encode(nonce + sealed).decode()


def decrypt_text(token: str, *, secret: str | None = None) -> str:
    """The plain text of `token`; cryptography's InvalidTag when another key sealed it.
    `secret` defaults to the configured field key (the key check tries a candidate)."""
    raw = base64.b64decode(token)
    key = settings.FIELD_ENCRYPTION_KEY if secret is None else secret
    return _cipher(key).decrypt(raw[:12], raw[12:], None).decode()


def key_fingerprint(secret: str) -> str:
    """Which key this is, safe to store and show: an HMAC of a fixed label under a key derived
    from the secret (like the encryption and look-up keys), never the key."""
    master = hashlib.sha256(secret.encode()).digest()
    return hmac.new(master, b"linli/field-key/fingerprint/v1", hashlib.sha256).hexdigest()


def id_number_fields(id_number: str) -> dict[str, str]:
    """The three stored forms of one ID number, as Resident's columns: encrypted, keyed
    hash for look-ups, and the masked form every list shows."""
    id_number = normalise_id_number(id_number)
    return {
        "id_number_encrypted": encrypt_text(id_number),
        "id_number_hash": id_number_hash(id_number),
        "id_number_masked": mask_id_number(id_number),
    }


# Numbers inside free text (descriptions, notes) typed by staff and read by partners or
# volunteers: the longest forms first, so that an ID number is never read as a phone.
_TEXT_ID18 = re.compile(r"(?<!\d)\d{17}[\dXx](?![\dXx])")
_TEXT_ID15 = re.compile(r"(?<!\d)\d{15}(?!\d)")
# A mobile number, also written in groups: 138 1234 5678, 138-1234-5678.
_TEXT_MOBILE = re.compile(r"(?<!\d)1[3-9]\d(?:[ \-]?\d){8}(?!\d)")
# A landline with its area code: 021-12345678, 0571 8765432, 02112345678.
_TEXT_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})[ \-]?(\d{7,8})(?!\d)")
# Whatever long run of digits is left (a bank card, a number in an odd format).
_TEXT_LONG_DIGITS = re.compile(r"\d{11,}")


# Said at every staff form field whose text reaches partners or volunteers (masked as above).
FREE_TEXT_WARNING = gettext_lazy(
    "Partners and volunteers will see this text: do not write names, phone numbers or ID "
    "numbers into it."
)


def _digits(text: str) -> str:
    return "".join(character for character in text if character.isdigit())


def mask_numbers_in_text(text: str) -> str:
    """`text` with every mobile number shown as 138****5678, every ID number (18 or 15
    characters) as its first 6 and last 4, every landline as 021-****5678 and any other run
    of 11 or more digits cut to its first 3 and last 4. Other text is unchanged."""
    if not text or not any(character.isdigit() for character in text):
        return text or ""
    text = _TEXT_ID18.sub(lambda match: mask_id_number(match.group()), text)
    text = _TEXT_ID15.sub(lambda match: mask_id_number(match.group()), text)
    text = _TEXT_MOBILE.sub(lambda match: mask_phone(_digits(match.group())), text)
    text = _TEXT_LANDLINE.sub(lambda match: f"{match.group(1)}-****{match.group(2)[-4:]}", text)
    return _TEXT_LONG_DIGITS.sub(lambda match: mask_phone(match.group()), text)
