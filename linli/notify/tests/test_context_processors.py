from django.contrib.auth.models import AnonymousUser
from django.template import Context, Template
from django.test import RequestFactory

from linli.accounts.roles import Role
from linli.notify.context_processors import unread_notifications
from linli.notify.services import notification_send


def request_for(user):
    request = RequestFactory().get("/")
    request.user = user
    return request


def test_unread_badge_counts_the_users_unread(world, django_assert_num_queries):
    lead = world.users[Role.MICRO_GRID_LEAD]
    notification_send(recipients=[lead], kind="case_escalated", title="one")
    notification_send(recipients=[lead], kind="case_escalated", title="two")

    with django_assert_num_queries(0):
        context = unread_notifications(request_for(lead))
    with django_assert_num_queries(1):
        assert context["unread_notifications"]() == 2
        assert context["unread_notifications"]() == 2


def test_unread_badge_renders_in_a_template_with_one_query(world, django_assert_num_queries):
    lead = world.users[Role.MICRO_GRID_LEAD]
    notification_send(recipients=[lead], kind="case_escalated", title="one")
    template = Template("{% if unread_notifications %}[{{ unread_notifications }}]{% endif %}")

    with django_assert_num_queries(1):
        html = template.render(Context(unread_notifications(request_for(lead))))

    assert html == "[1]"


def test_unread_badge_is_zero_for_anonymous(db):
    context = unread_notifications(request_for(AnonymousUser()))

    assert context["unread_notifications"]() == 0
