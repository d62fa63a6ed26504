"""Helpers of the accounts tests: users, the mail outbox, links found in e-mails, session state."""

import re
from urllib.parse import urlsplit

import sqlalchemy as sa

from models import Membership, OutboxMessage, Role, User, db
from tests.web import csrf_token, text

PASSWORD = "un-mot-de-passe-solide"
CSRF_URL = "/mot-de-passe/oubli"  # a page with a form that anybody may open


def make_user(email="of@example.org", password=PASSWORD, role=Role.ORGANISATION, organisations=(), active=True):
    user = User(email=email, role=role, active=active, nom="Martin", prenom="Claire")
    user.set_password(password)
    user.memberships = [Membership(organisation=organisation) for organisation in organisations]
    db.session.add(user)
    db.session.commit()
    return user


def attempt_login(client, email, password=PASSWORD, next_url=None, **kwargs):
    """POST the login form (CSRF token from the login page); returns the response, not followed."""
    url = "/login" + (f"?next={next_url}" if next_url else "")
    token = csrf_token(client, url)
    return client.post(url, data={"csrf_token": token, "email": email, "password": password}, **kwargs)


def post_with_token(client, url, data, token_url=CSRF_URL, **kwargs):
    return client.post(url, data={"csrf_token": csrf_token(client, token_url), **data}, **kwargs)


def logged_in_user_id(client) -> str | None:
    with client.session_transaction() as http_session:
        return http_session.get("_user_id")


def outbox(recipient: str | None = None) -> list[OutboxMessage]:
    db.session.expire_all()
    query = sa.select(OutboxMessage).order_by(OutboxMessage.id)
    if recipient is not None:
        query = query.where(OutboxMessage.recipient == recipient)
    return list(db.session.scalars(query))


def link_path(body: str) -> str:
    """Path of the (single) SOFI link in an e-mail body."""
    urls = re.findall(r"https?://\S+", body)
    assert len(urls) == 1, urls
    return urlsplit(urls[0]).path


def location_path(response) -> str:
    return urlsplit(response.headers["Location"]).path


def page(client, url) -> str:
    return text(client.get(url, follow_redirects=True))


def without_tokens(html: str) -> str:
    """A page with its CSRF token removed, to compare two answers."""
    return re.sub(r'name="csrf_token"[^>]*>', "", html)
