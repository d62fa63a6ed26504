"""Public pages: formation detail (with JSON-LD), organisation page, and what never appears in them."""

import json
import re
from datetime import date

import sqlalchemy as sa

from models import Action, ActionStatus, Formation, Organisation, PublishedAction, SessionFormation, User, db
from sofi.services import offer, workflow
from tests.catalogue_support import api_fas, fas, public_sessions
from tests.web import text


def _user(email: str) -> User:
    return db.session.scalar(sa.select(User).where(User.email == email))


def _published_action(title_part: str) -> Action:
    return next(
        a
        for a in db.session.scalars(sa.select(Action).where(Action.status == ActionStatus.PUBLIEE))
        if title_part in a.intitule
    )


def _json_ld(page: str) -> dict:
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert match, "no JSON-LD block"
    return json.loads(match.group(1))


def test_home_page_invites_to_search_and_counts_the_offer(client, demo):
    page = text(client.get("/"))
    assert "<h1" in page and 'role="search"' in page
    assert f"{len(public_sessions())} sessions de formation à venir" in page
    assert 'href="/formations?domaine=' in page


def test_formation_page_shows_the_published_offer(client, demo):
    action = _published_action("aide-soignant")
    session = action.sessions[0]
    response = client.get(f"/formations/{action.formation_id}")
    assert response.status_code == 200
    page = text(response)
    site = session.site
    for expected in (
        action.formation.intitule,
        fas(session),
        "04/01/2027",  # start date, dd/mm/yyyy
        site.adresse1,
        f"{site.latitude}, {site.longitude}",
        "PROGRAMME REGION - Formations sanitaires et sociales",
        "Demandeur d'emploi",
        "40 places, 12 restantes",
        "6 500,00 € HT",
        "Référent handicap",
        "Référent mobilité",
        session.referent_pmr.email,
        "Le 10/12/2026 de 14h00 à 16h00",  # information collective
        "du 01/09/2026 au 15/12/2026",  # inscription period
        "RNCP35830",
        f"/api/v1/formations/{action.formation_id}.lheo",
    ):
        assert expected in page, expected


def test_formation_page_shows_the_plus_and_links_of_the_action(client, demo):
    action = _published_action("développeur web")
    page = text(client.get(f"/formations/{action.formation_id}"))
    assert action.plus_formation in page
    assert action.url_action in page
    upcoming = [s for s in action.sessions if s.date_fin >= date.today()]
    assert all(fas(s) in page for s in upcoming)


def test_formation_page_has_schema_org_course_json_ld(client, demo):
    action = _published_action("aide-soignant")
    page = client.get(f"/formations/{action.formation_id}").get_data(as_text=True)
    course = _json_ld(page)
    assert course["@context"] == "https://schema.org" and course["@type"] == "Course"
    assert course["name"] == action.formation.intitule
    assert course["provider"]["name"] == action.organisation.raison_sociale
    instances = course["hasCourseInstance"]
    assert [i["identifier"] for i in instances] == [fas(s) for s in action.sessions if s.date_fin >= date.today()]
    assert all(
        i["@type"] == "CourseInstance" and i["startDate"] and i["location"]["geo"]["latitude"] for i in instances
    )
    assert "</script>" not in page.split('<script type="application/ld+json">', 1)[1].split("</script>", 1)[0]


def test_organisation_page_lists_its_published_offer_only(client, demo):
    organisation = db.session.scalar(sa.select(Organisation).where(Organisation.siret == "44123456400017"))
    page = text(client.get(f"/organismes/{organisation.siret}"))
    assert organisation.raison_sociale in page and organisation.telephone in page
    actions = db.session.scalars(sa.select(Action).where(Action.organisation_id == organisation.id)).all()
    for action in actions:
        link = f'href="/formations/{action.formation_id}"'
        if action.status is ActionStatus.PUBLIEE:
            assert link in page
        elif not any(a.status is ActionStatus.PUBLIEE for a in action.formation.actions):
            assert link not in page, action.intitule
    assert client.get("/organismes/12345678901234").status_code == 404


def test_pages_print_cleanly_and_work_without_javascript(client, demo):
    action = _published_action("aide-soignant")
    page = client.get(f"/formations/{action.formation_id}").get_data(as_text=True)
    assert "<script>" not in page and "onclick" not in page  # no inline script (CSP)
    css = client.get("/static/catalogue.css").get_data(as_text=True)
    assert "@media print" in css
    search = client.get("/formations").get_data(as_text=True)
    assert '<form method="get" action="/formations"' in search  # a plain GET form: shareable URLs


# What never appears -------------------------------------------------------------------------------
def _unpublished_states_are_invisible(client):
    listed = set(api_fas(client.get("/api/v1/formations?limite=100")))
    never_published = db.session.scalars(
        sa.select(Action).where(Action.id.not_in(sa.select(PublishedAction.action_id)))
    ).all()
    assert {a.status for a in never_published} >= {
        ActionStatus.EN_COURS_DE_SAISIE,
        ActionStatus.EN_ATTENTE_VALIDATION,
        ActionStatus.EN_ATTENTE_REPONSES,
        ActionStatus.REFUSEE,
        ActionStatus.ARCHIVEE,
    }
    for action in never_published:
        for session in action.sessions:
            assert fas(session) not in listed
            assert client.get(f"/api/v1/sessions/{fas(session)}").status_code == 404
        if all(a.status is not ActionStatus.PUBLIEE for a in action.formation.actions):
            assert client.get(f"/formations/{action.formation_id}").status_code == 404
            assert client.get(f"/api/v1/formations/{action.formation_id}").status_code == 404
            assert action.intitule not in text(client.get("/formations?q=" + action.formation.intitule.split()[0]))


def test_drafts_pending_refused_and_archived_actions_never_appear(client, demo):
    _unpublished_states_are_invisible(client)


def test_a_pending_revision_is_not_shown_until_approved(app, client, demo):
    action = _published_action("aide-soignant")
    formation_id, old_title = action.formation_id, action.formation.intitule
    organisation_user = _user("cariforef@demo.sofi.fr")
    with app.test_request_context():
        action.complement_intitule = "Révision secrète"
        action.objectifs = "Texte zanzibarique de la révision."
        offer.save(organisation_user, action)
        assert action.status is ActionStatus.EN_COURS_DE_SAISIE
        page = text(client.get(f"/formations/{formation_id}"))
        assert old_title in page and "Révision secrète" not in page and "zanzibarique" not in page
        assert client.get("/api/v1/formations?q=zanzibarique").get_json()["total"] == 0
        workflow.submit_action(organisation_user, action)
        assert action.status is ActionStatus.EN_ATTENTE_VALIDATION
        assert "zanzibarique" not in text(client.get(f"/formations/{formation_id}"))
        workflow.reject(_user("valideur@demo.sofi.fr"), action, "Texte à revoir.")
    assert action.status is ActionStatus.REFUSEE
    page = text(client.get(f"/formations/{formation_id}"))
    assert "zanzibarique" not in page and old_title in page  # the last approved version stays public
    assert client.get("/api/v1/formations?q=zanzibarique").get_json()["total"] == 0


def test_an_archived_action_leaves_the_catalogue(client, demo):
    action = _published_action("aide-soignant")
    sessions = [fas(s) for s in action.sessions]
    assert set(sessions) <= set(api_fas(client.get("/api/v1/formations?limite=100")))
    workflow.archive_action(action)
    db.session.commit()
    listed = set(api_fas(client.get("/api/v1/formations?limite=100")))
    assert not set(sessions) & listed
    assert client.get(f"/formations/{action.formation_id}").status_code == 404
    assert all(client.get(f"/api/v1/sessions/{code}").status_code == 404 for code in sessions)


def test_unknown_pages_answer_404(client, demo):
    highest = db.session.scalar(sa.select(sa.func.max(Formation.id)))
    assert client.get(f"/formations/{highest + 1}").status_code == 404
    assert client.get("/organismes/pas-un-siret").status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SessionFormation)) > 0
