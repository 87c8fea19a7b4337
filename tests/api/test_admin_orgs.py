"""The organisations page: syncing the district's list, and an enterprise's credit code checked on creation."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select, update

from engine.runtime.runtime import Runtime
from engine.store.models import Organisation
from tests.support.http import log_in


def test_the_sync_button_restores_the_listed_names_and_creates_the_missing(admin_client: FlaskClient,
                                                                           runtime: Runtime) -> None:
    with runtime.db.write() as session:
        session.execute(update(Organisation).where(Organisation.code == "street_bdh").values(name="旧名"))
        session.execute(Organisation.__table__.delete().where(Organisation.code == "street_jml"))
    csrf = log_in(admin_client, "admin")
    page = admin_client.post("/admin/orgs/sync", data={"csrf_token": csrf}, follow_redirects=True)
    assert "组织目录已同步：新建 1 个，更新 1 个" in page.get_data(as_text=True)
    with runtime.db.read() as session:
        names = dict(session.execute(select(Organisation.code, Organisation.name)).all())
    assert (names["street_bdh"], names["street_jml"]) == ("八大湖街道", "金门路街道")
    log_in(admin_client, "window")
    assert admin_client.post("/admin/orgs/sync", data={"csrf_token": csrf}).status_code in (400, 403)


def test_an_enterprise_with_an_invalid_credit_code_is_refused_naming_the_field(admin_client: FlaskClient,
                                                                              runtime: Runtime) -> None:
    csrf = log_in(admin_client, "admin")
    form = {"code": "ent_new", "name": "青岛新企业有限公司", "kind": "enterprise", "csrf_token": csrf}
    page = admin_client.post("/admin/orgs", data={**form, "credit_code": "91370202MA3C4XY01K"}, follow_redirects=True)
    assert "/credit_code" in page.get_data(as_text=True) and "GB 32100" in page.get_data(as_text=True)
    with runtime.db.read() as session:
        assert session.scalar(select(Organisation).where(Organisation.code == "ent_new")) is None
    admin_client.post("/admin/orgs", data={**form, "credit_code": "91370202MA3C4XY01E"})
    with runtime.db.read() as session:
        assert session.scalar(select(Organisation.credit_code).where(Organisation.code == "ent_new")) == \
            "91370202MA3C4XY01E"
