"""A temporary password forces its own replacement: from the secretary's form to the new
person's first page, on the web and the API (linli.logins.middleware)."""

from datetime import timedelta

import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import translation

from linli import clock
from linli.accounts.models import ApiToken, AuditEntry, TokenRevocation, User
from linli.accounts.roles import Role
from linli.logins.models import TemporaryPassword
from linli.logins.services import login_create
from linli.testing.clients import client_for

NEW_PASSWORD = "a-long-enough-passphrase-42"


def sign_in(username: str, password: str) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    response = client.post(reverse("web:login"), {"username": username, "password": password})
    assert response.status_code == 302, response.content
    return client


def made_by_the_secretary(world, secretary: Client | None = None) -> tuple[User, str]:
    secretary = secretary or client_for(world.users[Role.SECRETARY])
    response = secretary.post(
        reverse("logins:create"),
        {
            "username": "wang",
            "display_name": "王小明",
            "phone": "13900001111",
            "post": "building_group_head",
            "grid_unit": world.other_building_group.pk,
            "sign_in": "temporary_password",
        },
        follow=True,
    )
    assert response.status_code == 200
    password = response.context["temporary_password"]
    assert password and password in response.content.decode()
    return User.objects.get(username="wang"), password


def test_the_new_person_sets_their_own_password_before_anything_else(logins_world):
    login, password = made_by_the_secretary(logins_world)
    browser = sign_in("wang", password)

    response = browser.get(reverse("web:home"))
    assert response.status_code == 302
    assert response.url == reverse("logins:password") + "?next=%2F"
    # Any page, and the API through the session, until the password is theirs.
    assert browser.get(reverse("grids:grid_tree")).url.startswith(reverse("logins:password"))
    api = browser.get("/api/v1/notifications")
    assert api.status_code == 403
    assert api.json()["field"] == "password"
    # An app's token is no way around it.
    token = Client().post(
        "/api/v1/auth/token",
        {"username": "wang", "password": password},
        content_type="application/json",
    )
    assert token.status_code == 200
    headers = {"Authorization": f"Bearer {token.json()['token']}"}
    assert Client().get("/api/v1/notifications", headers=headers).status_code == 403
    # Signing out stays open.
    assert browser.get(reverse("logins:password")).status_code == 200

    weak = browser.post(
        reverse("logins:password"),
        {"new_password1": "123", "new_password2": "123", "next": "/"},
    )
    assert weak.status_code == 400
    assert weak.context["form"].errors["new_password2"]
    assert TemporaryPassword.objects.filter(user=login).exists()

    after = AuditEntry.objects.order_by("-pk").first().pk
    with translation.override("en"):
        done = browser.post(
            reverse("logins:password"),
            {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD, "next": "/"},
        )
    assert done.status_code == 302
    assert done.url == "/"
    assert not TemporaryPassword.objects.filter(user=login).exists()
    login.refresh_from_db()
    assert login.check_password(NEW_PASSWORD)
    # The same browser goes on, signed in.
    assert browser.get(reverse("web:home")).status_code == 200
    assert browser.get("/api/v1/notifications").status_code == 200
    # The app signed in with the temporary password is signed out.
    assert ApiToken.objects.get(user=login).revoked_reason == TokenRevocation.PASSWORD_CHANGED
    assert Client().get("/api/v1/notifications", headers=headers).status_code == 401
    assert [
        (entry.actor.username, entry.action, entry.object_type, entry.reason, entry.reason_code)
        for entry in AuditEntry.objects.filter(pk__gt=after, object_type="user").order_by("pk")
    ] == [
        (
            "wang",
            "update",
            "user",
            "Replaced the temporary password with their own",
            "password_set",
        )
    ]
    # The page has nothing more to ask.
    assert browser.get(reverse("logins:password")).status_code == 302


def test_an_unused_temporary_password_expires_after_seven_days(logins_world):
    login, password = made_by_the_secretary(logins_world)
    with time_machine.travel(clock.now() + timedelta(days=7, minutes=1), tick=False):
        browser = sign_in("wang", password)
        response = browser.get(reverse("web:home"), follow=True)
        assert response.status_code == 403
        assert "no longer works" in response.content.decode()
        # Signed out: the next page asks to log in.
        assert browser.get(reverse("web:home")).url.startswith(reverse("web:login"))
    assert TemporaryPassword.objects.filter(user=login).exists()


def test_the_temporary_password_is_shown_to_the_secretary_once(logins_world):
    secretary = client_for(logins_world.users[Role.SECRETARY])
    login, password = made_by_the_secretary(logins_world, secretary)
    page = secretary.get(reverse("logins:detail", args=[login.pk]))
    assert password not in page.content.decode()
    assert page.context["temporary_password_pending"] is True


def test_someone_without_a_temporary_password_is_not_stopped(logins_world):
    browser = client_for(logins_world.users[Role.VOLUNTEER])
    assert browser.get(reverse("web:home")).status_code == 200
    response = browser.get(reverse("logins:password") + "?next=/activities/")
    assert response.status_code == 302
    assert response.url == "/activities/"


def test_a_password_set_any_other_way_ends_the_temporary_one(logins_world):
    login, password = made_by_the_secretary(logins_world)
    # As a reset by phone code or an operator in the admin would.
    login.set_password(NEW_PASSWORD)
    login.save()
    assert not TemporaryPassword.objects.filter(user=login).exists()
    assert sign_in("wang", NEW_PASSWORD).get(reverse("web:home")).status_code == 200


def test_staff_owing_a_second_factor_set_it_up_first_then_their_password(logins_world, settings):
    settings.LINLI_STAFF_TWO_FACTOR = True
    secretary = logins_world.users[Role.SECRETARY]
    created = login_create(
        actor=secretary,
        username="lead2",
        display_name="李组长",
        phone="13900002222",
        post="micro_grid_head",
        grid_unit=logins_world.other_micro_grid,
    )
    browser = sign_in("lead2", created.temporary_password)
    home = browser.get(reverse("web:home"))
    assert home.url.startswith(reverse("two_factor:enrol"))
    # The two-factor pages stay open to them; the password page waits its turn.
    assert browser.get(reverse("two_factor:enrol")).status_code == 200
    assert browser.get(reverse("logins:password")).url.startswith(reverse("two_factor:enrol"))
