"""The main pages read the large tables through indexes (no full scan of the sessions).

A data set large enough for the planner to prefer indexes is generated (and analysed); the
SQL statements each page sends are captured and explained: PostgreSQL's ``EXPLAIN (FORMAT
JSON)`` must show no ``Seq Scan`` on ``session_formation`` or ``published_session``, and
SQLite's ``EXPLAIN QUERY PLAN`` no plain ``SCAN`` of them (a scan in index order is fine).
This checks the plans, not the time (see ``bench/`` for the timings).
"""

import re
from html import unescape

import pytest
import sqlalchemy as sa

from models import PublishedAction, db
from sofi.search_public import cache
from sofi.services.users import create_user
from tests.test_query_counts import PASSWORD, filtered_sessions_url, get
from tests.web import login, logout

LARGE_TABLES = {"session_formation", "published_session"}
# 100 organisations × 200 sessions: one organisation holds 1 % of the sessions.
SHAPE = ["--organisations", "100", "--formations", "1000", "--actions-per-formation", "4", "--sessions-per-action", "5"]
NEXT = re.compile(r'<a class="page-link" href="([^"]*apres=[^"]*)">&gt;</a>')


def _seq_scans(plan: dict) -> list[str]:
    found = []
    if plan.get("Node Type") == "Seq Scan" and plan.get("Relation Name") in LARGE_TABLES:
        found.append(plan["Relation Name"])
    for child in plan.get("Plans", []):
        found += _seq_scans(child)
    return found


def _explain(statement: str, parameters):
    """PostgreSQL's plan of ``statement`` (its JSON tree), or SQLite's lines of ``EXPLAIN QUERY PLAN``."""
    raw = db.session.connection().connection.driver_connection
    cursor = raw.cursor()
    try:
        if db.engine.dialect.name == "postgresql":
            cursor.execute("EXPLAIN (FORMAT JSON) " + statement, parameters)
            return json_plan(cursor.fetchone()[0])["Plan"]
        cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
        return [row[-1] for row in cursor.fetchall()]
    finally:
        cursor.close()


def _full_scans(statement: str, parameters) -> list[str]:
    """The large tables read in full by ``statement`` (as the page sent it)."""
    plan = _explain(statement, parameters)
    if db.engine.dialect.name == "postgresql":
        return _seq_scans(plan)
    scans = (re.fullmatch(rf"SCAN ({'|'.join(LARGE_TABLES)})( AS \w+)?", detail) for detail in plan)
    return [match.group(1) for match in scans if match]


def json_plan(plan):
    import json

    return (json.loads(plan) if isinstance(plan, str) else plan)[0]


@pytest.fixture
def generated(cli, session):
    result = cli("sofi", "generate", *SHAPE)
    assert result.exit_code == 0, result.output
    if db.engine.dialect.name == "sqlite":
        session.execute(sa.text("ANALYZE"))
        session.commit()
    organisation_siret = session.scalar(sa.text("SELECT siret FROM organisation ORDER BY id LIMIT 1"))
    create_user("of@generated.example", PASSWORD, "organisation", [organisation_siret])
    create_user("valideur@generated.example", PASSWORD, "validator")
    return session.scalar(sa.select(PublishedAction.formation_id).order_by(PublishedAction.action_id).limit(1))


def _statements(client, url: str) -> list[tuple[str, object]]:
    captured = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        captured.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", capture)
    try:
        response = get(client, url)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", capture)
    assert response.status_code == 200, (url, response.status_code)
    return [(s, p) for s, p in captured if s.lstrip().upper().startswith(("SELECT", "WITH"))], response


def _check(client, url: str) -> dict[str, list[str]]:
    statements, response = _statements(client, url)
    problems = {}
    for statement, parameters in statements:
        scans = _full_scans(statement, parameters)
        if scans:
            problems[" ".join(statement.split())[:300]] = scans
    return problems, response


def _next_url(response) -> str:
    match = NEXT.search(response.get_data(as_text=True))
    assert match, "no cursor link to the next page"
    return unescape(match.group(1))


def test_main_pages_read_the_session_tables_through_indexes(generated, client):
    formation_id = generated
    problems = {}
    login(client, "of@generated.example", PASSWORD)
    for url in (
        "/admin/sessions/",
        filtered_sessions_url(),
        "/admin/sessions/?page=10",
        "/admin/",
    ):
        found, response = _check(client, url)
        problems.update({f"{url}: {k}": v for k, v in found.items()})
    found, _ = _check(client, _next_url(client.get("/admin/sessions/")))
    problems.update({f"org next page: {k}": v for k, v in found.items()})
    logout(client)
    login(client, "valideur@generated.example", PASSWORD)
    for url in ("/admin/validation/", "/admin/sessions/"):
        found, response = _check(client, url)
        problems.update({f"{url}: {k}": v for k, v in found.items()})
        found, _ = _check(client, _next_url(response))
        problems.update({f"{url} next page: {k}": v for k, v in found.items()})
    logout(client)
    for url in (
        "/formations?q=infirmier&departement=44&modalite=0",
        "/api/v1/formations?q=infirmier&departement=44&modalite=0",
        # Every kind of facet filter set: each facet then counts apart, without its own filter.
        "/api/v1/formations?q=infirmier&public=80006&dispositif=4&certifiante=non&cpf=oui&tri=date",
        f"/formations/{formation_id}",
        f"/api/v1/formations/{formation_id}",
    ):
        found, _ = _check(client, url)
        problems.update({f"{url}: {k}": v for k, v in found.items()})
    assert not problems, "\n".join(f"{k} → {v}" for k, v in problems.items())
    # The check itself reports a query that no index serves.
    parameters = {} if db.engine.dialect.name == "postgresql" else ()
    assert _full_scans("SELECT count(*) FROM session_formation WHERE duree_centre > 10", parameters) == [
        "session_formation"
    ]


def test_searches_without_a_selective_filter_read_their_page_through_an_index(generated, client):
    """A search without a selective filter counts its sessions once: later requests take the counts from
    the kept answers (``sofi.search_public.cache``) and only read their page, through an index. The
    counts of the whole offer are kept in a table (``sofi.search_public.kept_counts``): even the first
    visitor after a publication reads no session table in full."""
    url = "/api/v1/formations?departement=44&facettes=non"
    get(client, url)
    found, _ = _check(client, url)
    assert not found, (url, found)
    for url in ("/formations", "/api/v1/formations"):
        cache.forget()
        found, _ = _check(client, url)
        assert not found, (url, found)


def _index_reads(statement: str, parameters) -> set[tuple[str, str]]:
    """PostgreSQL: (node type, index name) of each index ``statement`` reads (as the page sent it)."""
    found, nodes = set(), [_explain(statement, parameters)]
    while nodes:
        node = nodes.pop()
        if node.get("Index Name"):
            found.add((node["Node Type"], node["Index Name"]))
        nodes += node.get("Plans", [])
    return found


def _indexes(statement: str, parameters) -> set[str]:
    """The indexes ``statement`` reads (as the page sent it)."""
    if db.engine.dialect.name == "postgresql":
        return {name for _type, name in _index_reads(statement, parameters)}
    plan = _explain(statement, parameters)
    found = (re.search(r"USING (?:COVERING )?INDEX (\w+)", detail) for detail in plan)
    return {match.group(1) for match in found if match}


def test_the_page_of_a_keyword_search_reads_the_sessions_of_the_matching_actions_alone(generated, client):
    """The relevance comes with the matching actions (one statement on the text index): the page
    sorted by it joins no action row. Beside keywords, a broad filter (département, modalité: most
    sessions share their value) must not be the way into the sessions: its index would read
    thousands of them to keep twenty (SQLite's planner, which cannot tell how many actions match,
    took it when it had no statistics, as in a database nobody has analysed). One data set for
    both checks: generating one costs seconds."""
    statements, _ = _statements(client, "/api/v1/formations?q=infirmier&facettes=non")
    pages = [s for s, _ in statements if "ORDER BY" in s and "published_session" in s]
    assert pages and not [s for s in pages if "published_action" in s]

    if db.engine.dialect.name == "sqlite":
        db.session.execute(sa.text("DELETE FROM sqlite_stat1"))
        db.session.commit()
        db.session.execute(sa.text("ANALYZE sqlite_schema"))  # the planner reloads the (now empty) statistics
    word = db.session.scalar(sa.select(PublishedAction.intitule).order_by(PublishedAction.action_id)).split()[0]
    statements, _ = _statements(client, f"/formations?q={word}&departement=44&modalite=0&tri=date")
    pages = [(s, p) for s, p in statements if s.lstrip().startswith("SELECT") and "ORDER BY" in s and "k_" in s]
    assert pages
    broad = {"ix_published_session_departement", "ix_published_session_modalite_enseignement"}
    for statement, parameters in pages:
        indexes = _indexes(statement, parameters)
        assert indexes and not indexes & broad, (statement, indexes)

    if db.engine.dialect.name == "postgresql":
        # The facet counts read the sessions of the matching actions from the action index alone (it
        # includes the columns they read), once VACUUM has marked the pages all-visible, as it does.
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("VACUUM ANALYZE published_session"))
        statements, _ = _statements(client, f"/formations?q={word}&departement=44")
        (counting,) = [(s, p) for s, p in statements if "MATERIALIZED" in s]
        assert ("Index Only Scan", "ix_published_session_action_id") in _index_reads(*counting)
        # Autovacuum keeps them so after 1 % of the rows changed, not the fifth of the default
        # (migration d4e9f3a2b7c5): each publication rewrites sessions.
        options = dict(
            db.session.execute(
                sa.text(
                    "SELECT relname, reloptions FROM pg_class WHERE relkind = 'r' AND relname IN "
                    "('published_session', 'published_session_dispositif', 'published_session_public')"
                )
            ).all()
        )
        assert len(options) == 3
        for table, settings in options.items():
            assert {"autovacuum_vacuum_scale_factor=0.01", "autovacuum_vacuum_insert_scale_factor=0.01"} <= set(
                settings or []
            ), table
