"""Every write is audited (who, when, record, before/after) and the log is append-only."""

import pytest
import sqlalchemy as sa

from models import Action, AuditEvent, SessionDispositif, db
from tests.web import login, post_form


def test_a_change_through_the_ui_is_audited_with_its_author_and_values(client, demo, session):
    login(client, "cariforef@demo.sofi.fr")
    dispositif = session.scalar(sa.select(SessionDispositif).where(SessionDispositif.numero_lot_cr == "PAS2025_4"))
    url = f"/admin/dispositifs/edit/?id={dispositif.id}"
    before_places = dispositif.nb_places
    response = post_form(
        client,
        url,
        {
            "dispositif_code": "2",
            "nb_places": str(before_places + 3),
            "publics": [p.code for p in dispositif.publics],
            "prise_en_charge_frais": "1",
            "frais_certification": "0",
        },
    )
    assert response.status_code == 302
    event = session.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.table_name == "session_dispositif",
            AuditEvent.record_id == str(dispositif.id),
            AuditEvent.operation == "update",
        )
    )
    assert event.actor_label == "cariforef@demo.sofi.fr" and event.source == "ui"
    assert event.before["nb_places"] == before_places and event.after["nb_places"] == before_places + 3
    assert event.action_id == dispositif.session.action_id


def test_commands_are_audited_under_their_name(cli, session):
    assert cli("sofi", "demo").exit_code == 0
    labels = set(session.scalars(sa.select(AuditEvent.actor_label).distinct()))
    assert labels == {"flask sofi demo"}
    created = session.scalar(
        sa.select(sa.func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.table_name == "action", AuditEvent.operation == "create")
    )
    assert created == session.scalar(sa.select(sa.func.count()).select_from(Action))


def test_passwords_never_reach_the_audit_log(cli, session):
    assert cli("sofi", "demo").exit_code == 0
    user_events = session.scalars(sa.select(AuditEvent).where(AuditEvent.table_name == "user_account")).all()
    assert user_events and all("password_hash" not in (e.after or {}) for e in user_events)


@pytest.mark.parametrize("statement", ["UPDATE audit_event SET actor_label = 'x'", "DELETE FROM audit_event"])
def test_the_audit_log_cannot_be_changed_or_erased(cli, session, statement):
    assert cli("sofi", "demo").exit_code == 0
    count = session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    with pytest.raises(sa.exc.DatabaseError, match="journal d'audit"):
        session.execute(sa.text(statement))
        session.flush()
    session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == count > 0


def test_organisations_see_the_history_of_their_own_records_only(client, demo, session):
    login(client, "cariforef@demo.sofi.fr")
    page = client.get("/admin/historique/?search=organisation").get_data(as_text=True)
    assert "CARIFOREF DES PAYS DE LA LOIRE" in page
    assert "ATLANTIQUE COMPETENCES" not in page and "MAINE SANTE" not in page
    foreign = session.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.table_name == "organisation", AuditEvent.after["siret"].as_string() == "72198765900019"
        )
    )
    assert client.get(f"/admin/historique/details/?id={foreign.id}").status_code == 404


def test_validators_see_every_history(client, demo, session):
    login(client, "valideur@demo.sofi.fr")
    page = client.get("/admin/historique/?page_size=500&search=organisation").get_data(as_text=True)
    assert "ATLANTIQUE COMPETENCES" in page and "MAINE SANTE" in page


def test_creations_are_recorded_with_the_new_records_id(cli, session):
    assert cli("sofi", "demo").exit_code == 0
    event = session.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.table_name == "action", AuditEvent.operation == "create", AuditEvent.record_id == "89393"
        )
    )
    assert event is not None and event.after["id"] == 89393
