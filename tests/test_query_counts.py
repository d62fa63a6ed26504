"""The main pages run a fixed number of queries, whatever the number of rows they show.

Each page is requested on a data set of 5 sessions and again on one of 50 (built by
``flask sofi generate``); the number of SQL statements must be the same: no query per row.
"""

import contextlib
import re
import uuid
from datetime import date
from html import unescape

import pytest
import sqlalchemy as sa
from flask import current_app

from models import Organisation, PublishedAction, db
from sofi.services.users import create_user
from tests.conftest import REFERENCE_TABLES
from tests.web import login, logout

PASSWORD = "generated-2026"
# The API limits requests per address (the whole suite shares 127.0.0.1): API calls use their own.
OWN_ADDRESS = {"REMOTE_ADDR": f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.8"}


def get(client, url: str):
    """GET ``url``; API requests from an address of their own (pages keep the login's address)."""
    return client.get(url, environ_base=OWN_ADDRESS) if url.startswith("/api/") else client.get(url)


# (formations, actions per formation, sessions per action): 5 sessions, then 50 in one formation.
SMALL = (1, 5, 1)
LARGE = (1, 10, 5)


@contextlib.contextmanager
def counting(wanted=lambda statement, parameters: True):
    """The SQL statements sent to the database inside the block (those ``wanted``)."""
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if wanted(statement, parameters):
            statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)


def _offset(statement: str, parameters) -> int:
    """The number of rows a statement skips with OFFSET (0 when it has none)."""
    named = re.search(r"OFFSET %\((\w+)\)s", statement)
    if named:
        return int(parameters[named.group(1)])
    return int(parameters[-1]) if re.search(r"OFFSET \?\s*$", statement) else 0


def _empty_offer() -> None:
    db.session.rollback()
    for table in reversed(db.metadata.sorted_tables):
        if table.name not in REFERENCE_TABLES | {"audit_event"}:
            db.session.execute(table.delete())
    db.session.commit()
    db.session.expunge_all()


def filter_arg(endpoint: str, column: str, kind: str) -> str:
    """The URL argument of a Flask-Admin list filter (``flt0_<arg>=value``)."""
    view = next(v for v in current_app.extensions["admin"][0]._views if getattr(v, "endpoint", None) == endpoint)
    return next(
        key
        for key, (_index, flt) in view._filter_args.items()
        if getattr(flt.column, "key", None) == column and type(flt).__name__ == kind
    )


def filtered_sessions_url() -> str:
    """The sessions of the organisation with open recruitment ending after today, by date de fin."""
    etat = filter_arg("sessions", "etat_recrutement", "FilterEqual")
    after = filter_arg("sessions", "date_fin", "DateGreaterFilter")
    return f"/admin/sessions/?sort=5&desc=1&flt0_{etat}=1&flt1_{after}={date.today().isoformat()}"


def _pages(formation_id: int) -> dict[str, tuple[str | None, str]]:
    """Page name → (who requests it, URL)."""
    return {
        "organisation session list": ("of", "/admin/sessions/"),
        "organisation session list, filtered and sorted": ("of", filtered_sessions_url()),
        "dashboard": ("of", "/admin/"),
        "validator queue": ("validator", "/admin/validation/"),
        "global session list": ("validator", "/admin/sessions/"),
        "catalogue search": (None, "/formations?q=formation&certifiante=non&modalite=0"),
        "catalogue home": (None, "/"),
        "formation detail": (None, f"/formations/{formation_id}"),
        "API list": (None, "/api/v1/formations?limite=20"),
        "API detail": (None, f"/api/v1/formations/{formation_id}"),
    }


def _measure(cli, client, shape) -> dict[str, int]:
    formations, actions, sessions = shape
    result = cli(
        "sofi", "generate", "--organisations", "1", "--formations", str(formations),
        "--actions-per-formation", str(actions), "--sessions-per-action", str(sessions), "--published-ratio", "0.5",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    organisation = db.session.scalar(sa.select(Organisation))
    create_user("of@generated.example", PASSWORD, "organisation", [organisation.siret])
    create_user("valideur@generated.example", PASSWORD, "validator")
    formation_id = db.session.scalar(sa.select(PublishedAction.formation_id).limit(1))
    counts = {}
    current = None
    for name, (who, url) in _pages(formation_id).items():
        if who != current:
            if current is not None:
                logout(client)
            if who is not None:
                login(client, f"{'of' if who == 'of' else 'valideur'}@generated.example", PASSWORD)
            current = who
        get(client, url)  # warm-up: caches of reference lists, login
        with counting() as statements:
            response = get(client, url)
        assert response.status_code == 200, (name, response.status_code)
        counts[name] = len(statements)
    if current is not None:
        logout(client)
    return counts


@pytest.fixture
def small_and_large(cli, client):
    small = _measure(cli, client, SMALL)
    _empty_offer()
    large = _measure(cli, client, LARGE)
    return small, large


def test_main_pages_run_the_same_number_of_queries_for_5_and_50_sessions(small_and_large):
    small, large = small_and_large
    different = {name: (small[name], large[name]) for name in small if small[name] != large[name]}
    assert not different, f"queries (5 sessions, 50 sessions): {different}"


NEXT = re.compile(r'<a class="page-link" href="([^"]*)">&gt;</a>')
PREVIOUS = re.compile(r'<a class="page-link" href="([^"]*)">&lt;</a>')
ROW_LINK = re.compile(r'href="/admin/[a-z_]+/[a-z]+/\?id=(\d+)')


def _row_ids(html: str) -> list[str]:
    return list(dict.fromkeys(ROW_LINK.findall(html)))


def _walk(client, url: str) -> tuple[list[list[str]], list[str]]:
    """Follow the "next" links from ``url``: the ids of each page, and the URLs visited."""
    pages, urls = [], []
    while url and len(pages) < 20:
        page = client.get(url)
        assert page.status_code == 200, url
        html = page.get_data(as_text=True)
        pages.append(_row_ids(html))
        urls.append(url)
        following = NEXT.search(html)
        url = unescape(following.group(1)) if following else None
        if url in urls:
            break
    return pages, urls


@pytest.mark.parametrize(
    ("base", "cursor"),
    [
        ("/admin/sessions/?page_size=20", True),  # by date de début, descending
        ("/admin/sessions/?page_size=20&sort=5", True),  # by date de fin, ascending
        ("/admin/validation/?page_size=20&etat=en_attente_validation&desc=1&sort=3", True),
        # Actions never sent have no date d'envoi: no cursor on NULL, the offset is used.
        ("/admin/validation/?page_size=20&etat=en_cours_de_saisie", False),
    ],
)
def test_list_cursors_give_the_same_pages_as_offsets(cli, client, base, cursor):
    result = cli(
        "sofi", "generate", "--organisations", "2", "--formations", "30", "--actions-per-formation", "10",
        "--sessions-per-action", "1", "--published-ratio", "0",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    create_user("valideur@generated.example", PASSWORD, "validator")
    login(client, "valideur@generated.example", PASSWORD)
    pages, urls = _walk(client, base)
    if len(pages) > 1 and not pages[-1]:  # a full last page still offers "next" (no count)
        pages, urls = pages[:-1], urls[:-1]
    assert len(pages) >= 2 and all(pages), pages
    assert any("apres=" in url for url in urls[1:]) == cursor
    # A page typed by its number gives the same page; where there is a cursor, only the two sort
    # columns are skipped with OFFSET (then the page is read like a "next" one).
    for number, ids in enumerate(pages):
        if number == 0:
            continue
        with counting(lambda sql, parameters: _offset(sql, parameters) > 0) as skipping:
            html = client.get(f"{base}&page={number}").get_data(as_text=True)
        assert _row_ids(html) == ids, number
        widest = max(len(re.match(r"SELECT (.*?)\sFROM", sql, re.S).group(1).split(",")) for sql in skipping)
        assert widest == 2 if cursor else widest > 2, skipping
    flat = [i for page in pages for i in page]
    assert len(flat) == len(set(flat))
    # Going back with the "previous" links shows the same pages again.
    html = client.get(urls[-1]).get_data(as_text=True)
    assert 'name="apres"' not in html  # a new search or filter starts from the top
    for number in range(len(pages) - 2, -1, -1):
        url = unescape(PREVIOUS.search(html).group(1))
        html = client.get(url).get_data(as_text=True)
        assert _row_ids(html) == pages[number], number
