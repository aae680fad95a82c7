"""The default emergency plans (预案), one per hazard, that `plans_create_defaults`
(linli.emergency.services.plans) writes for a street, block or community: their rules, task
templates, minimum supplies and the contact tree every plan tells.

Data only: what each plan says is read by staff, so it is written in Chinese as they will
read it; a community edits its copy freely afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass

from linli.emergency.models import Grade, Hazard, MovementRule, TaskKind
from linli.grids.models import Post, VulnerabilityTag
from linli.supplies.models import SupplyCategory
from linli.volunteers.models import ServiceKind, Skill


@dataclass(frozen=True)
class TemplateDefault:
    kind: str
    title: str
    instructions: str
    due_hours: int
    team: str
    lowest_grade: int
    tags: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlanDefault:
    hazard: str
    name: str
    description: str
    templates: tuple[TemplateDefault, ...]
    supplies: tuple[tuple[str, int], ...]
    movement_rule: str = MovementRule.COMMUNITY
    volunteer_capacity: int = 12
    acknowledge_minutes: int = 15
    retry_minutes: int = 30
    max_attempts: int = 3
    # Extra levels of the contact tree, beyond the common chain of command.
    contacts: tuple[tuple[int, str, str], ...] = ()


T = TaskKind
Tag = VulnerabilityTag
Team = ServiceKind

# The chain every plan tells, from the top: the street and the community's secretary, the
# committee and block leads, micro-grid heads, then the building-group heads who reach each
# door (and the residents without a phone).
COMMON_CONTACTS: tuple[tuple[int, str, str], ...] = (
    (1, Post.STREET_ADMIN, "掌握全街道情况，协调跨社区力量和共建单位支援"),
    (1, Post.PARTY_SECRETARY, "总指挥：决定启动、升级和转平，调配社区力量"),
    (2, Post.COMMITTEE_STAFF, "指挥部值守，汇总各网格情况，按时上报街道"),
    (2, Post.BRANCH_SECRETARY, "组织本片党员和志愿者到岗"),
    (2, Post.SOCIAL_WORKER_LEAD, "跟进重点人群，对接社会组织和医疗资源"),
    (3, Post.MICRO_GRID_HEAD, "组织本微网格任务，接手多次联系不上的住户"),
    (4, Post.BUILDING_GROUP_HEAD, "通知本楼组每户，替不用手机的居民求助"),
)
PARTNER_CONTACT = (3, Post.PARTNER_LIAISON, "联系共建单位调用人员、车辆和物资")

# Welfare checks of the care kind are open to every volunteer (team ""): anyone can knock on
# a door or make a call, and tying them to the care team's dozen members left most
# households unreached in the demo community's drill. Tasks that need a trade (basements,
# medical follow-up, rescue) keep their team. Twelve tasks each lets 80 volunteers cover
# the ~700 targeted households of a 6,300-resident community.
DEFAULT_PLANS: tuple[PlanDefault, ...] = (
    PlanDefault(
        hazard=Hazard.TYPHOON,
        name="防台防汛预案",
        description=(
            "台风、暴雨预警发布后启动：蓝色预警对应IV级，黄色III级，橙色II级，红色I级。"
            "先确认独居、残疾、重病居民安全，再巡查高空坠物和地下空间；II级起按楼栋分发"
            "沙袋、应急灯等物资。"
        ),
        templates=(
            TemplateDefault(
                T.INFORMATION_RELAY,
                "预警信息传达到楼组",
                "在楼组微信群转发预警和防范提示，并在楼道口张贴；对不用手机的老人当面告知。",
                due_hours=1,
                team=Team.LIAISON,
                lowest_grade=Grade.IV,
            ),
            TemplateDefault(
                T.WELFARE_CHECK,
                "独居、残疾、重病居民安全确认",
                "上门或电话确认本人安全；检查门窗是否关好、家中是否漏水；告知求助方式；"
                "行动不便、住低洼或危房的登记是否需要转移。",
                due_hours=2,
                team="",
                lowest_grade=Grade.IV,
                tags=(Tag.ELDERLY_ALONE, Tag.DISABLED, Tag.SERIOUS_ILLNESS),
            ),
            TemplateDefault(
                T.WELFARE_CHECK,
                "孕产妇、空巢老人、留守儿童家庭确认",
                "电话确认家中有人照应、备有饮用水和常用药；需要帮助的立即上报。",
                due_hours=4,
                team="",
                lowest_grade=Grade.III,
                tags=(Tag.PREGNANT, Tag.EMPTY_NEST, Tag.LEFT_BEHIND_CHILD),
            ),
            TemplateDefault(
                T.PATROL,
                "阳台和外墙高空坠物巡查",
                "检查阳台花盆、空调外机、晾衣架、广告牌等易坠物，提醒住户收好或固定；"
                "无法处理的拍照上报。",
                due_hours=4,
                team=Team.PATROL,
                lowest_grade=Grade.III,
            ),
            TemplateDefault(
                T.PATROL,
                "地下室和地下车库防倒灌巡查",
                "检查地下室、车库入口挡水板和沙袋、排水泵是否可用；发现积水立即上报，"
                "提醒车主挪车，疏散地下空间人员。",
                due_hours=3,
                team=Team.PATROL,
                lowest_grade=Grade.III,
                skills=(Skill.REPAIR,),
            ),
            TemplateDefault(
                T.SUPPLY_DISTRIBUTION,
                "沙袋、应急灯等物资按楼栋分发",
                "到物资点领取后送到楼栋，交楼组长登记；优先低洼楼栋和地下室入口。",
                due_hours=6,
                team=Team.SUPPLIES,
                lowest_grade=Grade.II,
                skills=(Skill.LOGISTICS,),
            ),
        ),
        supplies=(
            (SupplyCategory.TOOLS, 100),
            (SupplyCategory.POWER, 30),
            (SupplyCategory.WATER, 200),
            (SupplyCategory.FOOD, 100),
            (SupplyCategory.MEDICAL, 10),
        ),
        contacts=(PARTNER_CONTACT,),
    ),
    PlanDefault(
        hazard=Hazard.FIRE,
        name="消防应急预案",
        description=(
            "辖区发生火灾或重大火灾隐患时启动。先报119，配合消防救援；志愿者不进入火场，"
            "负责协助行动不便居民疏散、清点人员和守住消防通道。"
        ),
        templates=(
            TemplateDefault(
                T.WELFARE_CHECK,
                "行动不便居民疏散协助",
                "协助行动不便者走楼梯疏散到集合点，不乘电梯；无法转移的立即报告所在楼层和"
                "房号，由消防员处置。",
                due_hours=1,
                team=Team.EMERGENCY_RESPONSE,
                lowest_grade=Grade.IV,
                tags=(Tag.ELDERLY_ALONE, Tag.DISABLED, Tag.SERIOUS_ILLNESS, Tag.PREGNANT),
                skills=(Skill.FIRST_AID,),
            ),
            TemplateDefault(
                T.INFORMATION_RELAY,
                "疏散路线和集合点通知",
                "通知楼组居民疏散路线和集合点，提醒用湿毛巾捂口鼻、不要返回取物。",
                due_hours=1,
                team=Team.LIAISON,
                lowest_grade=Grade.IV,
            ),
            TemplateDefault(
                T.PATROL,
                "消防通道和楼道堆物巡查",
                "确认消防通道畅通、楼道无堆物、电动自行车不在楼内充电，灭火器和消火栓可用；"
                "隐患拍照上报。",
                due_hours=2,
                team=Team.PATROL,
                lowest_grade=Grade.IV,
            ),
            TemplateDefault(
                T.WELFARE_CHECK,
                "空巢老人和留守儿童家庭确认",
                "电话确认人员安全、是否已疏散；联系不上的告知楼组长上门。",
                due_hours=3,
                team="",
                lowest_grade=Grade.III,
                tags=(Tag.EMPTY_NEST, Tag.LEFT_BEHIND_CHILD),
            ),
            TemplateDefault(
                T.SUPPLY_DISTRIBUTION,
                "受灾居民临时安置物资发放",
                "向临时安置点和受影响楼栋发放饮用水、毛毯和常用药品，登记领取户。",
                due_hours=4,
                team=Team.SUPPLIES,
                lowest_grade=Grade.II,
            ),
        ),
        supplies=(
            (SupplyCategory.TOOLS, 20),
            (SupplyCategory.MEDICAL, 20),
            (SupplyCategory.SHELTER, 30),
            (SupplyCategory.WATER, 100),
        ),
        volunteer_capacity=5,
        acknowledge_minutes=5,
        retry_minutes=10,
        max_attempts=2,
    ),
    PlanDefault(
        hazard=Hazard.EPIDEMIC,
        name="疫情封控预案",
        description=(
            "发生聚集性疫情、小区实行封控管理时启动。封控期间志愿者只在本人所在小区"
            "（微网格）内服务；重点人群每天确认健康和就医用药需求，生活物资按楼栋配送到户。"
        ),
        templates=(
            TemplateDefault(
                T.INFORMATION_RELAY,
                "封控通知和检测安排传达",
                "在楼组群和楼道口发布封控范围、检测时间和求助方式；对不用手机的老人隔门告知。",
                due_hours=2,
                team=Team.LIAISON,
                lowest_grade=Grade.IV,
            ),
            TemplateDefault(
                T.WELFARE_CHECK,
                "重点人群健康和就医需求确认",
                "电话或隔门询问健康状况、常用药余量和就医需求（透析、化疗、产检等）；"
                "需要外出就医的立即上报安排车辆。",
                due_hours=4,
                team="",
                lowest_grade=Grade.IV,
                tags=(Tag.ELDERLY_ALONE, Tag.DISABLED, Tag.SERIOUS_ILLNESS, Tag.PREGNANT),
            ),
            TemplateDefault(
                T.WELFARE_CHECK,
                "低保、空巢和留守儿童家庭生活需求确认",
                "确认家中粮油、饮用水和药品能否维持三天；困难的登记需求，随物资一起送到。",
                due_hours=8,
                team="",
                lowest_grade=Grade.III,
                tags=(Tag.LOW_INCOME, Tag.EMPTY_NEST, Tag.LEFT_BEHIND_CHILD),
            ),
            TemplateDefault(
                T.SUPPLY_DISTRIBUTION,
                "生活物资按楼栋配送到户",
                "在小区入口接收物资，按楼栋分拣后放到每户门口并通知住户，全程佩戴口罩、"
                "不进入住户家中。",
                due_hours=12,
                team=Team.SUPPLIES,
                lowest_grade=Grade.III,
                skills=(Skill.LOGISTICS,),
            ),
            TemplateDefault(
                T.PATROL,
                "楼栋出入口和垃圾点消杀巡查",
                "检查楼栋出入口封控标识、垃圾点和公共区域消杀记录；发现人员聚集或异常上报。",
                due_hours=6,
                team=Team.PATROL,
                lowest_grade=Grade.II,
            ),
        ),
        supplies=(
            (SupplyCategory.HYGIENE, 1000),
            (SupplyCategory.MEDICAL, 50),
            (SupplyCategory.FOOD, 300),
            (SupplyCategory.WATER, 300),
        ),
        movement_rule=MovementRule.MICRO_GRID,
        volunteer_capacity=12,
        acknowledge_minutes=30,
        retry_minutes=60,
        max_attempts=3,
        contacts=(PARTNER_CONTACT,),
    ),
    PlanDefault(
        hazard=Hazard.HEATWAVE,
        name="高温应急预案",
        description=(
            "高温预警发布后启动：黄色预警（35℃以上）对应IV级，橙色（37℃）III级，"
            "红色（40℃）II级，持续高温叠加停电等为I级。重点是独居和空巢老人防暑。"
        ),
        templates=(
            TemplateDefault(
                T.INFORMATION_RELAY,
                "防暑提示和纳凉点信息传达",
                "在楼组群和楼道发布防暑提示、社区纳凉点开放时间和求助方式。",
                due_hours=2,
                team=Team.LIAISON,
                lowest_grade=Grade.IV,
            ),
            TemplateDefault(
                T.WELFARE_CHECK,
                "独居和空巢老人防暑探访",
                "确认空调或风扇能用、饮水充足、门窗通风；有头晕、乏力、恶心等中暑症状的"
                "立即上报并协助就医。",
                due_hours=4,
                team="",
                lowest_grade=Grade.IV,
                tags=(Tag.ELDERLY_ALONE, Tag.EMPTY_NEST),
            ),
            TemplateDefault(
                T.WELFARE_CHECK,
                "重病、残疾和孕产妇防暑确认",
                "电话确认降温条件和身体状况，提醒按时服药、避免午间外出。",
                due_hours=6,
                team="",
                lowest_grade=Grade.III,
                tags=(Tag.SERIOUS_ILLNESS, Tag.DISABLED, Tag.PREGNANT),
            ),
            TemplateDefault(
                T.WELFARE_CHECK,
                "低保家庭降温条件确认",
                "确认家中有无降温设备、电费是否困难；需要的登记送风扇或接到纳凉点。",
                due_hours=12,
                team="",
                lowest_grade=Grade.II,
                tags=(Tag.LOW_INCOME,),
            ),
            TemplateDefault(
                T.SUPPLY_DISTRIBUTION,
                "饮用水和防暑药品送达",
                "向各楼栋送饮用水和防暑药品，优先送到独居老人家中。",
                due_hours=8,
                team=Team.SUPPLIES,
                lowest_grade=Grade.II,
            ),
        ),
        supplies=((SupplyCategory.WATER, 300), (SupplyCategory.MEDICAL, 30)),
        volunteer_capacity=10,
        acknowledge_minutes=30,
        retry_minutes=60,
    ),
    PlanDefault(
        hazard=Hazard.POWER_OUTAGE,
        name="停电应急预案",
        description=(
            "大面积或长时间停电时启动。先确认使用制氧机、呼吸机等用电医疗设备的居民，"
            "再排查电梯困人；停电超过半天按楼栋分发应急照明。"
        ),
        templates=(
            TemplateDefault(
                T.INFORMATION_RELAY,
                "停电原因和恢复时间传达",
                "向楼组转发供电部门的通知和预计恢复时间，提醒关闭大功率电器、注意用火安全。",
                due_hours=1,
                team=Team.LIAISON,
                lowest_grade=Grade.IV,
            ),
            TemplateDefault(
                T.WELFARE_CHECK,
                "用电医疗设备居民确认",
                "确认制氧机、呼吸机等设备的备用电源还能用多久；不足两小时的立即上报，"
                "送备用电源或协助转移。",
                due_hours=1,
                team=Team.MEDICAL_SUPPORT,
                lowest_grade=Grade.IV,
                tags=(Tag.SERIOUS_ILLNESS,),
            ),
            TemplateDefault(
                T.PATROL,
                "电梯困人和楼道应急照明巡查",
                "逐部电梯确认无人被困，发现困人立即通知物业和电梯维保（必要时报119）；"
                "检查楼道应急照明。",
                due_hours=1,
                team=Team.PATROL,
                lowest_grade=Grade.IV,
            ),
            TemplateDefault(
                T.WELFARE_CHECK,
                "独居老人和高楼层行动不便居民确认",
                "电梯停运时确认高楼层行动不便者的饮水、饮食和照明，需要的送上楼。",
                due_hours=3,
                team="",
                lowest_grade=Grade.III,
                tags=(Tag.ELDERLY_ALONE, Tag.DISABLED),
            ),
            TemplateDefault(
                T.SUPPLY_DISTRIBUTION,
                "应急照明和充电设备分发",
                "按楼栋分发应急灯、充电宝，登记借用户，恢复供电后收回。",
                due_hours=6,
                team=Team.SUPPLIES,
                lowest_grade=Grade.II,
            ),
        ),
        supplies=((SupplyCategory.POWER, 50), (SupplyCategory.WATER, 100)),
    ),
    PlanDefault(
        hazard=Hazard.WATER_OUTAGE,
        name="停水应急预案",
        description=(
            "管网抢修等造成长时间停水时启动。通知停水时间和送水点，优先给独居老人、"
            "行动不便和重病居民送水到户；按每人每天3升准备饮用水。"
        ),
        templates=(
            TemplateDefault(
                T.INFORMATION_RELAY,
                "停水时间和送水点通知",
                "向楼组转发停水通知、预计恢复时间和送水车停靠位置，提醒提前储水。",
                due_hours=1,
                team=Team.LIAISON,
                lowest_grade=Grade.IV,
            ),
            TemplateDefault(
                T.WELFARE_CHECK,
                "独居老人和行动不便居民用水确认",
                "确认家中存水能否维持到恢复供水；不够的登记送水到户。",
                due_hours=4,
                team="",
                lowest_grade=Grade.IV,
                tags=(Tag.ELDERLY_ALONE, Tag.DISABLED, Tag.SERIOUS_ILLNESS),
            ),
            TemplateDefault(
                T.WELFARE_CHECK,
                "孕产妇和有幼儿家庭用水确认",
                "确认饮用水和婴幼儿用水是否够用，需要的登记送水。",
                due_hours=8,
                team="",
                lowest_grade=Grade.III,
                tags=(Tag.PREGNANT, Tag.LEFT_BEHIND_CHILD),
            ),
            TemplateDefault(
                T.SUPPLY_DISTRIBUTION,
                "饮用水按楼栋配送",
                "从物资点或送水车领取饮用水，按楼栋送到楼组长处登记发放，重点户送上门。",
                due_hours=6,
                team=Team.SUPPLIES,
                lowest_grade=Grade.III,
                skills=(Skill.LOGISTICS,),
            ),
            TemplateDefault(
                T.PATROL,
                "二次供水设施巡查",
                "恢复供水前检查楼栋水箱、泵房是否漏水或污染，发现问题通知物业。",
                due_hours=12,
                team=Team.PATROL,
                lowest_grade=Grade.II,
                skills=(Skill.REPAIR,),
            ),
        ),
        supplies=((SupplyCategory.WATER, 500),),
        acknowledge_minutes=30,
        retry_minutes=60,
    ),
    PlanDefault(
        hazard=Hazard.EARTHQUAKE,
        name="地震应急预案",
        description=(
            "有震感或收到地震预警时启动。先组织重点人群转移到应急避难场所，"
            "志愿者不进入明显受损的楼栋；III级起排查楼栋险情，II级起在避难场所发放物资。"
        ),
        templates=(
            TemplateDefault(
                T.INFORMATION_RELAY,
                "避难场所位置和余震提示传达",
                "通知楼组居民就近撤到应急避难场所，不乘电梯、远离外墙和玻璃，注意余震。",
                due_hours=1,
                team=Team.LIAISON,
                lowest_grade=Grade.IV,
            ),
            TemplateDefault(
                T.WELFARE_CHECK,
                "重点人群安全确认和转移",
                "确认独居、残疾、重病和孕产妇居民是否受伤、是否已撤离；需要的协助转移，"
                "受伤的就地简单处置并报告。",
                due_hours=1,
                team=Team.EMERGENCY_RESPONSE,
                lowest_grade=Grade.IV,
                tags=(Tag.ELDERLY_ALONE, Tag.DISABLED, Tag.SERIOUS_ILLNESS, Tag.PREGNANT),
                skills=(Skill.FIRST_AID,),
            ),
            TemplateDefault(
                T.WELFARE_CHECK,
                "空巢、低保和留守儿童家庭确认",
                "电话或到避难场所确认人员安全，登记需要的帮助。",
                due_hours=3,
                team="",
                lowest_grade=Grade.III,
                tags=(Tag.EMPTY_NEST, Tag.LOW_INCOME, Tag.LEFT_BEHIND_CHILD),
            ),
            TemplateDefault(
                T.PATROL,
                "楼栋裂缝、燃气和外墙险情排查",
                "在楼外查看墙体裂缝、外墙脱落和燃气异味，不进入明显受损的楼栋；"
                "险情拍照上报并拉警戒。",
                due_hours=3,
                team=Team.PATROL,
                lowest_grade=Grade.III,
                skills=(Skill.REPAIR,),
            ),
            TemplateDefault(
                T.SUPPLY_DISTRIBUTION,
                "避难场所物资发放",
                "在避难场所按楼栋登记发放饮用水、食品、毛毯和药品。",
                due_hours=6,
                team=Team.SUPPLIES,
                lowest_grade=Grade.II,
                skills=(Skill.LOGISTICS,),
            ),
        ),
        supplies=(
            (SupplyCategory.SHELTER, 100),
            (SupplyCategory.WATER, 300),
            (SupplyCategory.FOOD, 300),
            (SupplyCategory.MEDICAL, 30),
            (SupplyCategory.TOOLS, 20),
            (SupplyCategory.POWER, 20),
        ),
        volunteer_capacity=6,
        acknowledge_minutes=10,
        retry_minutes=15,
        max_attempts=2,
        contacts=(PARTNER_CONTACT,),
    ),
    PlanDefault(
        hazard=Hazard.GAS_LEAK,
        name="燃气泄漏应急预案",
        description=(
            "发现燃气泄漏时启动，通常只涉及一个小区。先报燃气公司抢修和119；"
            "敲门通知撤离，不按门铃、不开关电器、不在楼内打电话。志愿者只负责本楼组，"
            "不跨楼组进出泄漏区域。"
        ),
        templates=(
            TemplateDefault(
                T.INFORMATION_RELAY,
                "撤离通知到楼组",
                "敲门通知住户关闭燃气总阀、开窗通风、不开关电器，撤到上风向集合点；"
                "不在楼内使用手机和门铃。",
                due_hours=1,
                team=Team.LIAISON,
                lowest_grade=Grade.IV,
            ),
            TemplateDefault(
                T.WELFARE_CHECK,
                "行动不便居民撤离协助",
                "协助独居、残疾、重病和孕产妇居民撤到集合点；屋内有浓重燃气味的不要进入，"
                "立即报告。",
                due_hours=1,
                team=Team.EMERGENCY_RESPONSE,
                lowest_grade=Grade.IV,
                tags=(Tag.ELDERLY_ALONE, Tag.DISABLED, Tag.SERIOUS_ILLNESS, Tag.PREGNANT),
            ),
            TemplateDefault(
                T.WELFARE_CHECK,
                "空巢老人和留守儿童家庭确认",
                "确认是否已撤离、人员是否齐全；联系不上的报告楼组长。",
                due_hours=2,
                team="",
                lowest_grade=Grade.III,
                tags=(Tag.EMPTY_NEST, Tag.LEFT_BEHIND_CHILD),
            ),
            TemplateDefault(
                T.PATROL,
                "相邻楼栋燃气异味排查",
                "在楼道口和地下空间入口闻查燃气异味，发现异味立即撤出并报告，不自行处置。",
                due_hours=1,
                team=Team.PATROL,
                lowest_grade=Grade.III,
            ),
        ),
        supplies=((SupplyCategory.MEDICAL, 10), (SupplyCategory.POWER, 10)),
        # A leak is local and the air near it is dangerous: each building group's own
        # volunteers reach their neighbours, and nobody crosses into another group's zone.
        movement_rule=MovementRule.BUILDING_GROUP,
        volunteer_capacity=4,
        acknowledge_minutes=5,
        retry_minutes=5,
        max_attempts=2,
    ),
)
