"""Outgoing e-mail. Every message is stored in the outbox table (``mail_outbox``) as part of
the transaction that produced it, and delivered only once that transaction commits: a
rolled-back action sends nothing.

Delivery uses SMTP when ``SOFI_SMTP_HOST`` is set (``SOFI_SMTP_PORT``, ``SOFI_SMTP_USER``,
``SOFI_SMTP_PASSWORD``, ``SOFI_MAIL_FROM``); otherwise the message is written to the
application log (development). The outcome is recorded on the outbox row (``sent_at`` or
``error``). A message carrying a personal secret (reset link, activation key) is stored
with ``sensitive`` set, and the secret is masked in the stored body once the message has been
handed to the SMTP server.
"""

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session as OrmSession

from models import OutboxMessage, db
from models.base import utcnow

PENDING_KEY = "sofi_mail_pending"
MASK = "[masqué après envoi]"
NOT_CONFIGURED = "SMTP non configuré (SOFI_SMTP_HOST) : message écrit dans le journal de l'application."
SMTP_TIMEOUT_SECONDS = 15


@dataclass(frozen=True)
class _Pending:
    id: int
    to: str
    subject: str
    body: str
    secrets: tuple[str, ...]


def _one_line(value: str) -> str:
    """Header values on one line (no header injection through a subject or an address)."""
    return " ".join((value or "").split())


def send_mail(to: str, subject: str, body: str, *, secrets: tuple[str, ...] | list[str] = ()) -> OutboxMessage:
    """Store a message in the outbox; it leaves when the current transaction commits.

    ``secrets`` lists the personal values the body carries (a token, a key): they mark the
    message as sensitive and are masked in the stored body after delivery.
    """
    to, subject = (to or "").strip(), _one_line(subject)[:255]
    if len(to) > 255 or to.count("@") != 1 or any(ch.isspace() or ch in ',;<>"' for ch in to):
        raise ValueError(f"Adresse de destinataire invalide : {to!r}")
    message = OutboxMessage(recipient=to, subject=subject, body=body, sensitive=bool(secrets))
    if not current_app.config.get("SOFI_SMTP_HOST"):
        message.error = NOT_CONFIGURED
    db.session.add(message)
    db.session.flush()
    db.session.info.setdefault(PENDING_KEY, []).append(
        _Pending(message.id, to, subject, body, tuple(s for s in secrets if s))
    )
    return message


def external_url(endpoint: str, **values) -> str:
    """Absolute link for an e-mail, built on ``SOFI_BASE_URL`` (never on the request's Host header)."""
    base = urlsplit(current_app.config.get("SOFI_BASE_URL") or "http://127.0.0.1:5000")
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https")
    return adapter.build(endpoint, values, force_external=True)


@sa.event.listens_for(OrmSession, "after_commit")
def _deliver_after_commit(session):
    if session.in_nested_transaction():  # a SAVEPOINT was released; the real commit comes later
        return
    pending = session.info.pop(PENDING_KEY, None)
    if pending:
        _deliver(pending)


@sa.event.listens_for(OrmSession, "after_rollback")
def _forget_after_rollback(session):
    if not session.in_nested_transaction():
        session.info.pop(PENDING_KEY, None)


def _mask(body: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        body = body.replace(secret, MASK)
    return body


def _deliver(pending: list[_Pending]) -> None:
    app = current_app._get_current_object()
    config = app.config
    if not config.get("SOFI_SMTP_HOST"):
        for item in pending:
            app.logger.warning(
                "E-mail non envoyé (SMTP non configuré) n° %s\nÀ : %s\nObjet : %s\n\n%s",
                item.id,
                item.to,
                item.subject,
                item.body,
            )
        return
    outcomes = _send_by_smtp(config, pending)
    table = OutboxMessage.__table__
    with db.engine.begin() as connection:
        for item, error in zip(pending, outcomes, strict=True):
            values = {"sent_at": utcnow() if error is None else None, "error": error}
            if item.secrets:
                values["body"] = _mask(item.body, item.secrets)
            connection.execute(sa.update(table).where(table.c.id == item.id).values(**values))
    for item, error in zip(pending, outcomes, strict=True):
        if error:
            app.logger.error("Échec de l'envoi de l'e-mail n° %s à %s : %s", item.id, item.to, error)


def _build(config, item: _Pending) -> EmailMessage:
    message = EmailMessage()
    message["From"] = config.get("SOFI_MAIL_FROM") or "offre@cariforef-pdl.org"
    message["To"] = item.to
    message["Subject"] = item.subject
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain="sofi")
    message.set_content(item.body)
    return message


def _send_by_smtp(config, pending: list[_Pending]) -> list[str | None]:
    """Send every message on one connection; returns the error of each (``None`` when sent)."""
    host, port = config["SOFI_SMTP_HOST"], int(config.get("SOFI_SMTP_PORT") or 25)
    user, password = config.get("SOFI_SMTP_USER"), config.get("SOFI_SMTP_PASSWORD")
    context = ssl.create_default_context()
    try:
        if port == 465:
            smtp = smtplib.SMTP_SSL(host, port, timeout=SMTP_TIMEOUT_SECONDS, context=context)
        else:
            smtp = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT_SECONDS)
    except (OSError, smtplib.SMTPException) as error:
        return [f"Connexion au serveur SMTP {host}:{port} impossible : {error}"] * len(pending)
    outcomes: list[str | None] = []
    try:
        smtp.ehlo()
        if port != 465 and smtp.has_extn("starttls"):
            smtp.starttls(context=context)
            smtp.ehlo()
        if user:
            smtp.login(user, password or "")
        for item in pending:
            try:
                smtp.send_message(_build(config, item), to_addrs=[item.to])
                outcomes.append(None)
            except (smtplib.SMTPException, ValueError) as error:
                outcomes.append(f"Refusé par le serveur SMTP : {error}")
    except (OSError, smtplib.SMTPException) as error:
        outcomes.extend([f"Échec SMTP : {error}"] * (len(pending) - len(outcomes)))
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()
    return outcomes
