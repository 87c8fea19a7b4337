"""The ZZS application as a person types it into the start form (the browser tests)."""

from __future__ import annotations

APPLICATION = {
    "applicant_name": "青岛海韵科技有限公司", "credit_code": "91370202MA3C4XY01E", "agent_name": "张明",
    "agent_id": "370202198506120012", "mobile": "13805320001",
    "address.street_office": "street_bdq", "address.community": "团岛社区", "address.road": "团岛二路",
    "address.number": "16号", "address.building": "2号楼1单元", "address.room": "801室",
    "property_cert_no": "鲁(2021)青岛市市南区不动产权第0031276号", "certified_use": "住宅", "tenure": "own",
    "industry_code": "6513", "business_scope": "应用软件开发；信息技术咨询服务",
    "other_owners": "23", "consenting_owners": "22", "commitment": "true",
    "crowded_place": "true",  # a training room for the public: the fire brigade reviews too
}

