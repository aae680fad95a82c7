"""The default category tree, from the case study and common community practice.

The data is written out here (not imported) so the migration stays what it was when it ran.
"""

from django.db import migrations

MAJORS = [
    ("ENV", "环境秩序", "Environment and order"),
    ("SAF", "安全隐患", "Safety hazards"),
    ("HOU", "房屋设施", "Housing and facilities"),
    ("NEI", "邻里关系", "Neighbour relations"),
    ("SVC", "出行与公共服务", "Transport and public services"),
    ("OTH", "其他", "Other"),
]

# (code, major, name_zh, name_en, sla_hours, acceptance, closing, usual handler, public)
MINORS = [
    ("SAF-01", "SAF", "楼道堆物", "Stairwell clutter", 72,
     "楼道、消防通道内有杂物堆放，影响通行或消防安全。", "杂物已清理，通道畅通，有处置后照片。",
     "物业", True),
    ("SAF-02", "SAF", "电动自行车违规充电", "Indoor e-bike charging", 24,
     "电动自行车在楼道、室内或飞线充电。", "违规充电已停止，电瓶移至集中充电点。", "物业", True),
    ("SAF-03", "SAF", "高空抛物", "Objects thrown from height", 48,
     "有高空抛物、坠物或其隐患的线索。", "责任户已查明并劝导，或隐患已消除。", "物业、派出所", True),
    ("ENV-01", "ENV", "占道经营", "Shops occupying the road", 72,
     "沿街商户或摊贩占用道路、人行道经营。", "占道物品已撤除，现场恢复通行。", "综合执法", True),
    ("ENV-02", "ENV", "毁绿占绿", "Damaged or occupied green space", 120,
     "绿地被毁坏、种菜或被占用。", "绿地已恢复，占用物已清除。", "物业、绿化市容", True),
    ("ENV-03", "ENV", "垃圾分类", "Waste sorting", 48,
     "垃圾未分类投放、满溢或乱倒。", "投放点已整理，相关居民已宣传劝导。", "物业、绿化市容", True),
    ("ENV-04", "ENV", "噪声扰民", "Noise nuisance", 48,
     "装修、商铺、广场舞等噪声影响居民休息。", "噪声源已劝导或处理，反映人确认。", "物业、综合执法", True),
    ("HOU-01", "HOU", "房屋渗漏/老化", "Leaking or ageing housing", 240,
     "房屋屋面、外墙、管道渗漏或老化损坏。", "维修完成或已纳入修缮计划并告知居民。", "物业、房管办", True),
    ("HOU-02", "HOU", "公共设施损坏", "Damaged public facilities", 120,
     "路灯、门禁、健身器材等公共设施损坏。", "设施已修复或更换。", "物业", True),
    ("NEI-01", "NEI", "邻里纠纷", "Neighbour dispute", 168,
     "居民之间因噪声、漏水、空间使用等发生纠纷。", "双方达成调解协议或已引导至司法途径。",
     "居委会、人民调解", False),
    ("SVC-01", "SVC", "出行不便", "Difficult access to transport", 720,
     "公交站点、道路通行等出行困难。", "已答复居民，措施已落实或已提交议事。", "居委会、街道", True),
    ("OTH-01", "OTH", "其他", "Other", 168,
     "不属于以上类别的社区问题。", "问题已处理并答复反映人。", "居委会", True),
]


def seed(apps, schema_editor):
    CaseCategory = apps.get_model("cases", "CaseCategory")
    majors = {}
    for order, (code, name_zh, name_en) in enumerate(MAJORS):
        majors[code], _ = CaseCategory.objects.get_or_create(
            code=code, defaults=dict(name_zh=name_zh, name_en=name_en, sort_order=order)
        )
    for order, row in enumerate(MINORS):
        code, major, name_zh, name_en, sla, acceptance, closing, handler, public = row
        CaseCategory.objects.get_or_create(
            code=code,
            defaults=dict(
                parent=majors[major],
                name_zh=name_zh,
                name_en=name_en,
                sla_hours=sla,
                acceptance_condition=acceptance,
                closing_condition=closing,
                usual_handler=handler,
                is_public=public,
                sort_order=order,
            ),
        )


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
