"""Administrators' screens of the regional programme: programmes, lots, templates (lists, exports, edits)."""

import sqlalchemy as sa

from models import AuditEvent, Lot, Programme, db
from tests.web import csrf_token, login, post_form
from tests.web import text as raw_text


def text(response) -> str:
    return " ".join(raw_text(response).split())


def test_administrators_list_and_export_the_lots_with_their_organisations(client, demo, session):
    login(client, "admin@demo.sofi.fr")
    page = text(client.get("/admin/programme_lots/?search=PAS2025_4"))
    assert "PAS2025_4" in page and "BC-2025-0412" in page and "2872" in page
    assert "CARIFOREF DES PAYS DE LA LOIRE (13000511900032, code CR 75)" in page
    assert "PAS2025_7" not in page
    export = client.get("/admin/programme_lots/export/csv/")
    assert export.status_code == 200
    lines = export.get_data(as_text=True).splitlines()
    assert len(lines) == 1 + session.scalar(sa.select(sa.func.count()).select_from(Lot))
    assert any(line.startswith("PAS2025_4,") for line in lines)
    programmes_page = text(client.get("/admin/programmes/"))
    assert "PREPA Avenir Sup" in programmes_page and "PREPA Clés Avenir" in programmes_page


def test_an_administrator_corrects_a_lot_and_the_change_is_audited(client, demo, session):
    lot = session.scalar(sa.select(Lot).where(Lot.code == "PAS2025_4"))
    login(client, "admin@demo.sofi.fr")
    url = f"/admin/programme_lots/edit/?id={lot.id}"
    data = {
        "intitule": lot.intitule,
        "annee": "2025",
        "nb_places": "32",
        "bon_commande": lot.bon_commande,
        "semestre": "2",
        "id_action_cr": lot.id_action_cr,
    }
    assert post_form(client, url, data).status_code == 302
    db.session.expire_all()
    assert db.session.get(Lot, lot.id).nb_places == 32
    event = session.scalar(
        sa.select(AuditEvent).where(AuditEvent.table_name == "programme_lot", AuditEvent.operation == "update")
    )
    assert (event.before, event.after, event.actor_label) == (
        {"nb_places": 30},
        {"nb_places": 32},
        "admin@demo.sofi.fr",
    )
    refused = post_form(client, url, {**data, "nb_places": "0"})
    assert "Enregistrement impossible : Le nombre de places commandées doit être au moins 1." in text(refused)
    db.session.expire_all()
    assert db.session.get(Lot, lot.id).nb_places == 32


def test_an_administrator_adds_a_programme(client, demo, session):
    login(client, "admin@demo.sofi.fr")
    response = post_form(
        client, "/admin/programmes/new/", {"code": "pqa", "intitule": "PREPA Qualif Avenir", "active": "y"}
    )
    assert response.status_code == 302
    created = session.scalar(sa.select(Programme).where(Programme.intitule == "PREPA Qualif Avenir"))
    assert created.code == "PQA" and created.template is None


def test_validators_and_organisations_do_not_manage_the_programme(client, demo, session):
    for email in ("valideur@demo.sofi.fr", "cariforef@demo.sofi.fr", "region@demo.sofi.fr"):
        login(client, email)
        for url in ("/admin/programmes/", "/admin/programme_lots/", "/admin/programme_modeles/"):
            assert client.get(url).status_code == 403, (email, url)
        assert client.get("/admin/programme_import/").status_code == 403
        client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/")})
