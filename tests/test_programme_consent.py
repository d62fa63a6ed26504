"""The Region's prior agreement on changes to a published programme action (seed 002), then the validator."""

import re

import pytest
import sqlalchemy as sa

from models import (
    Action,
    ActionStatus,
    AuditEvent,
    Formation,
    PublishedAction,
    RegionConsent,
    User,
    db,
)
from sofi.services import programmes, workflow
from sofi.services.errors import DomainError
from tests.web import csrf_token, login, logout, post_form
from tests.web import text as raw_text

CARIFOREF = "cariforef@demo.sofi.fr"
VALIDATOR = "valideur@demo.sofi.fr"
REGION = "region@demo.sofi.fr"
WAITING = (
    "Validation impossible : l'accord préalable de la Région est attendu pour cette modification d'une action "
    "publiée du programme régional."
)


def text(response) -> str:
    return " ".join(raw_text(response).split())


def _action(intitule: str) -> Action:
    return db.session.scalar(sa.select(Action).join(Formation).where(Formation.intitule == intitule))


def _user(email: str) -> User:
    return db.session.scalar(sa.select(User).where(User.email == email))


def _post(client, url: str, data: dict):
    return client.post(url, data={"csrf_token": csrf_token(client, "/admin/"), **data}, follow_redirects=True)


def _revise_and_submit(client, action: Action, plus: str) -> None:
    """The organisation changes its published PREPA action and sends the revision for validation."""
    login(client, CARIFOREF)
    response = post_form(
        client,
        f"/admin/actions/edit/?id={action.id}",
        {
            "site_id": str(action.site_id),
            "niveau_entree": action.niveau_entree,
            "prerequis": list(action.prerequis),
            "complement_programme": action.complement_programme,
            "objectifs": action.objectifs,
            "resultats_attendus": action.resultats_attendus,
            "commentaire_prerequis": action.commentaire_prerequis,
            "plus_formation": plus,
        },
    )
    assert response.status_code == 302, text(response)[:3000]
    _post(client, "/admin/actions/submit/", {"id": str(action.id)})
    db.session.expire_all()
    assert db.session.get(Action, action.id).status is ActionStatus.EN_ATTENTE_VALIDATION
    logout(client)


@pytest.fixture
def prepa(demo, session) -> Action:
    action = _action("PREPA Avenir Sup")
    assert action.status is ActionStatus.PUBLIEE and db.session.get(PublishedAction, action.id) is not None
    return action


def test_a_change_waits_for_the_region_then_for_the_validator_and_both_are_audited(client, prepa, session):
    action_id = prepa.id
    published_before = db.session.get(PublishedAction, action_id).data
    _revise_and_submit(client, prepa, "<p>Visites d'entreprises chaque semaine</p>")

    # The validator cannot approve yet.
    login(client, VALIDATOR)
    page = text(_post(client, "/admin/validation/approve/", {"id": str(action_id)}))
    assert WAITING in page
    db.session.expire_all()
    assert db.session.get(Action, action_id).status is ActionStatus.EN_ATTENTE_VALIDATION
    assert db.session.get(PublishedAction, action_id).data == published_before
    logout(client)

    # The Région sees the pending change with its differences, and agrees.
    login(client, REGION)
    listing = text(client.get("/admin/region/"))
    assert f"Examiner l'action {action_id}" in listing and "PAS2025_4" in listing and "en attente" in listing
    review = text(client.get(f"/admin/region/review/?id={action_id}"))
    assert "Différences avec la version publiée" in review
    row = re.search(r"<code>action\.plus_formation</code></td><td>(.*?)</td>\s*<td>(.*?)</td>", review)
    assert row is not None and "Visites d'entreprises chaque semaine" in row.group(2)
    refused = text(_post(client, "/admin/region/review/", {"id": str(action_id), "decision": "refus"}))
    assert "Indiquez pourquoi la Région refuse cette modification." in refused
    assert db.session.scalar(sa.select(RegionConsent)) is None
    _post(client, "/admin/region/review/", {"id": str(action_id), "decision": "accord"})
    logout(client)
    decision = db.session.scalar(sa.select(RegionConsent))
    assert (decision.action_id, decision.agreed, decision.user_id) == (action_id, True, _user(REGION).id)

    # Then the validator approves: the new version is published.
    login(client, VALIDATOR)
    _post(client, "/admin/validation/approve/", {"id": str(action_id)})
    db.session.expire_all()
    assert db.session.get(Action, action_id).status is ActionStatus.PUBLIEE
    published = db.session.get(PublishedAction, action_id)
    assert published.version == 2
    assert published.data["action"]["plus_formation"] == "<p>Visites d'entreprises chaque semaine</p>"

    events = db.session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.action_id == action_id, AuditEvent.operation.in_(["region", "transition"]))
        .order_by(AuditEvent.id)
    ).all()
    steps = [(e.operation, e.actor_label, e.after) for e in events]
    region_step = steps.index(("region", REGION, {"agreed": True, "comment": None}))
    approval_step = steps.index(("transition", VALIDATOR, {"status": "publiee"}))
    assert region_step < approval_step
    assert events[region_step].message == "Accord de la Région sur la modification de l'action publiée."


def test_a_refusal_of_the_region_blocks_the_approval_and_a_new_submission_asks_again(client, prepa, session):
    action_id = prepa.id
    _revise_and_submit(client, prepa, "<p>Nouvelle version</p>")
    action = db.session.get(Action, action_id)
    programmes.region_consent(_user(REGION), action, False, "Le bon de commande n'a pas été modifié.")
    with pytest.raises(DomainError) as refused:
        workflow.approve(_user(VALIDATOR), action)
    assert refused.value.message == (
        "Validation impossible : la Région a refusé cette modification (Le bon de commande n'a pas été modifié.)."
    )
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.operation == "region"))
    assert event.message.startswith("Refus de la Région") and "bon de commande" in event.message
    # The validator sends it back; the organisation sends a new revision: the Region is asked again.
    workflow.reject(_user(VALIDATOR), action, "Voir le refus de la Région.")
    _revise_and_submit(client, db.session.get(Action, action_id), "<p>Version corrigée</p>")
    action = db.session.get(Action, action_id)
    assert programmes.region_decision(action) is None
    with pytest.raises(DomainError) as waiting:
        workflow.approve(_user(VALIDATOR), action)
    assert waiting.value.message == WAITING
    workflow.region_consent(_user(REGION), action, True)  # also reachable from the workflow service
    workflow.approve(_user(VALIDATOR), action)
    assert action.status is ActionStatus.PUBLIEE


def test_only_region_accounts_give_the_agreement(client, prepa, session):
    _revise_and_submit(client, prepa, "<p>Autre version</p>")
    action = db.session.get(Action, prepa.id)
    for email in (CARIFOREF, VALIDATOR, "admin@demo.sofi.fr"):
        with pytest.raises(DomainError) as refused:
            programmes.region_consent(_user(email), action, True)
        assert refused.value.message == "Seuls les comptes de la Région peuvent donner cet accord."
    assert db.session.scalar(sa.select(RegionConsent)) is None
    for email in (CARIFOREF, VALIDATOR):
        login(client, email)
        assert client.get("/admin/region/").status_code == 403
        assert client.get(f"/admin/region/review/?id={action.id}").status_code == 403
        logout(client)


def test_which_actions_need_the_agreement(prepa, session):
    bureautique = _action("Bureautique : Word, Excel et outils collaboratifs")  # not of the programme
    deas = _action("Diplôme d'État d'aide-soignant - DEAS")  # a regional dispositif, but on no lot
    assert programmes.requires_region_consent(prepa)
    assert not programmes.requires_region_consent(bureautique)
    assert not programmes.requires_region_consent(deas)
    # A published programme action that is not waiting for validation has nothing to agree to.
    with pytest.raises(DomainError) as refused:
        programmes.region_consent(_user(REGION), prepa, True)
    assert refused.value.message == "Cette action est « Publiée » : elle n'attend pas l'accord de la Région."


def test_the_region_reads_the_programme_offer_and_nothing_else(client, prepa, session):
    login(client, REGION)
    everything = text(client.get("/admin/region/?vue=toutes"))
    assert f"Examiner l'action {prepa.id}" in everything and "PAS2025_4" in everything
    assert "Bureautique" not in everything
    review = text(client.get(f"/admin/region/review/?id={prepa.id}"))
    assert "lot PAS2025_4, ID action CR 2872, OF mandataire CR 75" in review
    assert "Accord de la Région sur cette modification" not in review  # nothing pending: no decision form
    bureautique = _action("Bureautique : Word, Excel et outils collaboratifs")
    assert client.get(f"/admin/region/review/?id={bureautique.id}").status_code == 404
    for url in ("/admin/actions/", f"/admin/actions/edit/?id={prepa.id}", "/admin/validation/", "/admin/lots/"):
        assert client.get(url).status_code in (403, 404), url
    assert client.get("/admin/programme_lots/").status_code == 403
    assert "Modifications à approuver" in text(client.get("/admin/"))
