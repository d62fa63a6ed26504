"""NUL characters sent in forms, query strings or JSON bodies are dropped on the way in: PostgreSQL
refuses them in text columns, so without this a pasted NUL made a save fail with a server error."""

import re

import sqlalchemy as sa

from models import Action, ActionMessage, ActionStatus, Formation, db
from tests.catalogue_support import bearer, public_sessions, token_for
from tests.web import csrf_token, login, text

NANTES = "44123456400017"


def _pending_action(session) -> Action:
    return session.scalar(
        sa.select(Action)
        .join(Formation)
        .where(Formation.intitule == "Bureautique : Word, Excel et outils collaboratifs")
    )


def test_a_question_with_a_nul_character_is_saved_without_it(client, demo, session):
    action = _pending_action(session)
    login(client, "valideur@demo.sofi.fr")
    response = client.post(
        "/admin/validation/question/",
        data={"csrf_token": csrf_token(client, "/admin/"), "id": str(action.id), "body": "Précisez\x00 les objectifs."},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Action, action.id).status is ActionStatus.EN_ATTENTE_REPONSES
    bodies = session.scalars(sa.select(ActionMessage.body).where(ActionMessage.action_id == action.id)).all()
    assert "Précisez les objectifs." in bodies


def _results_heading(html: str) -> str:
    return re.search(r'id="titre-resultats"[^>]*>([^<]*)<', html).group(1).strip()


def test_a_search_with_a_nul_character_finds_the_same_offer(client, demo):
    plain = text(client.get("/formations?q=soignant"))
    with_nul = client.get("/formations?q=soi%00gnant")
    assert with_nul.status_code == 200
    assert int(_results_heading(plain).split()[0]) >= 1
    assert _results_heading(text(with_nul)) == _results_heading(plain)


def test_a_json_body_with_a_nul_character_is_saved_without_it(app, client, demo):
    secret = token_for(app, "atlantique@demo.sofi.fr", NANTES, name="ERP Nantes")
    action = next(s.action for s in public_sessions() if s.action.organisation.siret == NANTES)
    response = client.patch(
        f"/api/v1/offre/actions/{action.id}",
        json={"plus_formation": "Nouveau\u0000 plus."},
        headers={**bearer(secret), "If-Match": f'"{action.version}"'},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    db.session.expire_all()
    assert "Nouveau plus." in db.session.get(Action, action.id).plus_formation
