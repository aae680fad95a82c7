"""The field key against the database: its fingerprint is recorded at migrate, a key that
cannot read the stored ID numbers stops every command that serves, and a key generated on a
database that already holds ID numbers does not stay behind."""

from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.utils import translation

from linli.accounts.fieldkey import field_key_state, field_key_verify
from linli.accounts.models import FieldKeyFingerprint
from linli.accounts.privacy import id_number_fields, key_fingerprint
from linli.env import GENERATED_SECRET_FILES, secret_from_env_or_file
from linli.grids.models import Resident

pytestmark = pytest.mark.usefixtures("english")


def recorded() -> str:
    return FieldKeyFingerprint.objects.get().fingerprint


def test_the_fingerprint_is_of_the_key_never_the_key():
    fingerprint = key_fingerprint("the secret field key")
    assert fingerprint == key_fingerprint("the secret field key")
    assert fingerprint != key_fingerprint("another secret field key")
    assert len(fingerprint) == 64 and "secret" not in fingerprint


def test_migrate_records_the_fingerprint_of_the_configured_key(db, settings):
    assert recorded() == key_fingerprint(settings.FIELD_ENCRYPTION_KEY)
    assert FieldKeyFingerprint.objects.count() == 1


def test_the_right_key_passes(world):
    assert field_key_verify() is None
    call_command("check")  # the registered system check agrees


def test_a_key_that_cannot_read_the_stored_id_numbers_stops_the_platform(world, settings):
    right = recorded()
    settings.FIELD_ENCRYPTION_KEY = "a key from somewhere else"
    problem = field_key_verify()
    assert "4 residents' ID numbers (table grids_resident)" in problem
    assert right[:16] in problem
    assert key_fingerprint("a key from somewhere else")[:16] in problem
    assert "LINLI_FIELD_KEY" in problem and "--with-key" in problem
    with pytest.raises(SystemCheckError, match="accounts.E001"):
        call_command("check")
    # Refusing changes nothing: the fingerprint still names the key the data needs.
    assert recorded() == right


def test_without_id_numbers_any_key_will_do_and_becomes_the_recorded_one(db, settings):
    settings.FIELD_ENCRYPTION_KEY = "a brand new key"
    assert field_key_verify() is None
    assert recorded() == key_fingerprint("a brand new key")


def test_a_stale_fingerprint_is_corrected_when_the_key_reads_every_sampled_number(world):
    FieldKeyFingerprint.objects.update(fingerprint="0" * 64)
    state = field_key_state(exact_counts=True)
    assert state.stored == "0" * 64 and state.readable and state.total == 4
    assert field_key_verify() is None
    assert recorded() == state.current


def test_numbers_under_two_keys_are_not_taken_for_readable(world, settings):
    # A resident stored under another key (what a lost key and a re-import used to make):
    # the newest rows are sampled too, so the mix is found.
    FieldKeyFingerprint.objects.all().delete()
    original = settings.FIELD_ENCRYPTION_KEY
    settings.FIELD_ENCRYPTION_KEY = "the key of the bad week"
    Resident.objects.filter(pk=world.other_community_resident.pk).update(
        **id_number_fields("110101199003070150")
    )
    settings.FIELD_ENCRYPTION_KEY = original
    state = field_key_state()
    assert state.stored is None and state.present
    assert state.readable is False and state.total == 4  # counted for the message
    assert field_key_verify() is not None


def test_a_key_generated_just_now_on_a_database_with_id_numbers_is_removed_again(
    world, settings, tmp_path, monkeypatch
):
    monkeypatch.delenv("LINLI_FIELD_KEY", raising=False)
    key_file = tmp_path / "field_key"
    settings.FIELD_KEY_FILE = key_file
    settings.FIELD_ENCRYPTION_KEY = secret_from_env_or_file(
        "LINLI_FIELD_KEY", key_file, record_generated=True
    )
    assert key_file in GENERATED_SECRET_FILES
    assert (tmp_path / "field_key.generated").exists()
    with translation.override("en"):
        problem = field_key_verify()
    assert "this server's key (generated just now, as none was configured) has" in problem
    assert "generated just now was removed again" in problem
    assert not key_file.exists()
    assert not (tmp_path / "field_key.generated").exists()
    assert key_file not in GENERATED_SECRET_FILES


def test_a_key_file_that_was_there_before_is_never_removed(world, settings, tmp_path, monkeypatch):
    monkeypatch.delenv("LINLI_FIELD_KEY", raising=False)
    key_file = tmp_path / "field_key"
    key_file.write_text("an old key somebody put here")
    settings.FIELD_KEY_FILE = key_file
    settings.FIELD_ENCRYPTION_KEY = secret_from_env_or_file("LINLI_FIELD_KEY", key_file)
    assert field_key_verify() is not None
    assert key_file.read_text() == "an old key somebody put here"


def test_on_an_empty_database_a_generated_key_stays_and_is_recorded(
    db, settings, tmp_path, monkeypatch
):
    monkeypatch.delenv("LINLI_FIELD_KEY", raising=False)
    key_file = tmp_path / "field_key"
    settings.FIELD_KEY_FILE = key_file
    settings.FIELD_ENCRYPTION_KEY = secret_from_env_or_file("LINLI_FIELD_KEY", key_file)
    assert field_key_verify() is None
    assert key_file.read_text() == settings.FIELD_ENCRYPTION_KEY
    assert recorded() == key_fingerprint(settings.FIELD_ENCRYPTION_KEY)
    GENERATED_SECRET_FILES.discard(key_file)


def test_a_generated_secret_file_is_private_and_a_second_process_reads_the_first_ones(tmp_path):
    path = tmp_path / "var" / "secret"
    first = secret_from_env_or_file("LINLI_TEST_UNSET_SECRET", path)
    assert Path(path).stat().st_mode & 0o777 == 0o600
    assert secret_from_env_or_file("LINLI_TEST_UNSET_SECRET", path) == first
    assert [p.name for p in path.parent.iterdir()] == ["secret"]  # no temporary left
    GENERATED_SECRET_FILES.discard(path)
