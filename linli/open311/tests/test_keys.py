"""Open311 keys: issued and revoked by the secretary on the web and by the operator at the
command line, audited, scoped; and who may see an Open311 submitter."""

import io

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.template import Context, Template
from django.test import Client
from django.urls import reverse

from linli.accounts.models import ApiToken, AuditEntry
from linli.accounts.roles import Role
from linli.cases.models import Case
from linli.conftest import make_user
from linli.grids.services import role_assign
from linli.open311.models import Open311Key
from linli.open311.services import open311_key_create, open311_key_revoke
from linli.open311.tests.conftest import BASE, parse_json
from linli.testing.clients import client_for


@pytest.fixture
def other_secretary(world):
    user = make_user("secretary_c")
    role_assign(
        user=user, role=Role.SECRETARY, grid_unit=world.other_community, post="party_secretary"
    )
    return user


def file_with(secret: str, **params):
    return Client(HTTP_ACCEPT_LANGUAGE="en").post(
        f"{BASE}requests.json",
        {
            "api_key": secret,
            "service_code": "SAF-01",
            "address_string": "1号楼",
            "description": "楼道堆物",
            **params,
        },
    )


# Services ----------------------------------------------------------------------------------


def test_a_key_is_stored_only_as_its_hash_and_its_issue_audited(world):
    secretary = world.users[Role.SECRETARY]
    key, secret = open311_key_create(actor=secretary, community=world.community, name=" App ")
    assert (key.name, key.community, key.grid_path, key.created_by) == (
        "App",
        world.community,
        world.community.path,
        secretary,
    )
    assert secret.startswith(key.prefix) and len(key.prefix) == 8 and len(secret) > 40
    assert key.key_hash == ApiToken.hash_key(secret)
    assert secret not in str(Open311Key.objects.filter(pk=key.pk).values().get())
    entry = AuditEntry.objects.get(object_type="open311_key")
    assert (entry.actor, entry.action, entry.object_type, entry.object_id, entry.grid_path) == (
        secretary,
        "create",
        "open311_key",
        str(key.pk),
        world.community.path,
    )
    assert entry.changes == {"name": "App", "community": "A", "prefix": key.prefix}


@pytest.mark.parametrize(
    ("role", "unit", "name", "expected"),
    [
        (Role.SECRETARY, "community", "", {"name"}),
        (Role.SECRETARY, "micro_grid", "App", {"community"}),
        (Role.SECRETARY, "other_community", "App", "permission_denied"),
        (Role.MICRO_GRID_LEAD, "community", "App", "permission_denied"),
        (Role.RESIDENT, "community", "App", "permission_denied"),
    ],
)
def test_refused_key_issue_writes_nothing(world, role, unit, name, expected):
    with pytest.raises(ValidationError) as error:
        open311_key_create(actor=world.users[role], community=getattr(world, unit), name=name)
    if isinstance(expected, set):
        assert set(error.value.message_dict) == expected
    else:
        assert error.value.code == expected
    assert Open311Key.objects.count() == 0
    assert AuditEntry.objects.filter(object_type="open311_key").count() == 0


def test_revoking_twice_is_refused(world, issued):
    secretary = world.users[Role.SECRETARY]
    open311_key_revoke(actor=secretary, key=issued.key)
    with pytest.raises(ValidationError) as error:
        open311_key_revoke(actor=secretary, key=issued.key)
    assert error.value.code == "already_revoked"
    assert AuditEntry.objects.filter(field="revoked_at").count() == 1


# Pages -------------------------------------------------------------------------------------


def test_secretary_issues_a_key_and_sees_the_secret_once(world):
    client = client_for(world.users[Role.SECRETARY])
    page = client.get(reverse("open311:key_new"))
    assert page.status_code == 200
    # Their one community is chosen already.
    assert f'<option value="{world.community.pk}" selected>' in page.content.decode()
    response = client.post(
        reverse("open311:key_new"), {"name": "FixMyStreet", "community": world.community.pk}
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    secret = response.context["secret"]
    key = Open311Key.objects.get()
    assert (key.name, key.community, key.key_hash) == (
        "FixMyStreet",
        world.community,
        ApiToken.hash_key(secret),
    )
    assert secret in response.content.decode()
    listing = client.get(reverse("open311:keys")).content.decode()
    assert "FixMyStreet" in listing and key.prefix in listing and secret not in listing
    # The key works.
    assert file_with(secret).status_code == 200


def test_issue_form_shows_the_error_and_writes_nothing(world):
    client = client_for(world.users[Role.SECRETARY])
    response = client.post(
        reverse("open311:key_new"), {"name": " ", "community": world.community.pk}
    )
    assert response.status_code == 200
    assert response.context["errors"] == {
        "name": ["Give the key a name (the client that will use it)."]
    }
    assert Open311Key.objects.count() == 0


def test_secretary_revokes_after_confirming_and_the_key_is_refused(world, issued):
    client = client_for(world.users[Role.SECRETARY])
    url = reverse("open311:key_revoke", args=[issued.key.pk])
    confirm = client.get(url)
    assert confirm.status_code == 200
    assert 'data-testid="confirm-revoke"' in confirm.content.decode()
    issued.key.refresh_from_db()
    assert issued.key.revoked_at is None
    response = client.post(url)
    assert response.status_code == 302 and response["Location"] == reverse("open311:keys")
    assert [str(m) for m in get_messages(response.wsgi_request)] == [f"Key {issued.key} revoked."]
    issued.key.refresh_from_db()
    assert issued.key.revoked_at is not None
    entry = AuditEntry.objects.get(field="revoked_at")
    assert (entry.actor, entry.action, entry.object_id) == (
        world.users[Role.SECRETARY],
        "update",
        str(issued.key.pk),
    )
    refused = file_with(issued.secret)
    assert refused.status_code == 403
    assert parse_json(refused) == [
        {"code": 403, "description": "api_key: This api_key has been revoked."}
    ]
    assert Case.objects.count() == 0


def test_street_admin_sees_the_keys_of_every_community(world, issued, other_secretary):
    other, _secret = open311_key_create(
        actor=other_secretary, community=world.other_community, name="C app"
    )
    street = client_for(world.users[Role.STREET_ADMIN])
    assert list(street.get(reverse("open311:keys")).context["keys"]) == [other, issued.key]
    mine = client_for(other_secretary)
    assert list(mine.get(reverse("open311:keys")).context["keys"]) == [other]


@pytest.mark.parametrize(
    "who",
    [
        "other_secretary",
        Role.MICRO_GRID_LEAD,
        Role.BUILDING_GROUP_LEADER,
        Role.VOLUNTEER,
        Role.RESIDENT,
    ],
)
def test_key_pages_refuse_everyone_else_and_change_nothing(world, issued, other_secretary, who):
    user = other_secretary if who == "other_secretary" else world.users[who]
    client = client_for(user)
    audit_before = AuditEntry.objects.count()
    revoke = reverse("open311:key_revoke", args=[issued.key.pk])
    assert client.get(revoke).status_code == 404
    assert client.post(revoke).status_code == 404
    if who == "other_secretary":
        # They manage keys, but only for their own community.
        assert list(client.get(reverse("open311:keys")).context["keys"]) == []
        response = client.post(
            reverse("open311:key_new"), {"name": "Sneaky", "community": world.community.pk}
        )
        assert response.context["errors"] == {"community": ["Choose a community."]}
    else:
        assert client.get(reverse("open311:keys")).status_code == 404
        assert client.get(reverse("open311:key_new")).status_code == 404
        response = client.post(
            reverse("open311:key_new"), {"name": "Sneaky", "community": world.community.pk}
        )
        assert response.status_code == 404
    issued.key.refresh_from_db()
    assert issued.key.revoked_at is None
    assert list(Open311Key.objects.all()) == [issued.key]
    assert AuditEntry.objects.count() == audit_before


def test_anonymous_is_sent_to_log_in(db):
    response = Client().get(reverse("open311:keys"))
    assert response.status_code == 302


# Command -----------------------------------------------------------------------------------


def test_command_prints_a_working_key_and_lists_and_revokes_it(world):
    out = io.StringIO()
    call_command("open311-key", "create", "Hotline bridge", "--community", "A", stdout=out)
    secret = out.getvalue().strip().splitlines()[-1]
    key = Open311Key.objects.get()
    assert (key.name, key.community, key.created_by) == ("Hotline bridge", world.community, None)
    assert key.key_hash == ApiToken.hash_key(secret)
    assert AuditEntry.objects.filter(object_type="open311_key").count() == 1
    assert file_with(secret).status_code == 200
    listing = io.StringIO()
    call_command("open311-key", "list", stdout=listing)
    assert listing.getvalue().startswith(f"{key.prefix}\tA\tactive\tlast used ")
    assert listing.getvalue().rstrip().endswith("\tHotline bridge")
    call_command("open311-key", "revoke", key.prefix, stdout=io.StringIO())
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert file_with(secret).status_code == 403


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create", "App", "--community", "A1"], "no community with code 'A1'"),
        (["create", " ", "--community", "A"], "Give the key a name"),
        (["revoke", "deadbeef"], "no key with prefix 'deadbeef'"),
    ],
)
def test_command_refusals(world, args, message):
    with pytest.raises(CommandError) as error:
        call_command("open311-key", *args, stdout=io.StringIO())
    assert message in str(error.value)
    assert Open311Key.objects.count() == 0


# Submitter ---------------------------------------------------------------------------------


def test_staff_who_see_the_case_see_the_submitter_masked(world, issued):
    file_with(issued.secret, first_name="Li", phone="13812345678", email="liming@example.org")
    case = Case.objects.get()
    url = reverse("open311:case_submitter", args=[case.pk])
    page = client_for(world.users[Role.MICRO_GRID_LEAD]).get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "138****5678" in body and "l***@example.org" in body and "Li" in body
    assert "13812345678" not in body and "liming@" not in body
    for role in (Role.RESIDENT, Role.VOLUNTEER):
        assert client_for(world.users[role]).get(url).status_code == 404
    assert (
        client_for(world.users[Role.MICRO_GRID_LEAD])
        .get(reverse("open311:case_submitter", args=[999999]))
        .status_code
        == 404
    )


def test_the_case_page_tag_shows_the_submitter_only_to_staff_in_scope(world, issued, rf):
    file_with(issued.secret, phone="13812345678")
    case = Case.objects.get()
    template = Template("{% load open311 %}{% open311_submitter case %}")

    def render_for(user) -> str:
        request = rf.get("/")
        request.user = user
        return template.render(Context({"request": request, "case": case}))

    assert "138****5678" in render_for(world.users[Role.MICRO_GRID_LEAD])
    assert render_for(world.users[Role.RESIDENT]).strip() == ""
    assert render_for(world.users[Role.VOLUNTEER]).strip() == ""
