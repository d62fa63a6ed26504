"""Every workflow transition, for each role, through the HTTP layer: allowed or refused."""

import pytest
import sqlalchemy as sa

from models import Action, ActionStatus, Formation, db
from tests.web import csrf_token, login

OWNER = "cariforef@demo.sofi.fr"
OTHER = "maine@demo.sofi.fr"
VALIDATOR = "valideur@demo.sofi.fr"
ADMIN = "admin@demo.sofi.fr"
FUNDER = "france-travail@demo.sofi.fr"

# transition: (starting state, URL, form data, state after success)
TRANSITIONS = {
    "submit": (ActionStatus.EN_COURS_DE_SAISIE, "/admin/actions/submit/", {}, ActionStatus.EN_ATTENTE_VALIDATION),
    "approve": (ActionStatus.EN_ATTENTE_VALIDATION, "/admin/validation/approve/", {}, ActionStatus.PUBLIEE),
    "reject": (
        ActionStatus.EN_ATTENTE_VALIDATION,
        "/admin/validation/reject/",
        {"reason": "Incomplet."},
        ActionStatus.REFUSEE,
    ),
    "question": (
        ActionStatus.EN_ATTENTE_VALIDATION,
        "/admin/validation/question/",
        {"body": "Précisez ?"},
        ActionStatus.EN_ATTENTE_REPONSES,
    ),
    "resubmit": (ActionStatus.EN_ATTENTE_REPONSES, "/admin/actions/submit/", {}, ActionStatus.EN_ATTENTE_VALIDATION),
}
ALLOWED = {
    "submit": {OWNER},
    "resubmit": {OWNER},
    "approve": {VALIDATOR, ADMIN},
    "reject": {VALIDATOR, ADMIN},
    "question": {VALIDATOR, ADMIN},
}


@pytest.mark.parametrize("transition", sorted(TRANSITIONS))
@pytest.mark.parametrize("email", [OWNER, OTHER, VALIDATOR, ADMIN, FUNDER])
def test_transition_by_role(client, demo, session, transition, email):
    start, url, data, after = TRANSITIONS[transition]
    action = session.scalar(sa.select(Action).join(Formation).where(Formation.intitule.like("Bureautique%")))
    action.status = start  # arranging the starting state of the test
    session.commit()
    login(client, email)
    client.post(url, data={"csrf_token": csrf_token(client, "/admin/"), "id": str(action.id), **data})
    db.session.expire_all()
    expected = after if email in ALLOWED[transition] else start
    assert db.session.get(Action, action.id).status is expected
