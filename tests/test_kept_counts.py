"""The facet counts of the whole published offer are kept (``sofi.search_public.kept_counts``):
after every writer of the published rows they equal a count of those rows, and the search
without filters reads them instead of counting every session."""

from collections import Counter
from datetime import date, timedelta

import sqlalchemy as sa

from models import Action, ActionStatus, Dispositif, PublishedAction, PublishedSession, db
from models.public_search import PublishedFacetCount
from sofi.search_public import kept_counts
from sofi.search_public.counting import FACETS, TOTAL, all_dispositifs, cpf_dispositif_codes, facet_counts
from sofi.services import publication, workflow
from sofi.services.archiving import archive_expired
from sofi.services.recruitment import update_recruitment
from tests.catalogue_support import public_sessions

EVERYTHING = "/api/v1/formations?limite=1"


def _recounted(day: date) -> dict:
    """A count of the published rows themselves (the search's own statement, on the whole offer)."""
    counts = facet_counts(
        {"_base": [PublishedSession.date_fin >= day]}, FACETS, cpf_dispositif_codes(all_dispositifs())
    )
    counts[TOTAL].setdefault(None, 0)
    return counts


def _assert_kept_counts_right(day: date | None = None) -> None:
    day = day or date.today()
    kept = kept_counts.read(day)
    assert kept is not None
    assert kept == _recounted(day)
    # and against the live records, independently of the counting code
    sessions = public_sessions(day)
    assert kept[TOTAL] == {None: len(sessions)}
    assert kept["departement"] == dict(Counter(s.site.commune.departement for s in sessions))
    opened = sum(1 for s in sessions if s.etat_recrutement == "1")
    assert kept["recrutement_ouvert"] == {k: v for k, v in (("oui", opened), ("non", len(sessions) - opened)) if v}


def _published_actions() -> list[Action]:
    return list(db.session.scalars(sa.select(Action).where(Action.status == ActionStatus.PUBLIEE).order_by(Action.id)))


def test_the_demo_keeps_the_counts_of_its_offer(demo):
    assert kept_counts.counted_from() == date.today()
    _assert_kept_counts_right()


def test_a_publication_and_a_republication_move_the_kept_counts(demo):
    today = date.today()
    draft = next(
        a
        for a in db.session.scalars(
            sa.select(Action).where(Action.status == ActionStatus.EN_COURS_DE_SAISIE).order_by(Action.id)
        )
        if db.session.get(PublishedAction, a.id) is None and any(s.date_fin >= today for s in a.sessions)
    )
    workflow.publish_imported(draft)
    db.session.commit()
    _assert_kept_counts_right()
    # approved again after an edit that moves its sessions between facet values
    action = _published_actions()[0]
    for session in action.sessions:
        session.modalite_enseignement = "2" if session.modalite_enseignement != "2" else "0"
        session.etat_recrutement = "2" if session.etat_recrutement == "1" else "1"
    db.session.flush()
    publication.publish(action)
    db.session.commit()
    _assert_kept_counts_right()
    kept = kept_counts.read(today)
    assert kept["modalite"] == _recounted(today)["modalite"]


def test_a_recruitment_change_and_an_archiving_move_the_kept_counts(demo):
    session = next(s for s in public_sessions() if s.etat_recrutement == "1")
    update_recruitment(None, session, "2", None)
    _assert_kept_counts_right()
    workflow.archive_action(session.action)
    db.session.commit()
    _assert_kept_counts_right()


def test_the_days_after_are_counted_without_the_sessions_ended(demo):
    ends = sorted({s.date_fin for s in public_sessions()})
    later = ends[len(ends) // 2] + timedelta(days=1)
    assert len(public_sessions(later)) < len(public_sessions())
    _assert_kept_counts_right(later)
    # the daily archiving counts again from its day
    archive_expired(later)
    assert kept_counts.counted_from() == later
    _assert_kept_counts_right(later)
    assert kept_counts.read(later - timedelta(days=1)) is None  # counted from a later day: not kept for that one


def test_a_changed_dispositif_stops_the_kept_counts_until_rebuilt(client, demo):
    today = date.today()
    cpf = cpf_dispositif_codes(all_dispositifs())
    counted_as_cpf = kept_counts.read(today)["cpf"]
    db.session.get(Dispositif, cpf[0]).label = "Dispositif renommé"
    db.session.commit()
    assert kept_counts.read(today) is None
    recounted = _recounted(today)["cpf"]
    assert recounted != counted_as_cpf
    shown = {f["value"]: f["count"] for f in client.get(EVERYTHING).get_json()["facets"]["cpf"] if f["count"]}
    assert shown == recounted
    kept_counts.rebuild()
    db.session.commit()
    _assert_kept_counts_right()


def test_the_search_without_filters_reads_the_kept_counts(client, demo):
    total = client.get(EVERYTHING).get_json()["total"]
    assert total == len(public_sessions())
    # a count kept wrong on purpose shows through: nothing counted the sessions again
    db.session.execute(
        sa.update(PublishedFacetCount).where(PublishedFacetCount.facet == TOTAL).values(sessions=total + 1000)
    )
    workflow.archive_action(_published_actions()[-1])  # a change of the offer: the kept answers go
    db.session.commit()
    assert client.get(EVERYTHING).get_json()["total"] > 1000
    # a filtered search counts its sessions
    filtered = client.get(f"{EVERYTHING}&modalite=0").get_json()["total"]
    assert filtered == sum(1 for s in public_sessions() if s.modalite_enseignement == "0")
