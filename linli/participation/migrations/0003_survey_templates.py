"""Seed the two survey templates staff copy into their community.

The community-resilience items were written for this project. They follow the five-factor
structure published for the Conjoint Community Resiliency Assessment Measure (CCRAM:
leadership, collective efficacy, preparedness, place attachment, social trust), but no
item is taken from that or any other copyrighted instrument. Items marked R are
reverse-scored (recoded 6 − x).
"""

from django.db import migrations

RESILIENCE = {
    "title": "社区韧性调查 / Community resilience survey",
    "description": (
        "请根据您的真实感受作答，1 表示非常不同意，5 表示非常同意。"
        " / Answer as you really feel: 1 = strongly disagree, 5 = strongly agree."
    ),
    "free_text_prompt": "您对提升社区应对困难的能力有什么建议？ / "
    "What would make our community better at coping with hard times?",
    "factors": [
        (
            "领导力 / Leadership",
            [
                (
                    "困难时期，居委会和党组织能带领大家渡过难关。 / "
                    "In hard times the residents' committee and Party branch lead us through.",
                    False,
                ),
                (
                    "社区负责人会认真听取居民的意见。 / "
                    "Community leaders listen carefully to what residents say.",
                    False,
                ),
                (
                    "遇到突发事件时，我清楚该听从谁的安排。 / "
                    "In an emergency I know whose instructions to follow.",
                    False,
                ),
                (
                    "社区干部做决定时很少考虑像我这样的居民。 / "
                    "Community officials seldom think of residents like me when they decide.",
                    True,
                ),
            ],
        ),
        (
            "集体效能 / Collective efficacy",
            [
                (
                    "邻居们能一起解决楼道里的问题。 / "
                    "Neighbours here can sort out problems in our stairwell together.",
                    False,
                ),
                (
                    "社区需要志愿者时，很多人会站出来。 / "
                    "When the community needs volunteers, many people step forward.",
                    False,
                ),
                (
                    "大家一起努力，就能让小区变得更好。 / "
                    "By working together we can make our estate a better place.",
                    False,
                ),
                (
                    "在这里，靠大家的力量办不成什么事。 / "
                    "Here, little ever gets done by people acting together.",
                    True,
                ),
                (
                    "居民之间能就共同的事情达成一致。 / "
                    "Residents can reach agreement on matters that concern us all.",
                    False,
                ),
            ],
        ),
        (
            "应急准备 / Preparedness",
            [
                (
                    "我知道离家最近的应急避难场所在哪里。 / "
                    "I know where the nearest emergency shelter is.",
                    False,
                ),
                (
                    "我家备有应急物品（水、食品、手电、常用药）。 / "
                    "My household keeps emergency supplies (water, food, a torch, medicines).",
                    False,
                ),
                (
                    "社区已为停水停电、暴雨等情况做好了准备。 / "
                    "Our community is ready for water or power cuts and heavy rain.",
                    False,
                ),
                (
                    "如果发生灾害，我不知道该做什么。 / "
                    "If a disaster struck I would not know what to do.",
                    True,
                ),
            ],
        ),
        (
            "地方依恋 / Place attachment",
            [
                ("我为住在这个社区感到自豪。 / I am proud to live in this community.", False),
                ("这里让我有家的感觉。 / This place feels like home to me.", False),
                (
                    "只要有机会，我就想搬离这个社区。 / "
                    "I would move away from this community if I had the chance.",
                    True,
                ),
                (
                    "我愿意为社区的公共空间出一份力。 / "
                    "I am willing to help look after our shared spaces.",
                    False,
                ),
            ],
        ),
        (
            "社会信任 / Social trust",
            [
                (
                    "必要时，我可以把家里的钥匙托付给邻居。 / "
                    "If needed, I could leave my house keys with a neighbour.",
                    False,
                ),
                ("这里的大多数人是可以信任的。 / Most people around here can be trusted.", False),
                (
                    "遇到困难时，邻居会帮我一把。 / "
                    "My neighbours would help me if I were in trouble.",
                    False,
                ),
                (
                    "在这个小区，人们只顾自己。 / "
                    "In this estate people only look out for themselves.",
                    True,
                ),
            ],
        ),
    ],
}

SATISFACTION = {
    "title": "社区服务满意度调查 / Community service satisfaction survey",
    "description": (
        "请为社区近半年的服务打分，1 表示非常不同意，5 表示非常同意。"
        " / Rate the community's services over the last six months:"
        " 1 = strongly disagree, 5 = strongly agree."
    ),
    "free_text_prompt": "您最希望社区改进哪项服务？ / "
    "Which service would you most like the community to improve?",
    "factors": [
        (
            "办事便利 / Ease of access",
            [
                (
                    "到社区办事方便快捷。 / Getting things done at the community office is easy "
                    "and quick.",
                    False,
                ),
                (
                    "我知道有事该找哪位网格员或楼组长。 / "
                    "I know which grid worker or building-group leader to turn to.",
                    False,
                ),
                ("办一件事常常要跑好几趟。 / One errand often takes several trips.", True),
            ],
        ),
        (
            "响应及时 / Responsiveness",
            [
                ("我反映的问题能得到及时回应。 / The problems I raise get a prompt answer.", False),
                (
                    "社区会告诉我问题处理的进展和结果。 / "
                    "The community tells me how my problem is progressing and how it ended.",
                    False,
                ),
                (
                    "问题解决后，社区会回访听取我的意见。 / "
                    "After a problem is solved, the community asks me how it went.",
                    False,
                ),
            ],
        ),
        (
            "服务态度 / Attitude",
            [
                ("社区工作人员待人热情、有耐心。 / Community staff are warm and patient.", False),
                ("社区工作人员尊重我的隐私。 / Community staff respect my privacy.", False),
                (
                    "总体而言，我对社区服务感到满意。 / "
                    "Overall I am satisfied with the community's services.",
                    False,
                ),
            ],
        ),
    ],
}


def seed(apps, schema_editor):
    Survey = apps.get_model("participation", "Survey")
    SurveyFactor = apps.get_model("participation", "SurveyFactor")
    SurveyItem = apps.get_model("participation", "SurveyItem")
    for template in (RESILIENCE, SATISFACTION):
        survey = Survey.objects.create(
            title=template["title"],
            description=template["description"],
            free_text_prompt=template["free_text_prompt"],
            is_template=True,
            anonymous=True,
            grid_path="",
        )
        position = 0
        for factor_position, (name, items) in enumerate(template["factors"], start=1):
            factor = SurveyFactor.objects.create(survey=survey, name=name, position=factor_position)
            for text, reverse_scored in items:
                position += 1
                SurveyItem.objects.create(
                    survey=survey,
                    factor=factor,
                    text=text,
                    reverse_scored=reverse_scored,
                    position=position,
                )


def unseed(apps, schema_editor):
    Survey = apps.get_model("participation", "Survey")
    Survey.objects.filter(is_template=True).delete()


class Migration(migrations.Migration):
    dependencies = [("participation", "0002_surveys")]

    operations = [migrations.RunPython(seed, unseed)]
