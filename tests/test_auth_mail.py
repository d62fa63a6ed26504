"""The mail outbox: every message is stored; it leaves by SMTP when configured, only once its
transaction commits; personal secrets are masked in the stored copy once sent."""

import email
import socketserver
import threading
from email.policy import default as default_policy

import pytest
import sqlalchemy as sa

from models import OutboxMessage, db
from sofi.services.mail import MASK, NOT_CONFIGURED, send_mail
from tests.helpers_auth import link_path, make_user, outbox, post_with_token


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: EHLO, MAIL, RCPT, DATA, QUIT."""

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self):
        self.reply("220 test ESMTP")
        lines, in_data = [], False
        while raw := self.rfile.readline():
            if in_data:
                if raw == b".\r\n":
                    self.server.received.append(b"".join(lines))
                    lines, in_data = [], False
                    self.reply("250 OK")
                else:
                    lines.append(raw[1:] if raw.startswith(b"..") else raw)
                continue
            command = raw[:4].upper()
            if command == b"EHLO":
                self.reply("250-test")
                self.reply("250 8BITMIME")
            elif command == b"DATA":
                in_data = True
                self.reply("354 Fin par <CRLF>.<CRLF>")
            elif command == b"RCPT" and b"refuse" in raw:
                self.reply("550 Destinataire inconnu")
            elif command == b"QUIT":
                self.reply("221 Au revoir")
                return
            else:
                self.reply("250 OK")


@pytest.fixture
def smtp_server(app, monkeypatch):
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    server.daemon_threads = True
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setitem(app.config, "SOFI_SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SOFI_SMTP_PORT", server.server_address[1])
    monkeypatch.setitem(app.config, "SOFI_MAIL_FROM", "SOFI <offre@cariforef-pdl.org>")
    yield server
    server.shutdown()
    server.server_close()


def test_without_smtp_the_message_is_stored_and_logged(session, caplog):
    send_mail("a@example.org", "Objet", "Corps du message")
    session.commit()
    (message,) = outbox()
    assert (message.recipient, message.subject, message.body) == ("a@example.org", "Objet", "Corps du message")
    assert message.created_at is not None and message.sent_at is None
    assert message.error == NOT_CONFIGURED
    assert "Corps du message" in caplog.text and "SMTP non configuré" in caplog.text


def test_a_rolled_back_action_sends_nothing(session, smtp_server):
    send_mail("a@example.org", "Objet", "Corps")
    session.rollback()
    send_mail("b@example.org", "Autre", "Corps")
    session.commit()
    assert [m.recipient for m in outbox()] == ["b@example.org"]
    assert len(smtp_server.received) == 1


def test_a_reset_link_is_sent_by_smtp_and_masked_afterwards(client, session, smtp_server):
    make_user()
    post_with_token(client, "/mot-de-passe/oubli", {"email": "of@example.org"})
    (received,) = smtp_server.received
    sent = email.message_from_bytes(received, policy=default_policy)
    assert sent["To"] == "of@example.org"
    assert sent["From"] == "SOFI <offre@cariforef-pdl.org>"
    assert sent["Subject"] == "SOFI : réinitialisation de votre mot de passe"
    body = sent.get_content()
    path = link_path(body)
    (stored,) = outbox("of@example.org")
    assert stored.sent_at is not None and stored.error is None
    token = path.rstrip("/").rsplit("/", 1)[1]
    assert token not in stored.body and MASK in stored.body
    assert client.get(path).status_code == 200  # the link itself still works


def test_a_refused_message_keeps_its_error(session, smtp_server):
    send_mail("refuse@example.org", "Objet", "Corps")
    send_mail("ok@example.org", "Objet", "Corps")
    session.commit()
    refused, accepted = outbox()
    assert refused.sent_at is None and "Refusé par le serveur SMTP" in refused.error
    assert accepted.sent_at is not None and accepted.error is None


def test_an_unreachable_server_is_recorded(app, session, monkeypatch):
    monkeypatch.setitem(app.config, "SOFI_SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SOFI_SMTP_PORT", 9)  # discard port: nothing listens
    send_mail("a@example.org", "Objet", "Corps")
    session.commit()
    (message,) = outbox()
    assert message.sent_at is None and "Connexion au serveur SMTP" in message.error


def test_headers_cannot_be_injected(session):
    for recipient in (
        "a@example.org\r\nBcc: pirate@example.org",
        "a@example.org, pirate@example.org",
        "pas-une-adresse",
    ):
        with pytest.raises(ValueError):
            send_mail(recipient, "Objet", "Corps")
    send_mail("a@example.org", "Objet\r\nBcc: pirate@example.org", "Corps")
    session.commit()
    stored = db.session.scalar(sa.select(OutboxMessage))
    assert stored.subject == "Objet Bcc: pirate@example.org"
