"""E-mail copies of in-app notices, when an SMTP server is configured (TONGBAN_SMTP_HOST).

The notifications table is the outbox: a notice to a user with an address is raised with its mail
`pending`, in the transaction of the step or sweep that raised it, and this sweep sends it
afterwards — so a slow or unreachable mail server never holds up or loses a step.  Claiming leases
the rows, as the timer sweep does, so two sweepers never send the same notice; a sweeper that dies
between sending and recording sends it again after the lease (at least once).  A temporary failure
(no connection, a 4xx reply) is retried with back-off; a permanent one (5xx, e.g. an unknown
mailbox) marks the mail failed.  A notice not mailed within a day is not mailed at all: by then it
is stale, and turning mailing on must not flood inboxes with old notices.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from sqlalchemy import Connection, select, update

from engine.base.clock import now
from engine.base.settings import Settings, SmtpSettings
from engine.base.vocabulary import MailState
from engine.store.db import Database
from engine.store.models import Notification, User

log = logging.getLogger(__name__)

EVERY = 10.0  # seconds between sweeps: the beat's `send_mail` job, the embedded server's mail thread
MAX_AGE = timedelta(days=1)
ATTEMPTS = 6  # then failed: 1 + 2 + 4 + 8 + 16 minutes of trying
BACKOFF = timedelta(minutes=1)
SUBJECT_PREFIX = "【楼宇通办】"


@dataclass(frozen=True)
class Mail:
    notification_id: int
    to: str
    text_zh: str
    text_en: str
    created_at: datetime
    attempts: int


def claim(db: Database, lease: timedelta, limit: int = 50) -> list[Mail]:
    """Lease up to `limit` due mails (expiring the stale ones); the caller sends them and records how it went."""
    at = now()
    pending = Notification.mail_state == MailState.PENDING
    due = db.skip_locked(select(Notification.id).where(pending, Notification.mail_next_at <= at)
                         .order_by(Notification.mail_next_at).limit(limit))
    unreachable = select(User.id).where(User.email.is_(None) | User.disabled)  # address removed, or user disabled
    with db.writing() as conn:
        conn.execute(update(Notification).where(pending, Notification.created_at < at - MAX_AGE)
                     .values(mail_state=MailState.EXPIRED, mail_next_at=None))
        conn.execute(update(Notification).where(pending, Notification.user_id.in_(unreachable))
                     .values(mail_state=None, mail_next_at=None))
        ids = conn.execute(due).scalars().all()
        if not ids:
            return []
        conn.execute(update(Notification).where(Notification.id.in_(ids)).values(mail_next_at=at + lease))
        rows = conn.execute(select(Notification.id, User.email, Notification.text_zh, Notification.text_en,
                                   Notification.created_at, Notification.mail_attempts)
                            .join(User, User.id == Notification.user_id).where(Notification.id.in_(ids))
                            .order_by(Notification.id)).all()
    return [Mail(*row) for row in rows]


def message(smtp: SmtpSettings, mail: Mail) -> EmailMessage:
    """Chinese first, English below; plain text, so any mail client shows it as written."""
    msg = EmailMessage()
    msg["From"] = smtp.sender
    msg["To"] = mail.to
    msg["Subject"] = SUBJECT_PREFIX + mail.text_zh
    msg["Date"] = format_datetime(mail.created_at)
    msg["Message-ID"] = make_msgid(f"notice{mail.notification_id}", domain=smtp.sender.rsplit("@", 1)[1])
    english = f"{mail.text_en}\n\n" if mail.text_en != mail.text_zh else ""  # a notice given in Chinese only
    msg.set_content(f"{mail.text_zh}\n\n{english}"
                    "——\n此邮件由楼宇通办系统发送，请登录系统办理，勿直接回复。\n"
                    "Sent by tongban; please sign in to act on it, do not reply to this message.\n")
    return msg


def _connect(smtp: SmtpSettings) -> smtplib.SMTP:
    context = ssl.create_default_context()
    if smtp.security == "ssl":
        server: smtplib.SMTP = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout, context=context)
    else:
        server = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
        if smtp.security == "starttls":
            server.starttls(context=context)
    if smtp.user:
        server.login(smtp.user, smtp.password or "")
    return server


def _record(conn: Connection, mail: Mail, state: MailState, next_at: datetime | None) -> None:
    conn.execute(update(Notification).where(Notification.id == mail.notification_id)
                 .values(mail_state=state, mail_next_at=next_at, mail_attempts=Notification.mail_attempts + 1))


def _failed(conn: Connection, mail: Mail, at: datetime, error: Exception, permanent: bool) -> None:
    """A permanent refusal, or the last attempt, is final; otherwise the next attempt is backed off."""
    attempt = mail.attempts + 1
    if permanent or attempt >= ATTEMPTS:
        log.error("通知邮件发送失败 (notice %s to %s not mailed, attempt %d): %s", mail.notification_id, mail.to,
                  attempt, error)
        _record(conn, mail, MailState.FAILED, None)
    else:
        log.warning("通知邮件暂未发出，稍后重试 (notice %s to %s, attempt %d, retried later): %s",
                    mail.notification_id, mail.to, attempt, error)
        _record(conn, mail, MailState.PENDING, at + BACKOFF * 2 ** (attempt - 1))


def send(smtp: SmtpSettings, db: Database, mails: list[Mail]) -> int:
    """Send claimed mails over one connection; returns how many the server accepted."""
    outcomes: list[tuple[Mail, Exception | None, bool]] = []
    try:
        server = _connect(smtp)
    except (OSError, smtplib.SMTPException) as exc:  # no server, refused, TLS or login failed: all later
        permanent = isinstance(exc, smtplib.SMTPAuthenticationError)
        outcomes = [(mail, exc, permanent) for mail in mails]
    else:
        with server:
            for mail in mails:
                try:
                    server.send_message(message(smtp, mail))
                    outcomes.append((mail, None, False))
                except smtplib.SMTPRecipientsRefused as exc:
                    code = next(iter(exc.recipients.values()))[0]
                    outcomes.append((mail, exc, code >= 500))
                except smtplib.SMTPResponseException as exc:
                    outcomes.append((mail, exc, exc.smtp_code >= 500))
                except (OSError, smtplib.SMTPException) as exc:  # the connection broke: this and the rest later
                    outcomes += [(m, exc, False) for m in mails[len(outcomes):]]
                    break
    at = now()
    with db.writing() as conn:
        for mail, error, permanent in outcomes:
            if error is None:
                _record(conn, mail, MailState.SENT, None)
            else:
                _failed(conn, mail, at, error, permanent)
    return sum(error is None for _, error, _ in outcomes)


def sweep(settings: Settings, db: Database) -> int:
    """Mail what is due, batch after batch; nothing when no SMTP server is configured."""
    if settings.smtp is None:
        return 0
    sent = 0
    while mails := claim(db, settings.timer_lease):
        sent += send(settings.smtp, db, mails)
    return sent
