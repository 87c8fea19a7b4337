"""The demo district (DOMAIN.md): organisations and one user per role, for `tongban demo` and scenarios."""

from __future__ import annotations

#: Demo organisations (DOMAIN.md): two enterprises, the departments and the offices.
DEMO_ORGS = [
    ("ent_haiyun", "青岛海韵科技有限公司", "enterprise", "91370202MA3C4XY01K"),
    ("ent_fushan", "青岛浮山湾贸易有限公司", "enterprise", "91370202MA3D5ABC2L"),
    ("xzsp", "市南区行政审批服务局", "department", None),
    ("zhujian", "市南区住房和城乡建设局", "department", None),
    ("xiaofang", "市南区消防救援大队", "department", None),
    ("shichang", "市南区市场监督管理局", "department", None),
    ("weijian", "市南区卫生健康局", "department", None),
    ("yancao", "市南区烟草专卖局", "department", None),
    ("chengguan", "市南区城市管理局", "department", None),
    ("street_bdq", "八大峡街道办事处", "office", None),
    ("street_xgzl", "香港中路街道办事处", "office", None),
    ("street_zs", "湛山街道办事处", "office", None),
    ("qyfw", "市南区企业服务中心", "office", None),
    ("duchashi", "市南区督查室", "office", None),
    ("platform", "楼宇通办平台运维", "department", None),
]

#: One demo user per role, in the organisation the role belongs to.
DEMO_USERS = [
    ("haiyun", "ent_haiyun", ["applicant"]),
    ("fushan", "ent_fushan", ["applicant"]),
    ("window", "xzsp", ["window_clerk"]),
    ("street", "street_bdq", ["street_staff"]),
    ("street_xgzl", "street_xgzl", ["street_staff"]),
    ("zhujian", "zhujian", ["reviewer_zhujian"]),
    ("xiaofang", "xiaofang", ["reviewer_xiaofang"]),
    ("shichang", "shichang", ["reviewer_shichang"]),
    ("weijian", "weijian", ["reviewer_weijian"]),
    ("yancao", "yancao", ["reviewer_yancao"]),
    ("chengguan", "chengguan", ["reviewer_chengguan"]),
    ("dispatcher", "qyfw", ["dispatcher"]),
    ("handler", "chengguan", ["handler"]),
    ("secretariat", "street_bdq", ["fund_secretariat"]),
    ("streetfinance", "street_bdq", ["street_finance"]),
    ("committee", "street_bdq", ["fund_committee"]),
    ("partycommittee", "street_bdq", ["party_committee"]),
    ("streetparty", "street_bdq", ["street_party_committee"]),
    ("inspector", "duchashi", ["inspection_office"]),
    ("designer", "platform", ["designer"]),
    ("admin", "platform", ["admin"]),
]
