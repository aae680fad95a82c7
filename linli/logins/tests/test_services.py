"""The login services: what each writes (the audit rows exactly), what each refuses, and
that a refusal writes nothing."""

from html import escape

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from linli.accounts.models import ApiToken, AuditEntry, TokenRevocation, User
from linli.accounts.roles import Role
from linli.conftest import make_user
from linli.errors import NotVisible, error_field, status_for
from linli.grids.models import GridUnit, RoleAssignment
from linli.grids.services import role_assign
from linli.logins import selectors, services
from linli.logins.models import TemporaryPassword
from linli.testing.clients import client_for, token_headers


def audit_rows(after: int = 0) -> list[tuple]:
    return [
        (
            entry.actor.username if entry.actor else None,
            entry.action,
            entry.object_type,
            entry.object_label,
            entry.field,
            entry.changes,
            entry.reason,
            entry.reason_code,
            entry.grid_path,
        )
        for entry in AuditEntry.objects.filter(pk__gt=after).order_by("pk")
    ]


def last_audit_id() -> int:
    return AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def written() -> tuple[int, int, int, int]:
    return (
        User.objects.count(),
        RoleAssignment.objects.count(),
        AuditEntry.objects.count(),
        TemporaryPassword.objects.count(),
    )


def create(world, actor=None, **changes):
    values = {
        "actor": actor or world.users[Role.SECRETARY],
        "username": "wang",
        "display_name": "王小明",
        "phone": "+86 139-0000-1111",
        "post": "micro_grid_head",
        "grid_unit": world.other_micro_grid,
    }
    values.update(changes)
    return services.login_create(**values)


# Creating ---------------------------------------------------------------------------------------


def test_create_makes_the_login_with_its_post_and_a_temporary_password(logins_world):
    after = last_audit_id()
    created = create(logins_world, ip_address="10.0.0.8")
    login = User.objects.get(username="wang")
    assert (login.display_name, login.phone, login.email, login.is_active) == (
        "王小明",
        "13900001111",
        "",
        True,
    )
    assert len(created.temporary_password) == 12
    assert login.check_password(created.temporary_password)
    assert TemporaryPassword.objects.get(user=login).issued_by == logins_world.users["secretary"]
    assert list(
        RoleAssignment.objects.filter(user=login).values_list("role", "post", "grid_path")
    ) == [("micro_grid_lead", "micro_grid_head", "/S/B/A/A2/")]
    assert audit_rows(after) == [
        (
            "secretary",
            "create",
            "user",
            "wang · 王小明",
            "",
            {"name": "王小明", "phone": "139****1111"},
            "Signs in with a temporary password, replaced at the first sign-in",
            "temporary_password",
            "/S/B/A/A2/",
        ),
        (
            "secretary",
            "role_grant",
            "role_assignment",
            "wang · micro_grid_lead · 第二微网格",
            "",
            {},
            "",
            "",
            "/S/B/A/A2/",
        ),
    ]
    assert set(AuditEntry.objects.filter(pk__gt=after).values_list("ip_address", flat=True)) == {
        "10.0.0.8"
    }
    # The new login is of the secretary's area now.
    assert selectors.login_get(user=logins_world.users["secretary"], login_id=login.pk) == login


def test_create_for_phone_codes_sets_no_password(logins_world, monkeypatch):
    monkeypatch.setattr(services, "phone_sign_in_available", lambda: True)
    created = create(logins_world, sign_in="phone_code")
    assert created.temporary_password == ""
    assert not created.login.has_usable_password()
    assert not TemporaryPassword.objects.exists()
    assert AuditEntry.objects.get(action="create", object_type="user").reason_code == "phone_code"


def test_create_for_phone_codes_is_refused_without_phone_code_sign_in(logins_world, monkeypatch):
    monkeypatch.setattr(services, "phone_sign_in_available", lambda: False)
    before = written()
    with pytest.raises(ValidationError) as refused:
        create(logins_world, sign_in="phone_code")
    assert error_field(refused.value) == "sign_in"
    assert written() == before


def test_create_with_the_phone_of_an_active_login_is_refused_at_phone(logins_world):
    User.objects.filter(username="volunteer").update(phone="13900001111")
    before = written()
    with pytest.raises(ValidationError) as refused:
        create(logins_world, phone="139 0000 1111")
    assert status_for(refused.value) == 400
    assert refused.value.message_dict == {
        "phone": ["Another active login already uses this mobile number."]
    }
    assert written() == before


def test_the_phone_of_a_deactivated_login_may_be_given_again(logins_world):
    User.objects.filter(username="volunteer").update(phone="13900001111", is_active=False)
    assert create(logins_world).login.phone == "13900001111"


def test_create_names_every_wrong_field_and_writes_nothing(logins_world):
    before = written()
    with pytest.raises(ValidationError) as refused:
        create(
            logins_world,
            username="Volunteer",  # taken, whatever the case
            display_name=" ",
            phone="12345",
            email="not-an-address",
            post="resident",
        )
    assert refused.value.message_dict == {
        "username": ["This username is taken: choose another."],
        "display_name": ["Give the name people know this person by."],
        "phone": ["Enter an 11-digit mainland mobile number, such as 13812345678."],
        "email": ["Enter a valid e-mail address, or leave it empty."],
        "post": ["Choose a post from the list."],
    }
    assert status_for(refused.value) == 400
    assert written() == before


def test_create_refuses_a_post_at_the_wrong_level(logins_world):
    before = written()
    with pytest.raises(ValidationError) as refused:
        create(logins_world, post="building_group_head", grid_unit=logins_world.community)
    assert error_field(refused.value) == "grid_unit"
    assert written() == before


def test_a_secretary_cannot_staff_another_community(logins_world):
    before = written()
    with pytest.raises(ValidationError) as refused:
        create(logins_world, post="party_secretary", grid_unit=logins_world.other_community)
    assert status_for(refused.value) == 403
    assert refused.value.messages == ["You may not assign posts in this grid."]
    assert written() == before


def test_those_who_assign_no_posts_cannot_create(logins_world):
    before = written()
    with pytest.raises(NotVisible):
        create(logins_world, actor=logins_world.users[Role.MICRO_GRID_LEAD])
    assert written() == before


def test_api_create_with_a_duplicate_phone_answers_400_naming_phone(logins_world):
    User.objects.filter(username="volunteer").update(phone="13900001111")
    before = written()
    response = client_for(logins_world.users[Role.SECRETARY], token=True).post(
        "/api/v1/logins",
        {
            "username": "wang",
            "display_name": "王小明",
            "phone": "13900001111",
            "post": "micro_grid_head",
            "grid_unit_id": logins_world.other_micro_grid.pk,
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "message": "Another active login already uses this mobile number.",
        "field": "phone",
    }
    assert written() == before


def test_web_create_with_a_duplicate_phone_shows_the_error_at_phone(logins_world):
    User.objects.filter(username="volunteer").update(phone="13900001111")
    before = written()
    response = client_for(logins_world.users[Role.SECRETARY]).post(
        reverse("logins:create"),
        {
            "username": "wang",
            "display_name": "王小明",
            "phone": "13900001111",
            "post": "micro_grid_head",
            "grid_unit": logins_world.other_micro_grid.pk,
            "sign_in": "temporary_password",
        },
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "phone": ["Another active login already uses this mobile number."]
    }
    assert written() == before


# Scope ------------------------------------------------------------------------------------------


def test_a_secretary_does_not_see_another_communitys_login(logins_world):
    secretary = logins_world.users[Role.SECRETARY]
    c_secretary = logins_world.users["c_secretary"]
    with pytest.raises(NotVisible):
        selectors.login_get(user=secretary, login_id=c_secretary.pk)
    before = written()
    for action in (services.login_deactivate, services.login_temporary_password_issue):
        with pytest.raises(NotVisible):
            action(actor=secretary, login=c_secretary)
    with pytest.raises(NotVisible):
        services.login_post_add(
            actor=secretary, login=c_secretary, post="volunteer", grid_unit=logins_world.community
        )
    assert written() == before
    assert User.objects.get(pk=c_secretary.pk).is_active


def test_a_shared_login_shows_each_secretary_their_own_post_only(logins_world):
    shared = logins_world.users["shared"]
    row = selectors.login_row(user=logins_world.users[Role.SECRETARY], login=shared)
    assert [(post.role, post.grid_unit.code) for post in row.posts] == [("micro_grid_lead", "A2")]
    assert row.posts_elsewhere == 1
    row = selectors.login_row(user=logins_world.users["c_secretary"], login=shared)
    assert [(post.role, post.grid_unit.code) for post in row.posts] == [
        ("building_group_leader", "C1-1")
    ]
    assert row.posts_elsewhere == 1
    row = selectors.login_row(user=logins_world.users[Role.STREET_ADMIN], login=shared)
    assert len(row.posts) == 2 and row.posts_elsewhere == 0


def test_a_secretary_cannot_touch_a_shared_logins_post_elsewhere(logins_world):
    secretary = logins_world.users[Role.SECRETARY]
    shared = logins_world.users["shared"]
    foreign = RoleAssignment.objects.get(user=shared, grid_path="/S/B/C/C1/C1-1/")
    before = written()
    with pytest.raises(NotVisible):
        services.login_post_remove(actor=secretary, login=shared, assignment_id=foreign.pk)
    with pytest.raises(ValidationError) as refused:
        services.login_deactivate(actor=secretary, login=shared)
    assert status_for(refused.value) == 403
    assert refused.value.messages == [
        "This login also holds a post or resident login outside your area: staff above both "
        "(the street administrator) deactivate it."
    ]
    with pytest.raises(ValidationError) as refused:
        services.login_temporary_password_issue(actor=secretary, login=shared)
    assert status_for(refused.value) == 403
    assert written() == before
    # Their own post in A社区 they may remove; the login then leaves their area.
    own = RoleAssignment.objects.get(user=shared, grid_path="/S/B/A/A2/")
    after = last_audit_id()
    services.login_post_remove(actor=secretary, login=shared, assignment_id=own.pk)
    assert audit_rows(after) == [
        (
            "secretary",
            "role_revoke",
            "role_assignment",
            "shared · micro_grid_lead · 第二微网格",
            "",
            {},
            "",
            "",
            "/S/B/A/A2/",
        )
    ]
    assert not selectors.logins_visible(user=secretary).filter(pk=shared.pk).exists()
    assert RoleAssignment.objects.filter(user=shared).count() == 1


def test_the_street_administrator_deactivates_a_shared_login(logins_world):
    street = logins_world.users[Role.STREET_ADMIN]
    after = last_audit_id()
    assert services.login_deactivate(actor=street, login=logins_world.users["shared"])
    # Filed at the widest of its posts: both are as deep; the first in path order.
    assert audit_rows(after) == [
        (
            "street_admin",
            "update",
            "user",
            "shared",
            "is_active",
            {"is_active": [True, False]},
            "",
            "deactivate",
            "/S/B/A/A2/",
        )
    ]


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("secretary", "This is your own login: another administrator changes it."),
        ("superuser", "This is a superuser's login: operators change it in the admin."),
    ],
)
def test_a_secretary_cannot_deactivate_themselves_nor_a_superuser(logins_world, target, reason):
    secretary = logins_world.users[Role.SECRETARY]
    if target == "superuser":
        login = User.objects.create_superuser(username="root", password="x" * 20)
        role_assign(user=login, role=Role.VOLUNTEER, grid_unit=logins_world.community)
    else:
        login = secretary
    before = written()
    with pytest.raises(ValidationError) as refused:
        services.login_deactivate(actor=secretary, login=login)
    assert status_for(refused.value) == 403
    assert refused.value.messages == [reason]
    assert written() == before
    response = client_for(secretary).post(reverse("logins:deactivate", args=[login.pk]))
    assert response.status_code == 403
    assert escape(reason) in response.content.decode()


# Deactivating and reactivating ------------------------------------------------------------------


def test_deactivation_revokes_tokens_and_ends_sessions(logins_world):
    volunteer = logins_world.users[Role.VOLUNTEER]
    browser = client_for(volunteer)
    assert browser.get(reverse("web:home")).status_code == 200
    other_browser = client_for(volunteer)
    app = token_headers(volunteer)
    assert Client().get("/api/v1/notifications", headers=app).status_code == 200
    token = ApiToken.objects.get(user=volunteer)
    secretary_browser = client_for(logins_world.users[Role.SECRETARY])
    # A session of someone else stays.
    assert secretary_browser.get(reverse("logins:list")).status_code == 200

    after = last_audit_id()
    with translation.override("en"):  # the requests above left the site's language on
        assert services.login_deactivate(
            actor=logins_world.users[Role.SECRETARY], login=volunteer, reason="moved away"
        )

    assert audit_rows(after) == [
        (
            "secretary",
            "update",
            "user",
            "volunteer",
            "is_active",
            {"is_active": [True, False]},
            "moved away",
            "deactivate",
            "/S/B/A/",
        ),
        (
            "secretary",
            "token_revoke",
            "api_token",
            f"volunteer · {token.key_prefix}…",
            "revoked_reason",
            {"revoked_reason": ["", "deactivated"]},
            "Account deactivated",
            "deactivated",
            "/S/B/A/",
        ),
    ]
    token.refresh_from_db()
    assert token.revoked_reason == TokenRevocation.DEACTIVATED
    # The next request of that person is anonymous, in every browser and app.
    for client in (browser, other_browser):
        response = client.get(reverse("web:home"))
        assert response.status_code == 302
        assert response.url.startswith(reverse("web:login"))
    assert Client().get("/api/v1/notifications", headers=app).status_code == 401
    assert secretary_browser.get(reverse("logins:list")).status_code == 200

    # Reactivated, they sign in again; the ended sessions and revoked token stay ended.
    after = last_audit_id()
    assert services.login_reactivate(actor=logins_world.users[Role.SECRETARY], login=volunteer)
    assert audit_rows(after) == [
        (
            "secretary",
            "update",
            "user",
            "volunteer",
            "is_active",
            {"is_active": [False, True]},
            "",
            "reactivate",
            "/S/B/A/",
        )
    ]
    assert browser.get(reverse("web:home")).status_code == 302
    assert Client().get("/api/v1/notifications", headers=app).status_code == 401
    assert client_for(volunteer).get(reverse("web:home")).status_code == 200


def test_deactivating_twice_writes_once(logins_world):
    secretary = logins_world.users[Role.SECRETARY]
    volunteer = logins_world.users[Role.VOLUNTEER]
    assert services.login_deactivate(actor=secretary, login=volunteer) is True
    before = written()
    assert services.login_deactivate(actor=secretary, login=volunteer) is False
    assert services.login_reactivate(actor=secretary, login=volunteer) is True
    assert services.login_reactivate(actor=secretary, login=volunteer) is False
    assert written()[2] == before[2] + 1


def test_a_reason_too_long_is_refused_at_reason(logins_world):
    before = written()
    with pytest.raises(ValidationError) as refused:
        services.login_deactivate(
            actor=logins_world.users[Role.SECRETARY],
            login=logins_world.users[Role.VOLUNTEER],
            reason="x" * 201,
        )
    assert error_field(refused.value) == "reason"
    assert written() == before
    assert User.objects.get(username="volunteer").is_active


# Resets -------------------------------------------------------------------------------------------


def test_a_temporary_password_replaces_the_old_one_and_signs_out_apps(logins_world):
    volunteer = logins_world.users[Role.VOLUNTEER]
    browser = client_for(volunteer)
    app = token_headers(volunteer)
    token = ApiToken.objects.get(user=volunteer)
    after = last_audit_id()
    with translation.override("en"):  # the requests above left the site's language on
        password = services.login_temporary_password_issue(
            actor=logins_world.users[Role.SECRETARY], login=volunteer
        )
    volunteer.refresh_from_db()
    assert volunteer.check_password(password)
    assert TemporaryPassword.objects.filter(user=volunteer).exists()
    assert audit_rows(after) == [
        (
            "secretary",
            "update",
            "user",
            "volunteer",
            "",
            {},
            "Gave a temporary password, to be replaced at the next sign-in",
            "temporary_password",
            "/S/B/A/",
        ),
        (
            "secretary",
            "token_revoke",
            "api_token",
            f"volunteer · {token.key_prefix}…",
            "revoked_reason",
            {"revoked_reason": ["", "password_changed"]},
            "Password changed",
            "password_changed",
            "/S/B/A/",
        ),
    ]
    assert browser.get(reverse("web:home")).status_code == 302
    assert Client().get("/api/v1/notifications", headers=app).status_code == 401


def test_the_temporary_password_is_shown_once_on_the_logins_page(logins_world):
    volunteer = logins_world.users[Role.VOLUNTEER]
    secretary = client_for(logins_world.users[Role.SECRETARY])
    response = secretary.post(
        reverse("logins:temporary_password", args=[volunteer.pk]), follow=True
    )
    shown = response.context["temporary_password"]
    assert len(shown) == 12
    assert shown in response.content.decode()
    volunteer.refresh_from_db()
    assert volunteer.check_password(shown)
    again = secretary.get(reverse("logins:detail", args=[volunteer.pk]))
    assert again.context["temporary_password"] == ""
    assert shown not in again.content.decode()


def test_a_reset_code_goes_to_the_logins_own_phone(logins_world, monkeypatch):
    sent = []
    monkeypatch.setattr(services, "phone_sign_in_available", lambda: True)
    monkeypatch.setattr(services, "reset_code_send", lambda **kwargs: sent.append(kwargs))
    volunteer = logins_world.users[Role.VOLUNTEER]
    User.objects.filter(pk=volunteer.pk).update(phone="13700002222")
    after = last_audit_id()
    response = client_for(logins_world.users[Role.SECRETARY]).post(
        reverse("logins:reset_code", args=[volunteer.pk]), REMOTE_ADDR="10.1.2.3"
    )
    assert response.status_code == 302
    assert sent == [{"phone": "13700002222", "address": "10.1.2.3"}]
    assert audit_rows(after) == [
        (
            "secretary",
            "update",
            "user",
            "volunteer",
            "",
            {},
            "Sent a password reset code to 137****2222",
            "reset_code",
            "/S/B/A/",
        )
    ]


def test_a_reset_code_needs_phone_code_sign_in_and_a_phone(logins_world, monkeypatch):
    volunteer = logins_world.users[Role.VOLUNTEER]
    secretary = logins_world.users[Role.SECRETARY]
    before = written()
    monkeypatch.setattr(services, "phone_sign_in_available", lambda: False)
    with pytest.raises(ValidationError) as refused:
        services.login_reset_code_send(actor=secretary, login=volunteer)
    assert status_for(refused.value) == 403
    monkeypatch.setattr(services, "phone_sign_in_available", lambda: True)
    with pytest.raises(ValidationError) as refused:
        services.login_reset_code_send(actor=secretary, login=volunteer)
    assert refused.value.message_dict == {
        "phone": ["This login has no mobile number to send a code to."]
    }
    assert written() == before


def test_the_street_administrator_resets_a_lost_phones_two_factor(logins_world):
    lead = logins_world.users[Role.MICRO_GRID_LEAD]
    TOTPDevice.objects.create(user=lead, name="authenticator", confirmed=True)
    StaticDevice.objects.create(user=lead, name="recovery codes", confirmed=True)
    browser = client_for(lead)
    app = token_headers(lead)
    token = ApiToken.objects.get(user=lead)
    after = last_audit_id()
    with translation.override("en"):  # the requests above left the site's language on
        assert services.login_two_factor_reset(
            actor=logins_world.users[Role.STREET_ADMIN], login=lead, reason="lost phone"
        )
    assert not TOTPDevice.objects.filter(user=lead).exists()
    assert not StaticDevice.objects.filter(user=lead).exists()
    assert audit_rows(after) == [
        (
            "street_admin",
            "two_factor",
            "user",
            "micro_grid_lead",
            "",
            {},
            "Two-factor sign-in reset by an administrator: lost phone",
            "",
            "/S/B/A/A1/",
        ),
        (
            "street_admin",
            "token_revoke",
            "api_token",
            f"micro_grid_lead · {token.key_prefix}…",
            "revoked_reason",
            {"revoked_reason": ["", "by_administrator"]},
            "Revoked by an administrator",
            "by_administrator",
            "/S/B/A/A1/",
        ),
    ]
    assert browser.get(reverse("web:home")).status_code == 302
    assert Client().get("/api/v1/notifications", headers=app).status_code == 401
    # Nothing left to reset: nothing written.
    before = written()
    assert not services.login_two_factor_reset(
        actor=logins_world.users[Role.STREET_ADMIN], login=lead, reason="again"
    )
    assert written() == before


def test_a_secretary_may_not_reset_two_factor(logins_world):
    lead = logins_world.users[Role.MICRO_GRID_LEAD]
    TOTPDevice.objects.create(user=lead, name="authenticator", confirmed=True)
    before = written()
    with pytest.raises(ValidationError) as refused:
        services.login_two_factor_reset(
            actor=logins_world.users[Role.SECRETARY], login=lead, reason="lost phone"
        )
    assert status_for(refused.value) == 403
    assert refused.value.messages == [
        "Only the street administrator resets two-factor sign-in: ask them to do it."
    ]
    assert written() == before
    assert TOTPDevice.objects.filter(user=lead).exists()


def test_a_two_factor_reset_needs_a_reason(logins_world):
    lead = logins_world.users[Role.MICRO_GRID_LEAD]
    TOTPDevice.objects.create(user=lead, name="authenticator", confirmed=True)
    response = client_for(logins_world.users[Role.STREET_ADMIN]).post(
        reverse("logins:two_factor_reset", args=[lead.pk]), {"reason": ""}
    )
    assert response.status_code == 400
    assert response.context["two_factor_form"].errors == {"reason": ["Say why, for the audit log."]}
    assert TOTPDevice.objects.filter(user=lead).exists()


# Posts --------------------------------------------------------------------------------------------


def test_a_post_given_twice_is_kept_once(logins_world):
    secretary = logins_world.users[Role.SECRETARY]
    volunteer = logins_world.users[Role.VOLUNTEER]
    after = last_audit_id()
    first = services.login_post_add(
        actor=secretary,
        login=volunteer,
        post="building_group_head",
        grid_unit=logins_world.other_building_group,
    )
    second = services.login_post_add(
        actor=secretary,
        login=volunteer,
        post="building_group_head",
        grid_unit=logins_world.other_building_group,
    )
    assert first.pk == second.pk
    assert audit_rows(after) == [
        (
            "secretary",
            "role_grant",
            "role_assignment",
            "volunteer · building_group_leader · 2号楼组",
            "",
            {},
            "",
            "",
            "/S/B/A/A2/A2-1/",
        )
    ]


def test_a_post_outside_the_area_is_refused(logins_world):
    before = written()
    with pytest.raises(ValidationError) as refused:
        services.login_post_add(
            actor=logins_world.users[Role.SECRETARY],
            login=logins_world.users[Role.VOLUNTEER],
            post="building_group_head",
            grid_unit=GridUnit.objects.get(code="C1-1"),
        )
    assert status_for(refused.value) == 403
    assert written() == before
    # On the page, a unit outside the area is not among the choices.
    response = client_for(logins_world.users[Role.SECRETARY]).post(
        reverse("logins:post_add", args=[logins_world.users[Role.VOLUNTEER].pk]),
        {"post": "building_group_head", "grid_unit": GridUnit.objects.get(code="C1-1").pk},
    )
    assert response.status_code == 400
    assert response.context["post_form"].errors == {"grid_unit": ["Choose where the post is held."]}
    assert written() == before


def test_nobody_removes_their_own_post_here(logins_world):
    secretary = logins_world.users[Role.SECRETARY]
    own = RoleAssignment.objects.get(user=secretary)
    before = written()
    with pytest.raises(ValidationError) as refused:
        services.login_post_remove(actor=secretary, login=secretary, assignment_id=own.pk)
    assert status_for(refused.value) == 403
    assert written() == before


def test_sessions_end_for_that_person_only(logins_world):
    volunteer = logins_world.users[Role.VOLUNTEER]
    mine, theirs = client_for(volunteer), client_for(logins_world.users[Role.RESIDENT])
    assert services.sessions_end_for_user(user=volunteer) == 1
    assert mine.get(reverse("web:home")).status_code == 302
    assert theirs.get(reverse("web:home")).status_code == 200


def test_a_login_with_a_resident_link_shows_the_resident_to_whoever_may_see_them(logins_world):
    resident_login = logins_world.users[Role.RESIDENT]
    resident, visible = selectors.login_resident(
        user=logins_world.users[Role.SECRETARY], login=resident_login
    )
    assert (resident.name, visible) == ("张桂英", True)
    page = client_for(logins_world.users[Role.SECRETARY]).get(
        reverse("logins:detail", args=[resident_login.pk])
    )
    assert reverse("grids:resident_detail", args=[resident.pk]) in page.content.decode()


def test_the_logins_page_lists_the_audit_entries_about_it(logins_world):
    volunteer = logins_world.users[Role.VOLUNTEER]
    secretary = logins_world.users[Role.SECRETARY]
    services.login_deactivate(actor=secretary, login=volunteer, reason="moved away")
    services.login_post_add(
        actor=secretary, login=volunteer, post="volunteer", grid_unit=logins_world.micro_grid
    )
    other = make_user("volunteer2")
    services.login_post_add(
        actor=logins_world.users[Role.STREET_ADMIN],
        login=volunteer,
        post="volunteer",
        grid_unit=logins_world.other_micro_grid,
    )
    role_assign(user=other, role=Role.VOLUNTEER, grid_unit=logins_world.community)
    services.login_post_add(
        actor=secretary, login=other, post="volunteer", grid_unit=logins_world.micro_grid
    )
    entries = selectors.login_audit_entries(user=secretary, login=volunteer)
    assert [(entry.action, entry.object_type) for entry in entries] == [
        ("role_grant", "role_assignment"),
        ("role_grant", "role_assignment"),
        ("update", "user"),
    ]


def test_a_reset_code_is_asked_of_phone_code_sign_in(logins_world):
    signin_models = pytest.importorskip("linli.signin.models")
    volunteer = logins_world.users[Role.VOLUNTEER]
    User.objects.filter(pk=volunteer.pk).update(phone="13700002222")
    volunteer.refresh_from_db()
    services.login_reset_code_send(
        actor=logins_world.users[Role.SECRETARY], login=volunteer, ip_address="10.1.2.3"
    )
    codes = signin_models.PhoneCode.objects.filter(purpose="reset")
    assert list(codes.values_list("address", flat=True)) == ["10.1.2.3"]
