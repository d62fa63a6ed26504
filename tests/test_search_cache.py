"""The public search keeps its totals and facet counts between requests (``sofi.search_public.cache``):
a publication, an archiving, an edit of places or of the recruitment state shows at once, and
a new day drops the sessions that ended."""

import threading
import time
import uuid
from collections import Counter
from datetime import date, timedelta

import sqlalchemy as sa

from models import Action, ActionStatus, PublishedAction, db
from models.public_search import PublicationSequence
from sofi.search_public import SearchParams, cache, search
from sofi.services import workflow
from sofi.services.recruitment import update_recruitment
from tests.catalogue_support import fas, public_sessions

EVERYTHING = "/api/v1/formations?limite=100"


def _facet(body, name) -> dict[str, int]:
    return {value["value"]: value["count"] for value in body["facets"][name] if value["count"]}


def _expected_departements() -> dict[str, int]:
    return dict(Counter(s.site.commune.departement for s in public_sessions()))


def _listed(client, url=EVERYTHING) -> dict:
    body = client.get(url).get_json()
    assert body == client.get(url).get_json()  # the second answer comes from the kept counts
    return body


def test_an_archived_action_leaves_the_totals_and_facets_at_once(client, demo):
    before = _listed(client)
    assert before["total"] == len(public_sessions())
    action = next(
        a
        for a in db.session.scalars(sa.select(Action).where(Action.status == ActionStatus.PUBLIEE).order_by(Action.id))
        if any(fas(s) in {i["fas_code"] for i in before["items"]} for s in a.sessions)
    )
    workflow.archive_action(action)
    db.session.commit()
    after = client.get(EVERYTHING).get_json()
    assert after["total"] == len(public_sessions()) < before["total"]
    assert _facet(after, "departement") == _expected_departements()


def test_a_publication_shows_in_the_totals_and_facets_at_once(client, demo):
    before = _listed(client, "/api/v1/formations?modalite=0")
    today = date.today()
    action = next(
        a
        for a in db.session.scalars(
            sa.select(Action).where(Action.status == ActionStatus.EN_COURS_DE_SAISIE).order_by(Action.id)
        )
        if db.session.get(PublishedAction, a.id) is None
        and any(s.date_fin >= today and s.modalite_enseignement == "0" for s in a.sessions)
    )
    workflow.publish_imported(action)
    db.session.commit()
    after = client.get("/api/v1/formations?modalite=0").get_json()
    in_person = [s for s in public_sessions() if s.modalite_enseignement == "0"]
    assert after["total"] == len(in_person) > before["total"]
    assert _facet(after, "departement") == dict(Counter(s.site.commune.departement for s in in_person))


def test_an_edit_of_places_and_recruitment_shows_at_once(client, demo):
    url = "/api/v1/formations?recrutement_ouvert=oui&limite=100"
    before = _listed(client, url)
    session = next(s for s in public_sessions() if s.etat_recrutement == "1" and len(s.dispositifs) == 1)
    assert fas(session) in {item["fas_code"] for item in before["items"]}
    update_recruitment(None, session, "2", 3)
    after = client.get(url).get_json()
    assert after["total"] == before["total"] - 1
    assert fas(session) not in {item["fas_code"] for item in after["items"]}
    assert _facet(after, "recrutement_ouvert") == {
        k: v for k, v in Counter("oui" if s.etat_recrutement == "1" else "non" for s in public_sessions()).items()
    }
    listed = client.get(f"{EVERYTHING}&recrutement_ouvert=non").get_json()["items"]
    assert next(i for i in listed if i["fas_code"] == fas(session))["places_restantes"] == 3


def test_a_new_day_drops_the_sessions_that_ended(session, demo):
    today = date.today()
    ends = sorted({s.date_fin for s in public_sessions()})
    assert search(SearchParams(), today=today).total == len(public_sessions(today))
    later = ends[len(ends) // 2] + timedelta(days=1)
    assert search(SearchParams(), today=later).total == len(public_sessions(later)) < len(public_sessions(today))


def _sequence(connection) -> int | None:
    return connection.scalar(sa.select(PublicationSequence.value))


def test_the_publication_sequence_moves_with_the_publication_it_counts(session, demo):
    """Another connection sees the new number when, and only when, it sees the new published rows."""
    action = next(
        a
        for a in db.session.scalars(
            sa.select(Action).where(Action.status == ActionStatus.EN_COURS_DE_SAISIE).order_by(Action.id)
        )
        if db.session.get(PublishedAction, a.id) is None and a.sessions
    )
    with db.engine.connect() as other:
        before = _sequence(other)
        other.rollback()
        workflow.publish_imported(action)
        db.session.flush()
        assert _sequence(other) == before
        assert other.scalar(sa.select(PublishedAction.action_id).where(PublishedAction.action_id == action.id)) is None
        other.rollback()
        db.session.commit()
        assert _sequence(other) not in (None, before)
        assert other.scalar(sa.select(PublishedAction.action_id).where(PublishedAction.action_id == action.id))


def _etats(body: dict) -> dict[str, str]:
    return {s["fas_code"]: s["etat_recrutement"] for a in body["actions"] for s in a["sessions"]}


def test_formation_pages_show_a_change_of_recruitment_at_once(client, demo):
    """The formation page and its API answer are kept between requests, until the published offer changes."""
    session = next(s for s in public_sessions() if s.etat_recrutement == "1" and len(s.dispositifs) == 1)
    page, answer = f"/formations/{session.action.formation_id}", f"/api/v1/formations/{session.action.formation_id}"
    before = client.get(page).get_data(as_text=True)
    assert client.get(page).get_data(as_text=True) == before
    assert _etats(client.get(answer).get_json())[fas(session)] == "1"
    update_recruitment(None, session, "2", 3)
    assert _etats(client.get(answer).get_json())[fas(session)] == "2"
    assert client.get(page).get_data(as_text=True).count("<dd>Fermé</dd>") == before.count("<dd>Fermé</dd>") + 1


def test_an_archived_formation_leaves_its_pages_at_once(client, demo):
    published = db.session.scalars(sa.select(PublishedAction).order_by(PublishedAction.action_id)).all()
    alone = next(p for p in published if sum(q.formation_id == p.formation_id for q in published) == 1)
    page, answer = f"/formations/{alone.formation_id}", f"/api/v1/formations/{alone.formation_id}"
    assert client.get(page).status_code == client.get(answer).status_code == 200
    workflow.archive_action(db.session.get(Action, alone.action_id))
    db.session.commit()
    assert client.get(page).status_code == client.get(answer).status_code == 404


def test_visitors_arriving_together_compute_a_page_once(app_context):
    """After a publication, simultaneous visitors of the same page wait for one computation."""
    calls, lock = [], threading.Lock()

    def compute():
        with lock:
            calls.append(threading.get_ident())
        time.sleep(0.3)
        return f"page computed by {threading.get_ident()}"

    def visit(results):
        with app_context.app_context():
            results.append(cache.remember(424242, ("a page", key), compute))

    key, results = uuid.uuid4().hex, []
    visitors = [threading.Thread(target=visit, args=(results,)) for _ in range(8)]
    for visitor in visitors:
        visitor.start()
    for visitor in visitors:
        visitor.join()
    assert len(calls) == 1
    assert results == [f"page computed by {calls[0]}"] * 8
