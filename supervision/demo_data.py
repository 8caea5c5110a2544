"""Static lists behind the demo organisation: the Mianyang centres of the 2014 report, departments, names.

Real where the seed document or public administrative geography gives it (the city centre and its five
halls, the nine county-level divisions, the four parks, township names); invented where it does not
(people, phone numbers, window numbers, the split of townships over counties, post lists). Everything
the demo writes is flagged `is_demo` regardless.
"""

from __future__ import annotations

from dataclasses import dataclass

RANDOM_SEED = 20141210  # the date of the report

# --- the city centre --------------------------------------------------------------------------

CITY_CODE = "MY"
# The seed's own name for it (绵阳市人民政府政务服务中心, founded 28 December 2000).
CITY_NAME = "绵阳市人民政府政务服务中心"
CITY_ADDRESS = "四川省绵阳市"


@dataclass(frozen=True)
class HallSpec:
    key: str
    name: str
    letter: str  # window numbers in this hall start with it
    floor: str


# The five halls of the seed, in its order.
CITY_HALLS: tuple[HallSpec, ...] = (
    HallSpec("GG", "公共服务大厅", "A", "1F"),
    HallSpec("BL", "并联审批大厅", "B", "2F"),
    HallSpec("XZ", "行政审批大厅", "C", "2F"),
    HallSpec("ZJ", "中介服务大厅", "D", "3F"),
    HallSpec("SW", "商务大厅", "E", "1F"),
)

# --- posts: one template per step of a power (approval, licensing, fees, penalties, inspection, ...)

STAGES: dict[str, tuple[str, str]] = {
    "咨询": ("{line}咨询岗", "解答{line}业务咨询,发放办事指南,一次性告知所需材料"),
    "受理": ("{line}受理岗", "接收{line}申请材料,核对材料齐全性和法定形式,当场出具受理通知书或一次性告知书"),
    "审核": ("{line}审核岗", "对已受理的{line}申请进行审查,提出审核意见,按承诺时限流转"),
    "审批": ("{line}审批岗", "依法依授权作出{line}准予或不予许可的决定,在承诺时限内办结"),
    "收费": ("{line}收费岗", "按核定标准收取{line}相关行政事业性收费,开具票据,日清日结"),
    "发证": ("{line}发证岗", "制作、核发{line}证照和文书,登记发放台账"),
    "勘验": ("{line}勘验岗", "开展{line}现场核查勘验,如实记录并提出意见"),
    "处罚": ("{line}处罚岗", "依法办理{line}行政处罚的告知、决定和送达"),
    "登记": ("{line}登记岗", "办理{line}登记,录入登记簿并出具登记证明"),
}

Line = tuple[str, tuple[str, ...]]  # (business line, its steps)


@dataclass(frozen=True)
class DepartmentSpec:
    key: str  # part of the codes: MY-D-<key>, MY-W-<key>, MY-P-<key>-01
    name: str
    short: str  # the window is called "<short>窗口"
    hall: str  # HallSpec.key
    lines: tuple[Line, ...]


def _l(line: str, *steps: str) -> Line:
    return (line, steps)


# Thirty departments with windows of their own. Names follow a present-day municipal service centre.
CITY_DEPARTMENTS: tuple[DepartmentSpec, ...] = (
    DepartmentSpec(
        "GA",
        "市公安局",
        "公安",
        "GG",
        (
            _l("户籍", "受理", "审核", "发证"),
            _l("出入境", "受理", "审核", "收费", "发证"),
            _l("车驾管", "受理", "审核", "收费", "发证"),
            _l("交通违法", "处罚"),
        ),
    ),
    DepartmentSpec(
        "MZ",
        "市民政局",
        "民政",
        "GG",
        (
            _l("婚姻", "受理", "登记"),
            _l("社会组织", "受理", "审核", "审批"),
            _l("社会救助", "受理"),
        ),
    ),
    DepartmentSpec(
        "RS",
        "市人力资源和社会保障局",
        "人社",
        "GG",
        (
            _l("社保", "受理", "审核"),
            _l("就业", "受理", "审核"),
            _l("劳动用工", "受理", "审核", "审批"),
        ),
    ),
    DepartmentSpec(
        "ZR",
        "市自然资源和规划局",
        "自然资源和规划",
        "BL",
        (
            _l("建设用地", "受理", "审核", "审批"),
            _l("规划许可", "受理", "审核", "勘验", "审批"),
        ),
    ),
    DepartmentSpec(
        "ZJ",
        "市住房和城乡建设局",
        "住建",
        "BL",
        (
            _l("施工许可", "受理", "审核", "审批"),
            _l("竣工验收备案", "受理", "勘验"),
        ),
    ),
    DepartmentSpec(
        "JT",
        "市交通运输局",
        "交通运输",
        "XZ",
        (
            _l("道路运输", "受理", "审核", "审批", "发证"),
            _l("公路占用", "受理", "收费"),
        ),
    ),
    DepartmentSpec(
        "SJ",
        "市市场监督管理局",
        "市场监管",
        "SW",
        (
            _l("企业登记", "咨询", "受理", "审核", "登记", "发证"),
            _l("食品经营", "受理", "勘验", "审批"),
        ),
    ),
    DepartmentSpec(
        "WJ",
        "市卫生健康委员会",
        "卫生健康",
        "XZ",
        (
            _l("医疗机构", "受理", "勘验", "审批"),
            _l("公共场所卫生", "受理", "审核", "发证"),
        ),
    ),
    DepartmentSpec(
        "HJ",
        "市生态环境局",
        "生态环境",
        "BL",
        (
            _l("环评", "受理", "审核", "审批"),
            _l("排污许可", "受理", "审核"),
        ),
    ),
    DepartmentSpec(
        "FG",
        "市发展和改革委员会",
        "发展改革",
        "BL",
        (
            _l("项目核准", "受理", "审核", "审批"),
            _l("项目备案", "受理", "登记"),
        ),
    ),
    DepartmentSpec(
        "JY",
        "市教育和体育局",
        "教育体育",
        "XZ",
        (
            _l("民办学校", "受理", "审核", "审批"),
            _l("教师资格", "受理", "发证"),
        ),
    ),
    DepartmentSpec("CZ", "市财政局", "财政", "GG", (_l("非税收入", "受理", "收费"),)),
    DepartmentSpec(
        "SL",
        "市水利局",
        "水利",
        "BL",
        (
            _l("取水许可", "受理", "审核", "审批"),
            _l("水土保持", "受理", "审核"),
        ),
    ),
    DepartmentSpec(
        "NY",
        "市农业农村局",
        "农业农村",
        "XZ",
        (
            _l("农药兽药经营", "受理", "审核", "发证"),
            _l("动物防疫条件", "受理", "勘验"),
        ),
    ),
    DepartmentSpec(
        "LY",
        "市林业局",
        "林业",
        "XZ",
        (
            _l("林木采伐", "受理", "审核", "审批"),
            _l("林地使用", "受理", "审核"),
        ),
    ),
    DepartmentSpec(
        "WL",
        "市文化广播电视和旅游局",
        "文广旅",
        "XZ",
        (
            _l("娱乐场所", "受理", "勘验", "审批"),
            _l("旅行社", "受理", "审核"),
        ),
    ),
    DepartmentSpec(
        "SWJ",
        "市商务局",
        "商务",
        "SW",
        (
            _l("外贸经营者", "受理", "登记"),
            _l("成品油经营", "受理", "审核", "审批"),
        ),
    ),
    DepartmentSpec(
        "YJ",
        "市应急管理局",
        "应急管理",
        "XZ",
        (
            _l("危险化学品", "受理", "勘验", "审核", "发证"),
            _l("安全生产", "受理", "审核"),
        ),
    ),
    DepartmentSpec(
        "CG",
        "市城市管理行政执法局",
        "城管执法",
        "GG",
        (
            _l("道路挖掘", "受理", "审核", "审批", "收费"),
            _l("户外广告", "受理", "审核"),
            _l("城管违法", "处罚"),
        ),
    ),
    DepartmentSpec(
        "SF",
        "市司法局",
        "司法",
        "ZJ",
        (
            _l("法律援助", "受理", "审核"),
            _l("公证", "受理", "审核", "收费"),
        ),
    ),
    DepartmentSpec(
        "GJJ",
        "市住房公积金管理中心",
        "公积金",
        "GG",
        (
            _l("公积金提取", "受理", "审核", "审批"),
            _l("公积金贷款", "受理", "审核", "审批"),
        ),
    ),
    DepartmentSpec(
        "BDC", "市不动产登记中心", "不动产登记", "GG", (_l("不动产", "受理", "审核", "登记", "收费", "发证"),)
    ),
    DepartmentSpec(
        "SW",
        "国家税务总局绵阳市税务局",
        "税务",
        "SW",
        (
            _l("税务登记", "受理", "登记"),
            _l("发票", "发证"),
            _l("申报纳税", "受理", "收费"),
        ),
    ),
    DepartmentSpec(
        "YB",
        "市医疗保障局",
        "医疗保障",
        "GG",
        (
            _l("医保登记", "受理", "审核"),
            _l("异地就医", "受理", "审核"),
        ),
    ),
    DepartmentSpec("QX", "市气象局", "气象", "BL", (_l("防雷装置", "受理", "审核", "审批"),)),
    DepartmentSpec("RF", "市人民防空办公室", "人防", "BL", (_l("人防工程", "受理", "审核", "审批", "收费"),)),
    DepartmentSpec("XF", "市消防救援支队", "消防", "BL", (_l("消防审验", "受理", "审核", "勘验", "审批"),)),
    DepartmentSpec(
        "JX",
        "市经济和信息化局",
        "经信",
        "BL",
        (
            _l("技改项目", "受理", "审核"),
            _l("电力设施", "受理", "审核"),
        ),
    ),
    DepartmentSpec("TY", "市退役军人事务局", "退役军人", "GG", (_l("优抚", "受理", "审核"),)),
    DepartmentSpec("CL", "市残疾人联合会", "残联", "GG", (_l("残疾人证", "受理", "审核", "发证"),)),
)

# Eight departments handled by delegation at the comprehensive window (委托办理), as in the seed.
DELEGATED_DEPARTMENTS: tuple[tuple[str, str], ...] = (
    ("MW", "市民族宗教事务委员会"),
    ("TJ", "市统计局"),
    ("KJ", "市科学技术局"),
    ("DA", "市档案馆"),
    ("FZ", "市防震减灾局"),
    ("YC", "市烟草专卖局"),
    ("WQ", "市外事侨务办公室"),
    ("YZ", "市邮政管理局"),
)

COMPREHENSIVE_KEY = "ZH"
COMPREHENSIVE_HALL = "XZ"
COMPREHENSIVE_WINDOW_NAME = "综合窗口"
# The chief representative (首席代表) approves on the delegating departments' behalf: he holds 委托审批岗.
COMPREHENSIVE_POSTS: tuple[tuple[str, str], ...] = (
    ("综合咨询岗", "解答委托事项咨询,发放办事指南,一次性告知所需材料"),
    ("综合受理岗", "统一受理八个委托部门的申请材料,核对齐全性和法定形式"),
    ("委托事项审核岗", "对委托事项进行审查,提出审核意见"),
    ("委托审批岗", "首席代表依《行政审批委托书》授权作出审批决定,对审批结果负责"),
    ("转报岗", "对初审转报省级事项进行初审并按时限上报"),
    ("综合发证岗", "制作、核发委托事项的证照和文书,登记发放台账"),
)
CHIEF_POST = "委托审批岗"
CHIEF_TITLE = "副调研员、综合窗口首席代表"

CITY_POST_TOTAL = 163  # the seed's screened posts

# The bureau that runs the centre: its leaders (局领导带班) and section-level cadres (科级干部值班).
BUREAU_LEADERS: tuple[str, ...] = ("局长", "副局长", "副局长", "副局长", "纪检组长")
SECTION_CADRES: tuple[str, ...] = (
    "办公室主任",
    "综合窗口管理科科长",
    "并联审批科科长",
    "监督检查科科长",
    "信息科科长",
    "政策法规科科长",
    "监督检查科副科长",
    "基层指导科科长",
)

# --- counties and parks ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DivisionSpec:
    key: str  # MY-<key>
    name: str
    kind: str  # county | park
    townships: int  # how many township centres in the full demo
    township_names: tuple[str, ...]  # real names known to us, used first; the rest are generated


# The nine county-level divisions (安州区 was 安县 until 2016) and the four parks. The seed gives the
# totals only (287 township/street centres); the split over divisions is ours, and towns a park
# administers on a county's behalf are listed under the park only.
DIVISIONS: tuple[DivisionSpec, ...] = (
    DivisionSpec(
        "FC",
        "涪城区",
        "county",
        14,
        (
            "城厢街道",
            "工区街道",
            "朝阳街道",
            "南山街道",
            "城郊街道",
            "吴家镇",
            "丰谷镇",
            "杨家镇",
            "关帝镇",
            "金峰镇",
            "玉皇镇",
        ),
    ),
    DivisionSpec(
        "YX",
        "游仙区",
        "county",
        20,
        (
            "富乐街道",
            "春雷街道",
            "游仙镇",
            "小枧沟镇",
            "魏城镇",
            "新桥镇",
            "石马镇",
            "忠兴镇",
            "刘家镇",
            "玉河镇",
            "信义镇",
            "柏林镇",
            "徐家镇",
            "街子镇",
        ),
    ),
    DivisionSpec(
        "AZ",
        "安州区",
        "county",
        19,
        (
            "花荄镇",
            "黄土镇",
            "秀水镇",
            "河清镇",
            "界牌镇",
            "桑枣镇",
            "睢水镇",
            "塔水镇",
            "晓坝镇",
            "千佛镇",
            "清泉镇",
            "永河镇",
            "乐兴镇",
            "宝林镇",
            "沸水镇",
            "高川乡",
        ),
    ),
    DivisionSpec(
        "JY",
        "江油市",
        "county",
        40,
        (
            "中坝镇",
            "太平镇",
            "三合镇",
            "含增镇",
            "青莲镇",
            "武都镇",
            "大康镇",
            "新安镇",
            "战旗镇",
            "彰明镇",
            "马角镇",
            "雁门镇",
            "小溪坝镇",
            "方水镇",
            "义新镇",
            "双河镇",
            "二郎庙镇",
            "九岭镇",
            "厚坝镇",
            "河口镇",
            "重华镇",
            "龙凤镇",
            "永胜镇",
            "西屏乡",
            "香水乡",
            "敬元乡",
            "大堰乡",
        ),
    ),
    DivisionSpec(
        "ST",
        "三台县",
        "county",
        60,
        (
            "潼川镇",
            "北坝镇",
            "芦溪镇",
            "花园镇",
            "塔山镇",
            "新德镇",
            "西平镇",
            "观桥镇",
            "刘营镇",
            "建平镇",
            "鲁班镇",
            "灵兴镇",
            "永明镇",
            "八洞镇",
            "秋林镇",
            "郪江镇",
            "古井镇",
            "景福镇",
            "富顺镇",
            "立新镇",
            "石安镇",
            "金石镇",
            "乐安镇",
            "安居镇",
            "中新镇",
        ),
    ),
    DivisionSpec(
        "YT",
        "盐亭县",
        "county",
        34,
        (
            "云溪镇",
            "富驿镇",
            "金孔镇",
            "两河镇",
            "八角镇",
            "黑坪镇",
            "玉龙镇",
            "高渠镇",
            "柏梓镇",
            "黄甸镇",
            "巨龙镇",
            "安家镇",
            "大兴回族乡",
            "毛公乡",
            "林山乡",
        ),
    ),
    DivisionSpec(
        "ZT",
        "梓潼县",
        "county",
        30,
        (
            "文昌镇",
            "长卿镇",
            "许州镇",
            "黎雅镇",
            "石牛镇",
            "自强镇",
            "卧龙镇",
            "演武乡",
            "双板乡",
            "豢龙乡",
            "交泰乡",
            "宏仁乡",
            "定远乡",
            "仁和乡",
            "马鸣乡",
        ),
    ),
    DivisionSpec(
        "BC",
        "北川羌族自治县",
        "county",
        22,
        (
            "永昌镇",
            "曲山镇",
            "擂鼓镇",
            "通口镇",
            "禹里镇",
            "陈家坝乡",
            "桂溪乡",
            "漩坪乡",
            "片口乡",
            "小坝乡",
            "坝底乡",
            "白什乡",
            "青片乡",
            "马槽乡",
            "都贯乡",
            "开坪乡",
            "香泉乡",
            "桃龙藏族乡",
            "安昌镇",
        ),
    ),
    DivisionSpec(
        "PW",
        "平武县",
        "county",
        24,
        (
            "龙安镇",
            "古城镇",
            "南坝镇",
            "响岩镇",
            "平通镇",
            "豆叩镇",
            "大桥镇",
            "水晶镇",
            "高村乡",
            "木座藏族乡",
            "白马藏族乡",
            "木皮藏族乡",
            "虎牙藏族乡",
            "锁江羌族乡",
            "阔达藏族乡",
        ),
    ),
    DivisionSpec("GX", "绵阳高新技术产业开发区", "park", 7, ("普明街道", "永兴镇", "磨家镇")),
    DivisionSpec("JK", "绵阳经济技术开发区", "park", 7, ("塘汛镇", "松垭镇", "新皂镇")),
    DivisionSpec("KC", "绵阳科创园区", "park", 5, ("青义镇",)),
    DivisionSpec("XH", "仙海水利风景区", "park", 5, ("沉抗镇",)),
)

TOWNSHIP_TOTAL = 287  # the seed's figure
DEFAULT_TOWNSHIPS_PER_DIVISION = 2

# What a county-level centre has (its departments carry the division's name); parks run 管委会 bureaus.
COUNTY_DEPARTMENTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("GA", "公安局", ("户籍受理岗", "出入境受理岗")),
    ("RS", "人力资源和社会保障局", ("社保受理岗", "社保审核岗")),
    ("SJ", "市场监督管理局", ("企业登记受理岗", "企业登记审核岗", "食品经营审批岗")),
    ("ZJ", "住房和城乡建设局", ("施工许可受理岗", "施工许可审批岗")),
)
PARK_DEPARTMENTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("JF", "经济发展局", ("项目备案受理岗", "项目核准审核岗")),
    ("GJ", "规划建设局", ("规划许可受理岗", "施工许可审批岗")),
    ("SS", "社会事业局", ("社会事务受理岗", "社保受理岗")),
)
POST_DUTIES_BY_STEP: tuple[tuple[str, str], ...] = (
    ("受理", "接收申请材料,核对齐全性和法定形式,出具受理通知书或一次性告知书"),
    ("审核", "对已受理的申请进行审查,提出审核意见"),
    ("审批", "依法依授权作出准予或不予许可的决定,在承诺时限内办结"),
)

TOWNSHIP_POSTS: tuple[tuple[str, str], ...] = (
    ("综合受理岗", "统一受理社保、民政、计生、农业等便民事项,一次性告知所需材料"),
    ("全程代办岗", "为群众代办需上级部门审批的事项,跟踪办理进度并送达结果"),
)

# Common village and community names, for the few demo village rooms (clearly generic).
VILLAGE_NAMES: tuple[str, ...] = (
    "新华村",
    "团结村",
    "红星村",
    "和平村",
    "光明村",
    "胜利村",
    "建设村",
    "长青社区",
    "幸福社区",
    "民主村",
)

# --- people -----------------------------------------------------------------------------------

SURNAMES: tuple[str, ...] = (
    "王",
    "李",
    "张",
    "刘",
    "陈",
    "杨",
    "黄",
    "赵",
    "吴",
    "周",
    "徐",
    "孙",
    "马",
    "朱",
    "胡",
    "郭",
    "何",
    "罗",
    "高",
    "林",
    "郑",
    "梁",
    "谢",
    "唐",
    "宋",
    "许",
    "邓",
    "冯",
    "韩",
    "曹",
    "曾",
    "彭",
    "蒋",
    "蔡",
    "贾",
    "丁",
    "魏",
    "薛",
    "叶",
    "阎",
    "余",
    "潘",
    "杜",
    "戴",
    "夏",
    "钟",
    "汪",
    "田",
    "任",
    "姜",
    "范",
    "方",
    "石",
    "姚",
    "谭",
    "廖",
    "邹",
    "熊",
    "金",
    "陆",
    "郝",
    "孔",
    "白",
    "崔",
)
GIVEN_CHARS: tuple[str, ...] = (
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀",
    "霞",
    "平",
    "刚",
    "桂",
    "英",
    "华",
    "玉",
    "兰",
    "萍",
    "红",
    "建",
    "文",
    "辉",
    "力",
    "斌",
    "宇",
    "浩",
    "凯",
    "鑫",
    "婷",
    "雪",
    "琳",
    "晨",
    "欣",
    "博",
    "佳",
    "怡",
    "思",
    "雨",
    "春",
    "志",
    "海",
    "波",
    "燕",
    "蓉",
    "川",
    "瑶",
    "彬",
    "俊",
    "倩",
    "莉",
    "峰",
    "林",
    "梅",
    "亮",
    "帆",
)
PHONE_PREFIXES: tuple[str, ...] = (
    "138",
    "139",
    "135",
    "136",
    "150",
    "151",
    "158",
    "180",
    "181",
    "189",
    "199",
)
