"""The publication workflow through the HTTP layer: transitions, roles, snapshots, bulk, concurrency."""

import re
from datetime import date

import pytest
import sqlalchemy as sa

from models import (
    Action,
    ActionMessage,
    ActionStatus,
    AuditEvent,
    CertifInfo,
    Formation,
    Membership,
    Organisation,
    OutboxMessage,
    PublishedAction,
    PublishedSession,
    SessionFormation,
    User,
    db,
)
from sofi.search import certification_for
from sofi.services import programmes, workflow
from sofi.services.certifications import apply_certification
from sofi.services.errors import DomainError
from tests.web import csrf_token, login, logout, post_form, text

VALIDATOR = "valideur@demo.sofi.fr"


def _action(session, intitule: str) -> Action:
    return session.scalar(sa.select(Action).join(Formation).where(Formation.intitule == intitule))


def _post(client, url: str, data: dict):
    return client.post(url, data={"csrf_token": csrf_token(client, "/admin/"), **data})


def test_validator_approves_and_the_published_version_appears(client, demo, session):
    pending = _action(session, "Bureautique : Word, Excel et outils collaboratifs")
    assert db.session.get(PublishedAction, pending.id) is None
    login(client, VALIDATOR)
    queue = text(client.get("/admin/validation/"))
    assert "Bureautique" in queue
    review = text(client.get(f"/admin/validation/review/?id={pending.id}"))
    assert "Toutes les règles de validation sont respectées" in review
    assert _post(client, "/admin/validation/approve/", {"id": str(pending.id)}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Action, pending.id).status is ActionStatus.PUBLIEE
    published = db.session.get(PublishedAction, pending.id)
    assert published.version == 1 and published.data["formation"]["intitule"].startswith("Bureautique")
    assert {s.fas_code for s in published.sessions} == {s.fas_code for s in pending.sessions}
    mails = session.scalars(sa.select(OutboxMessage.recipient).where(OutboxMessage.subject == "SOFI : action validée"))
    assert "cariforef@demo.sofi.fr" in set(mails)


@pytest.mark.parametrize(
    ("email", "url", "data"),
    [
        ("cariforef@demo.sofi.fr", "/admin/validation/approve/", {}),
        ("cariforef@demo.sofi.fr", "/admin/validation/reject/", {"reason": "non"}),
        ("cariforef@demo.sofi.fr", "/admin/validation/question/", {"body": "?"}),
        ("atlantique@demo.sofi.fr", "/admin/validation/approve/", {}),
    ],
)
def test_organisation_users_cannot_validate(client, demo, session, email, url, data):
    pending = _action(session, "Bureautique : Word, Excel et outils collaboratifs")
    login(client, email)
    response = _post(client, url, {"id": str(pending.id), **data})
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(Action, pending.id).status is ActionStatus.EN_ATTENTE_VALIDATION


def test_a_validator_cannot_submit_nor_approve_a_draft(client, demo, session):
    draft = _action(session, "Gestes et postures : prévenir les troubles musculo-squelettiques")
    login(client, VALIDATOR)
    assert _post(client, "/admin/actions/submit/", {"id": str(draft.id)}).status_code == 302
    _post(client, "/admin/validation/approve/", {"id": str(draft.id)})
    db.session.expire_all()
    assert db.session.get(Action, draft.id).status is ActionStatus.EN_COURS_DE_SAISIE
    assert db.session.get(PublishedAction, draft.id) is None


def test_reject_needs_a_reason_and_notifies(client, demo, session):
    pending = _action(session, "Bureautique : Word, Excel et outils collaboratifs")
    login(client, VALIDATOR)
    _post(client, "/admin/validation/reject/", {"id": str(pending.id), "reason": "  "})
    db.session.expire_all()
    assert db.session.get(Action, pending.id).status is ActionStatus.EN_ATTENTE_VALIDATION
    _post(client, "/admin/validation/reject/", {"id": str(pending.id), "reason": "Programme incomplet."})
    db.session.expire_all()
    assert db.session.get(Action, pending.id).status is ActionStatus.REFUSEE
    refusal = session.scalar(sa.select(ActionMessage).where(ActionMessage.action_id == pending.id))
    assert refusal.kind.value == "refus" and refusal.body == "Programme incomplet."


def test_question_round_trip_shows_changes_since_the_question(client, demo, session):
    pending = _action(session, "Bureautique : Word, Excel et outils collaboratifs")
    login(client, VALIDATOR)
    _post(
        client,
        "/admin/validation/question/",
        {"id": str(pending.id), "body": "Précisez les objectifs.", "field": "objectifs"},
    )
    db.session.expire_all()
    assert db.session.get(Action, pending.id).status is ActionStatus.EN_ATTENTE_REPONSES
    logout(client)

    login(client, "cariforef@demo.sofi.fr")
    recap = text(client.get(f"/admin/actions/recap/?id={pending.id}"))
    assert "Précisez les objectifs." in recap
    _post(client, "/admin/actions/answer/", {"id": str(pending.id), "body": "Objectifs détaillés."})
    url = f"/admin/actions/edit/?id={pending.id}"
    assert (
        post_form(
            client, url, {"site_id": str(pending.site_id), "niveau_entree": "1", "objectifs": "<p>Maîtriser Excel</p>"}
        ).status_code
        == 302
    )
    _post(client, "/admin/actions/submit/", {"id": str(pending.id)})
    db.session.expire_all()
    assert db.session.get(Action, pending.id).status is ActionStatus.EN_ATTENTE_VALIDATION
    logout(client)

    login(client, VALIDATOR)
    review = text(client.get(f"/admin/validation/review/?id={pending.id}"))
    assert "Modifications depuis la dernière question" in review
    assert "action.objectifs" in review and "Maîtriser Excel" in review
    assert "Objectifs détaillés." in review
    _post(client, "/admin/validation/approve/", {"id": str(pending.id)})
    db.session.expire_all()
    assert db.session.get(Action, pending.id).status is ActionStatus.PUBLIEE


def test_published_version_stays_unchanged_during_a_revision_and_is_swapped_on_approval(client, demo, session):
    published_action = _action(session, "Diplôme d'État d'aide-soignant - DEAS")
    before = db.session.get(PublishedAction, published_action.id).data
    login(client, "cariforef@demo.sofi.fr")
    url = f"/admin/actions/edit/?id={published_action.id}"
    response = post_form(
        client,
        url,
        {
            "site_id": str(published_action.site_id),
            "niveau_entree": "1",
            "plus_formation": "<p>Nouveau : stage à l'hôpital</p>",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    revision = db.session.get(Action, published_action.id)
    assert revision.status is ActionStatus.EN_COURS_DE_SAISIE
    assert db.session.get(PublishedAction, published_action.id).data == before
    _post(client, "/admin/actions/submit/", {"id": str(published_action.id)})
    logout(client)
    login(client, VALIDATOR)
    review = text(client.get(f"/admin/validation/review/?id={published_action.id}"))
    assert "Différences avec la version publiée" in review and "action.plus_formation" in review
    db.session.expire_all()
    assert db.session.get(PublishedAction, published_action.id).data == before
    _post(client, "/admin/validation/approve/", {"id": str(published_action.id)})
    db.session.expire_all()
    swapped = db.session.get(PublishedAction, published_action.id)
    assert swapped.version == 2
    assert swapped.data["action"]["plus_formation"] == "<p>Nouveau : stage à l'hôpital</p>"


def test_bulk_approve_approves_the_valid_skips_the_invalid_and_audits_each(client, demo, session):
    blocked = _action(session, "Titre professionnel assistant ressources humaines - bloc 1")
    blocked.status = ActionStatus.EN_ATTENTE_VALIDATION  # RNCP35030 ended on 05/11/2025, the session starts in 2027
    session.commit()
    queue = session.scalars(sa.select(Action).where(Action.status == ActionStatus.EN_ATTENTE_VALIDATION)).all()
    assert len(queue) >= 3
    login(client, VALIDATOR)
    response = _post(client, "/admin/validation/action/", {"action": "valider", "rowid": [str(a.id) for a in queue]})
    assert response.status_code == 302
    page = text(client.get("/admin/validation/"))
    assert f"Action {blocked.id} non validée" in page and "RNCP35030" in page and "05/11/2025" in page
    db.session.expire_all()
    statuses = {a.id: db.session.get(Action, a.id).status for a in queue}
    assert statuses.pop(blocked.id) is ActionStatus.EN_ATTENTE_VALIDATION
    assert set(statuses.values()) == {ActionStatus.PUBLIEE}
    for action_id in statuses:
        transitions = session.scalars(
            sa.select(AuditEvent).where(
                AuditEvent.operation == "transition",
                AuditEvent.record_id == str(action_id),
                AuditEvent.after["status"].as_string() == "publiee",
            )
        ).all()
        assert len(transitions) == 1 and transitions[0].actor_label == VALIDATOR
        # published together with the other actions of its batch: its version and a search row per session
        published = db.session.get(PublishedAction, action_id)
        assert published is not None and published.data["action"]["id"] == action_id
        searched = session.scalars(
            sa.select(PublishedSession.session_id).where(PublishedSession.action_id == action_id)
        )
        assert sorted(searched) == sorted(s.id for s in db.session.get(Action, action_id).sessions)
    assert db.session.get(PublishedAction, blocked.id) is None
    # each organisation's users and address get one mail listing its approved actions
    approved = [db.session.get(Action, action_id) for action_id in statuses]
    mails = session.scalars(sa.select(OutboxMessage).where(OutboxMessage.subject.like("SOFI : action%validée%"))).all()
    for organisation_id in {a.organisation_id for a in approved}:
        ids = sorted(a.id for a in approved if a.organisation_id == organisation_id)
        users = session.scalars(
            sa.select(User.email).join(Membership).where(Membership.organisation_id == organisation_id, User.active)
        )
        expected = {*users, session.get(Organisation, organisation_id).email} - {None}
        got = [m for m in mails if sorted(int(i) for i in re.findall(r"^Action (\d+) — ", m.body, re.M)) == ids]
        assert sorted(m.recipient for m in got) == sorted(expected) and expected
        assert {m.subject for m in got} == {"SOFI : actions validées" if len(ids) > 1 else "SOFI : action validée"}


def test_bulk_approve_skips_an_action_approved_meanwhile_and_decides_the_rest_of_its_batch(app, demo, session):
    blocked = _action(session, "Titre professionnel assistant ressources humaines - bloc 1")
    blocked.status = ActionStatus.EN_ATTENTE_VALIDATION  # refused by the rules (its certification ended)
    session.commit()
    validator = db.session.scalar(sa.select(User).where(User.email == VALIDATOR))
    queue = db.session.scalars(
        sa.select(Action).where(Action.status == ActionStatus.EN_ATTENTE_VALIDATION).order_by(Action.id)
    ).all()
    changed = _action(session, "Bureautique : Word, Excel et outils collaboratifs")
    assert changed in queue and len(queue) >= 3
    with app.app_context():  # another validator (its own session) approves it after the queue was read
        workflow.approve(db.session.get(User, validator.id), db.session.get(Action, changed.id))
        db.session.remove()
    result = workflow.bulk_approve(validator, queue)
    skipped = dict(result.skipped)
    assert skipped.pop(changed) == workflow.CONCURRENT_CHANGE
    assert list(skipped) == [blocked] and "RNCP35030" in skipped[blocked]
    approved = {a.id for a in queue} - {changed.id, blocked.id}
    assert {a.id for a in result.done} == approved
    db.session.expire_all()
    assert {db.session.get(Action, i).status for i in approved | {changed.id}} == {ActionStatus.PUBLIEE}
    assert db.session.get(PublishedAction, changed.id).version == 1
    transitions = session.scalars(
        sa.select(AuditEvent.record_id).where(
            AuditEvent.operation == "transition", AuditEvent.record_id.in_([str(a.id) for a in queue])
        )
    ).all()
    assert sorted(transitions) == sorted(str(i) for i in approved | {changed.id})  # one approval each


def test_bulk_approve_still_waits_for_the_region_on_a_revision_of_a_published_programme_action(demo, session):
    revision = _action(session, "PREPA Avenir Sup")  # published, from a lot of the regional programme
    published = db.session.get(PublishedAction, revision.id).data
    revision.status = ActionStatus.EN_ATTENTE_VALIDATION  # its organisation sent a change of it
    session.commit()
    validator = db.session.scalar(sa.select(User).where(User.email == VALIDATOR))
    queue = db.session.scalars(
        sa.select(Action).where(Action.status == ActionStatus.EN_ATTENTE_VALIDATION).order_by(Action.id)
    ).all()
    result = workflow.bulk_approve(validator, queue)
    assert [(action.id, reason) for action, reason in result.skipped] == [
        (revision.id, programmes.region_refusal_message(True))
    ]
    assert {a.id for a in result.done} == {a.id for a in queue} - {revision.id}
    db.session.expire_all()
    assert db.session.get(PublishedAction, revision.id).data == published


def test_certification_rules_block_approval(session, demo):
    """Expired certification (RNCP35030) and a non-habilitated organisation (RNCP36612 for Cariforef)."""
    expired = _action(session, "Titre professionnel assistant ressources humaines - bloc 1")
    expired.status = ActionStatus.EN_ATTENTE_VALIDATION
    session.commit()
    validator = session.scalar(sa.select(User).where(User.email == VALIDATOR))
    with pytest.raises(DomainError, match="05/11/2025|fin d'enregistrement"):
        workflow.approve(validator, expired, date(2026, 11, 23))
    cariforef = expired.organisation
    assert all(c.numero_fiche != "RNCP36612" for c in cariforef.habilitations)

    entry = session.get(CertifInfo, 113613)
    apply_certification(expired.formation, certification_for(entry), entry)
    session.commit()
    with pytest.raises(DomainError, match="habilité"):
        workflow.approve(validator, expired, date(2026, 11, 23))


def test_two_validators_approving_at_once_publish_exactly_once(app, demo, session):
    action_id = _action(session, "Bureautique : Word, Excel et outils collaboratifs").id
    validator_id = session.scalar(sa.select(User.id).where(User.email == VALIDATOR))
    first = db.session.get(Action, action_id)
    first_user = db.session.get(User, validator_id)
    assert first.status is ActionStatus.EN_ATTENTE_VALIDATION  # both validators have read the action
    with app.app_context():  # a second request: its own session and database connection
        second = db.session.get(Action, action_id)
        workflow.approve(db.session.get(User, validator_id), second)
        db.session.remove()
    with pytest.raises(DomainError, match="traitée par quelqu'un d'autre"):
        workflow.approve(first_user, first)
    db.session.expire_all()
    assert db.session.get(PublishedAction, action_id).version == 1
    sessions = session.scalars(sa.select(PublishedSession).where(PublishedSession.action_id == action_id)).all()
    assert len(sessions) == len(db.session.get(Action, action_id).sessions)
    approvals = session.scalar(
        sa.select(sa.func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.operation == "transition", AuditEvent.record_id == str(action_id))
    )
    assert approvals == 1


def test_two_people_saving_the_same_session_the_second_keeps_its_input(client, demo, session):
    training_session = _action(session, "Titre professionnel assistant ressources humaines - bloc 1").sessions[0]
    login(client, "cariforef@demo.sofi.fr")
    url = f"/admin/sessions/edit/?id={training_session.id}"
    page = text(client.get(url))
    form = {
        name: re.search(rf'<select[^>]*name="{name}"[^>]*>.*?<option selected value="([^"]*)"', page, re.S).group(1)
        for name in ("site_id", "organisme_responsable_id", "referent_pmr_id", "referent_mobilite_id")
    }
    form.update(
        {
            "date_debut": "2027-02-01",
            "date_fin": "2027-04-30",
            "entrees_sorties": "0",
            "modalite_enseignement": "0",
            "etat_recrutement": "1",
            "duree_centre": "245",
            "version": str(training_session.version),
            "commentaire_duree": "Ma saisie",
        }
    )
    training_session.duree_centre = 250  # someone else saves first
    session.commit()
    response = post_form(client, url, form)
    assert response.status_code == 200
    page = text(response)
    assert "modifié par quelqu'un d'autre" in page and "Ma saisie" in page
    db.session.expire_all()
    assert db.session.get(SessionFormation, training_session.id).duree_centre == 250
