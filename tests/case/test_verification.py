"""Verification codes: every issued document has its own unguessable code, printed in its text and PDF footer and
as a QR code of the public verify address; documents issued before the codes existed get one in the migration."""

from __future__ import annotations

import dataclasses
import shutil
import sqlite3
import subprocess
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import select

from engine.case import documents, verification
from engine.design.scenarios import Runner, load
from engine.runtime.runtime import Runtime
from engine.store.db import Database, alembic_config
from engine.store.models import Document
from tests.support.repo import REPO, repo_files
from tests.support.shipped import ANSWER, answered

PUBLIC = "https://tongban.shinan.gov.cn"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _codes(runtime: Runtime) -> list[str]:
    with runtime.db.reading() as conn:
        return list(conn.execute(select(Document.verification_code).order_by(Document.id)).scalars())


def test_each_document_gets_its_own_code_of_the_unambiguous_alphabet(runtime: Runtime) -> None:
    for _ in range(3):
        answered(runtime)
    codes = _codes(runtime)
    assert len(codes) == 3 and len(set(codes)) == 3
    assert all(len(c) == verification.LENGTH and set(c) <= set(verification.ALPHABET) for c in codes)
    assert not set(verification.ALPHABET) & set("0O1IL")  # nothing a reader could take for another character


def test_the_text_and_pdf_carry_the_code_and_the_qr_code_of_the_verify_address(runtime: Runtime,
                                                                              tmp_path: Path) -> None:
    runtime.settings = dataclasses.replace(runtime.settings, public_url=PUBLIC)
    instance, _ = answered(runtime)
    doc = runtime.document(instance, "qysq_answer", runtime.actor("haiyun"))
    [code] = _codes(runtime)
    url = f"{PUBLIC}/verify/{verification.display(code)}"
    assert doc.verify_url == url and f"文书验证码：{verification.display(code)}" in doc.text and url in doc.text
    pdf = doc.pdf()
    assert pdf.startswith(b"%PDF")
    if not (shutil.which("pdftoppm") and shutil.which("zbarimg")):
        pytest.skip("poppler-utils and zbar-tools read the printed QR code back")
    (tmp_path / "doc.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", str(tmp_path / "doc.pdf"),
                    str(tmp_path / "page")], check=True)
    [page] = tmp_path.glob("page*.png")
    scanned = subprocess.run(["zbarimg", "-q", "--raw", str(page)], capture_output=True, text=True, check=True)
    assert scanned.stdout.strip() == url


def test_a_code_is_found_as_typed_and_nothing_else_is(runtime: Runtime) -> None:
    _, case_number = answered(runtime)
    [code] = _codes(runtime)
    tz = runtime.settings.timezone
    with runtime.db.reading() as conn:
        for typed in (code, code.lower(), verification.display(code), " ".join(verification.display(code))):
            found = documents.verified(conn, typed, tz)
            assert found is not None and (found.case_number, found.title) == (case_number, "诉求答复告知书")
            assert ANSWER["answer"] not in repr(found)  # the body is never told
        other = code[:-1] + next(c for c in verification.ALPHABET if c != code[-1])
        for miss in (other, code[:-1], code + "2", "0" * 16, "O" * 16, "", "x" * 10_000, code[:8] + "\x00" * 8,
                     "２" * 16, "%" * 16):
            assert documents.verified(conn, miss, tz) is None


def test_the_migration_gives_documents_issued_before_it_a_code_each(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = alembic_config(db)
    command.upgrade(cfg, "0014")
    raw = sqlite3.connect(tmp_path / "old.db")  # a case of an older release, with the documents it was issued
    now = "2026-11-01 01:00:00.000000"
    raw.execute("INSERT INTO organisations (id, code, name, kind) VALUES (1, 'xzsp', '市南区行政审批服务局', "
                "'department')")
    raw.execute("INSERT INTO users (id, username, display_name, org_id, disabled, created_at) "
                "VALUES (1, 'u', 'u', 1, 0, ?)", (now,))
    raw.execute("INSERT INTO process_versions (id, process_key, version, content_hash, code, name_zh, name_en, files, "
                "deployed_at) VALUES (1, 'zzs', 1, 'h', 'ZZS', '住转商', 'ZZS', '{}', ?)", (now,))
    raw.execute("INSERT INTO instances (id, case_number, process_key, version_id, status, started_by, created_at, "
                "updated_at, version, state) VALUES (1, '370202ZZS20261101000001', 'zzs', 1, 'completed', 1, ?, ?, "
                "1, x'00')", (now, now))
    raw.executemany("INSERT INTO documents (instance_id, task_id, element_id, name, seq, title, office, case_number, "
                    "issued_at, text) VALUES (1, ?, 'end', 'n', 1, '受理通知书', '市南区行政审批服务局', ?, "
                    "'2026-11-01 01:00:00.000000', '正文')",
                    [(f"task-{i}", f"370202ZZS20261101{i:06d}") for i in range(5)])
    raw.commit()
    raw.close()
    command.upgrade(cfg, "head")
    with db.reading() as conn:
        codes = list(conn.execute(select(Document.verification_code)).scalars())
        assert len(set(codes)) == 5 and all(verification.normalise(c) == c for c in codes)
        assert documents.verified(conn, codes[0], SHANGHAI).case_number.startswith("370202ZZS20261101")
    command.downgrade(cfg, "0014")
    command.upgrade(cfg, "head")
    db.dispose()



def _issued(runtime: Runtime, case_number: str) -> list[tuple[str, int, str]]:
    with runtime.db.reading() as conn:
        return [(r.name, r.seq, r.verification_code) for r in conn.execute(
            select(Document.name, Document.seq, Document.verification_code)
            .where(Document.case_number == case_number).order_by(Document.id))]


def _played(tmp_path: Path, *paths: str) -> tuple[Runner, str]:
    """The shipped scenarios played on one database; the case number of the last one's case."""
    runner = Runner(repo_files(), tmp_path)
    for path in paths:
        result = runner.run(load(REPO / "processes" / path))
        assert result.passed, (path, result.message)
    with runner.runtime.db.reading() as conn:
        last = conn.execute(select(Document.case_number).order_by(Document.id.desc()).limit(1)).scalar_one()
    return runner, last


def test_papers_of_a_revoked_registration_verify_as_revoked_the_revocation_decision_as_valid(tmp_path: Path) -> None:
    """ZZS 03: 备案通过, then a complaint, 陈述申辩 and 撤销备案. The pre-registration receipt and the earlier notices
    still verify as genuine, but say the registration was revoked, and when; the revocation decision stands."""
    runner, case_number = _played(tmp_path, "zzs/scenarios/03_complaint_statement_revoked.yaml")
    try:
        with runner.runtime.context.entered(), runner.runtime.db.reading() as conn:
            issued = _issued(runner.runtime, case_number)
            answers = {name: documents.verified(conn, code, SHANGHAI) for name, _, code in issued}
    finally:
        runner.close()
    revocation = answers.pop("zzs_revocation")
    assert revocation is not None and revocation.standing.status == "valid" and revocation.standing.since is None
    assert "zzs_receipt" in answers
    for name, found in answers.items():
        assert found is not None and found.standing.status == "revoked", name
        assert found.standing.since == revocation.issued_on and found.issued_on <= revocation.issued_on
        assert f"已于{revocation.issue_date}被撤销" in found.standing.zh
        assert f"revoked on {revocation.issued_on.isoformat()}" in found.standing.en


def test_a_reissued_document_verifies_as_superseded_by_the_later_issue(tmp_path: Path) -> None:
    """LYJJ-P 02: a substantiated objection sends the project back to the vote, and the approval decision and the
    public notice are issued again: the first issue verifies as superseded (when, by which issue), the second as
    valid."""
    runner, case_number = _played(tmp_path, "lyjj_p/scenarios/00a_fund_pledge.yaml",
                                  "lyjj_p/scenarios/00c_fund_party_fee.yaml",
                                  "lyjj_p/scenarios/02_lift_owners_vote_party_review_objection.yaml")
    try:
        with runner.runtime.context.entered(), runner.runtime.db.reading() as conn:
            issued = _issued(runner.runtime, case_number)
            decisions = [(seq, documents.verified(conn, code, SHANGHAI))
                         for name, seq, code in issued if name == "lyjj_approval_decision"]
    finally:
        runner.close()
    assert [seq for seq, _ in decisions] == [1, 2]
    (_, first), (_, second) = decisions
    assert first is not None and second is not None
    assert first.standing.status == "superseded" and first.standing.since == second.issued_on
    assert "第 2 次出具" in first.standing.zh and "superseded on" in first.standing.en
    assert second.standing.status == "valid" and second.standing.zh == "本文书现行有效。"
