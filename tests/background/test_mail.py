"""E-mail copies of notices (engine/background/mail.py) through a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import dataclasses
import email
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner
from sqlalchemy import select

from engine.background import jobs, mail
from engine.base import clock
from engine.base.errors import FormInvalid
from engine.base.notice import Notice
from engine.base.periodic import Periodic
from engine.base.settings import Settings, SettingsInvalid, SmtpSettings
from engine.case.notifications import raise_notice
from engine.cli.main import main
from engine.people.accounts import disable_user, set_email
from engine.store.db import Database
from engine.store.models import Notification, User

SENDER = "tongban@shinan.gov.cn"


class Mailbox:
    """What the SMTP server accepted; addresses in `refuse` get 550 (no such mailbox)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=default))  # type: ignore[arg-type]
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def smtp_settings(settings: Settings, port: int) -> Settings:
    return dataclasses.replace(settings, smtp=SmtpSettings(host="127.0.0.1", port=port, security="none",
                                                           sender=SENDER, timeout=5))


@pytest.fixture
def mailbox(port: int) -> Iterator[Mailbox]:
    box = Mailbox()
    server = Controller(box, hostname="127.0.0.1", port=port)
    server.start()
    yield box
    server.stop()


def user_id(db: Database, username: str) -> int:
    with db.read() as session:
        return session.scalar(select(User.id).where(User.username == username))


def with_email(db: Database, username: str, address: str) -> int:
    with db.write() as session:
        set_email(session, username, address)
    return user_id(db, username)


def notify(db: Database, *usernames: str, subject: str = "task-1") -> None:
    notice = Notice("sla_warning", subject, "办件 370202QYSQ20261123000001“受理”即将到期",
                    "'受理' of case 370202QYSQ20261123000001 is due soon")
    with db.writing() as conn:
        raise_notice(conn, notice, [user_id(db, u) for u in usernames])


def states(db: Database) -> dict[str, tuple[str | None, int]]:
    with db.read() as session:
        rows = session.execute(select(User.username, Notification.mail_state, Notification.mail_attempts)
                               .join(User, User.id == Notification.user_id)).all()
    return {name: (state, attempts) for name, state, attempts in rows}


def test_a_notice_is_mailed_once_to_each_user_with_an_address(seeded: Database, smtp_settings: Settings,
                                                               mailbox: Mailbox) -> None:
    with_email(seeded, "window", " window@shinan.gov.cn ")
    notify(seeded, "window", "street")
    assert mail.sweep(smtp_settings, seeded) == 1
    assert mail.sweep(smtp_settings, seeded) == 0  # sent is sent
    [message] = mailbox.messages
    assert (message["From"], message["To"]) == (SENDER, "window@shinan.gov.cn")
    assert message["Subject"] == "【楼宇通办】办件 370202QYSQ20261123000001“受理”即将到期"
    body = message.get_content()
    assert body.index("即将到期") < body.index("is due soon")  # Chinese first, English below
    assert states(seeded) == {"window": ("sent", 1), "street": (None, 0)}  # street has no address


def test_a_notice_in_chinese_only_is_not_repeated() -> None:
    smtp = SmtpSettings(host="127.0.0.1", sender=SENDER)
    body = mail.message(smtp, mail.Mail(1, "a@b.cn", "有新的申请", "有新的申请", clock.now(), 0)).get_content()
    assert body.count("有新的申请") == 1


def test_an_unreachable_server_is_retried_with_back_off(seeded: Database, smtp_settings: Settings,
                                                        port: int) -> None:
    with_email(seeded, "window", "window@shinan.gov.cn")
    notify(seeded, "window")
    assert mail.sweep(smtp_settings, seeded) == 0  # nothing listens on the port yet
    assert states(seeded) == {"window": ("pending", 1)}
    clock.travel(timedelta(seconds=50))
    assert mail.sweep(smtp_settings, seeded) == 0 and states(seeded) == {"window": ("pending", 1)}  # not due yet
    box = Mailbox()
    server = Controller(box, hostname="127.0.0.1", port=port)
    server.start()
    try:
        clock.travel(timedelta(seconds=11))
        assert mail.sweep(smtp_settings, seeded) == 1
    finally:
        server.stop()
    assert len(box.messages) == 1 and states(seeded) == {"window": ("sent", 2)}


def test_attempts_end_in_failed(seeded: Database, smtp_settings: Settings) -> None:
    with_email(seeded, "window", "window@shinan.gov.cn")
    notify(seeded, "window")
    for attempt in range(mail.ATTEMPTS):
        mail.sweep(smtp_settings, seeded)
        clock.travel(mail.BACKOFF * 2 ** attempt + timedelta(seconds=1))
    assert states(seeded) == {"window": ("failed", mail.ATTEMPTS)}


def test_a_refused_mailbox_fails_at_once_and_the_others_still_go(seeded: Database, smtp_settings: Settings,
                                                                 mailbox: Mailbox) -> None:
    with_email(seeded, "window", "gone@shinan.gov.cn")
    with_email(seeded, "street", "street@shinan.gov.cn")
    mailbox.refuse.add("gone@shinan.gov.cn")
    notify(seeded, "window", "street")
    assert mail.sweep(smtp_settings, seeded) == 1
    assert [m["To"] for m in mailbox.messages] == ["street@shinan.gov.cn"]
    assert states(seeded) == {"window": ("failed", 1), "street": ("sent", 1)}


def test_a_notice_a_day_old_is_not_mailed(seeded: Database, smtp_settings: Settings, mailbox: Mailbox) -> None:
    """Turning mail on, or a day-long outage, must not flood inboxes with stale notices."""
    with_email(seeded, "window", "window@shinan.gov.cn")
    notify(seeded, "window")
    clock.travel(timedelta(days=1, seconds=1))
    assert mail.sweep(smtp_settings, seeded) == 0
    assert mailbox.messages == [] and states(seeded) == {"window": ("expired", 0)}


def test_no_mail_once_the_address_is_removed_or_the_user_disabled(seeded: Database, smtp_settings: Settings,
                                                                   mailbox: Mailbox) -> None:
    with_email(seeded, "window", "window@shinan.gov.cn")
    with_email(seeded, "street", "street@shinan.gov.cn")
    notify(seeded, "window", "street")
    with seeded.write() as session:
        set_email(session, "window", None)
        disable_user(session, "street")
    assert mail.sweep(smtp_settings, seeded) == 0
    assert mailbox.messages == [] and states(seeded) == {"window": (None, 0), "street": (None, 0)}


def test_without_smtp_settings_nothing_is_sent(seeded: Database, settings: Settings, mailbox: Mailbox) -> None:
    with_email(seeded, "window", "window@shinan.gov.cn")
    notify(seeded, "window")
    assert settings.smtp is None and mail.sweep(settings, seeded) == 0
    assert mailbox.messages == [] and states(seeded) == {"window": ("pending", 0)}


def test_the_embedded_mail_thread_sends_notices(seeded: Database, smtp_settings: Settings,
                                                mailbox: Mailbox) -> None:
    with_email(seeded, "window", "window@shinan.gov.cn")
    notify(seeded, "window")
    thread = Periodic("tongban-mail", lambda: mail.sweep(smtp_settings, seeded), 0.05)
    thread.start()
    try:
        for _ in range(100):
            if mailbox.messages:
                break
            threading.Event().wait(0.05)
    finally:
        thread.stop()
        thread.join(5)
    assert [m["To"] for m in mailbox.messages] == ["window@shinan.gov.cn"]


def test_the_beat_sends_mail_on_the_services_queue() -> None:
    entry = jobs.app.conf.beat_schedule["send-notice-mail"]
    assert entry["task"] == jobs.SEND_MAIL and entry["schedule"] == mail.EVERY
    assert jobs.app.amqp.router.route({}, jobs.SEND_MAIL)["queue"].name == jobs.SERVICES_QUEUE


def test_an_address_must_be_one(seeded: Database) -> None:
    with pytest.raises(FormInvalid) as caught, seeded.write() as session:
        set_email(session, "window", "window at shinan")
    assert caught.value.fields == {"/email": ["not an e-mail address"]}


def test_users_email_from_the_command_line(seeded: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TONGBAN_DATABASE_URL", seeded.url)
    cli = CliRunner()
    assert cli.invoke(main, ["users", "email", "window", "window@shinan.gov.cn"]).exit_code == 0
    listed = cli.invoke(main, ["users", "list", "--json"])
    assert "window@shinan.gov.cn" in listed.stdout
    refused = cli.invoke(main, ["users", "email", "window", "not-an-address"])
    assert refused.exit_code == 1 and "/email" in refused.output
    assert cli.invoke(main, ["users", "email", "window"]).exit_code == 0  # no address: mailing stops
    with seeded.read() as session:
        assert session.scalar(select(User.email).where(User.username == "window")) is None


@pytest.mark.parametrize(("env", "message"), [
    ({"TONGBAN_SMTP_HOST": "mail.example.cn"}, "TONGBAN_SMTP_FROM"),
    ({"TONGBAN_SMTP_HOST": "mail.example.cn", "TONGBAN_SMTP_FROM": SENDER, "TONGBAN_SMTP_SECURITY": "tls"},
     "TONGBAN_SMTP_SECURITY"),
    ({"TONGBAN_SMTP_HOST": "mail.example.cn", "TONGBAN_SMTP_FROM": SENDER, "TONGBAN_SMTP_PORT": "smtp"},
     "TONGBAN_SMTP_PORT"),
])
def test_bad_smtp_settings_are_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsInvalid, match=message):
        Settings.from_env(env)


def test_smtp_settings_defaults() -> None:
    assert Settings.from_env({}).smtp is None
    ssl = Settings.from_env({"TONGBAN_SMTP_HOST": "mail.example.cn", "TONGBAN_SMTP_FROM": SENDER,
                             "TONGBAN_SMTP_SECURITY": "ssl", "TONGBAN_SMTP_USER": "tongban"}).smtp
    assert ssl is not None and (ssl.port, ssl.security, ssl.user, ssl.password) == (465, "ssl", "tongban", None)
