"""What the community's WeCom duty group reads of an emergency: that something happened, never
a household's address, a name or a health need (DESIGN §5: messages sent outside the platform
carry no health data and no address beyond what the recipient may already see)."""

import pytest
from django.utils import translation

from linli.accounts.roles import Role
from linli.emergency import services
from linli.emergency.models import Task
from linli.notify.channels import group_text
from linli.notify.models import Channel, OutboxMessage


@pytest.fixture
def wecom_configured(settings):
    # Configured, not reached: the test reads what would be posted, not the network.
    settings.LINLI_WECOM_WEBHOOK_URL = "http://127.0.0.1:9/cgi-bin/webhook/send?key=k"


def group_posts() -> dict[str, str]:
    # In the site's language (zh-hans) whoever reads it: a group has no single reader.
    with translation.override("en"):
        return {
            message.notification.kind: group_text(message.notification)
            for message in OutboxMessage.objects.filter(channel=Channel.WECOM).select_related(
                "notification"
            )
        }


def test_a_medical_help_request_reaches_the_group_without_address_or_need(
    emergency_world, plan, wecom_configured
):
    world = emergency_world
    services.activation_start(
        actor=world.users[Role.SECRETARY],
        plan=plan,
        scope=world.community,
        grade=4,
        is_drill=True,
    )
    services.help_request_create(
        actor=world.users[Role.SECRETARY],
        household=world.other_micro_grid_household,
        kind="medical",
        urgency=1,
        description="孕妇腹痛",
        on_behalf=True,
    )

    posts = group_posts()
    assert posts["emergency_help"] == ("收到一条危及生命的紧急求助\n请登录邻里查看详情。")
    assert posts["emergency_activated"] == (
        "演练：A社区启动A社区防台防汛预案（IV级）\n请登录邻里查看详情。"
    )
    # The inbox keeps the detail, behind login.
    inbox_title = OutboxMessage.objects.get(
        channel=Channel.WECOM, notification__kind="emergency_help"
    ).notification.title
    assert str(world.other_micro_grid_household) in inbox_title
    for post in posts.values():
        assert str(world.other_micro_grid_household) not in post
        assert "医疗" not in post and "孕妇" not in post


def test_an_escalated_task_reaches_the_group_without_its_household(
    emergency_world, plan, wecom_configured, settings
):
    world = emergency_world
    activation = services.activation_start(
        actor=world.users[Role.SECRETARY],
        plan=plan,
        scope=world.community,
        grade=4,
        is_drill=True,
    )
    task = Task.objects.get(activation=activation, household=world.household)
    for _attempt in range(activation.max_attempts):
        task.refresh_from_db()
        services.task_report(actor=world.users[Role.VOLUNTEER], task=task, outcome="no_answer")

    post = group_posts()["emergency_task_escalated"]
    assert post == ("一项应急任务2次联系无应答，需要网格长跟进\n请登录邻里查看详情。")
