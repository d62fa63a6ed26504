"""Funder circuits of seeds/004: funder approval before publication, supporting documents."""

import io

import sqlalchemy as sa

from models import (
    Action,
    ActionStatus,
    Formation,
    Public,
    PublishedAction,
    SessionDispositif,
    SupportingDocument,
    db,
)
from tests.web import csrf_token, login, logout, text

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _action(session, intitule: str) -> Action:
    return session.scalar(sa.select(Action).join(Formation).where(Formation.intitule == intitule))


def _post(client, url: str, data: dict, **kwargs):
    return client.post(url, data={"csrf_token": csrf_token(client, "/admin/"), **data}, **kwargs)


def test_a_scheme_needing_the_funders_approval_waits_for_it(client, demo, session):
    pending = _action(session, "Bureautique : Word, Excel et outils collaboratifs")
    publics = [session.get(Public, "80006")]
    pending.sessions[0].dispositifs.append(SessionDispositif(dispositif_code=11, nb_places=4, publics=publics))  # AIF
    session.commit()
    login(client, "valideur@demo.sofi.fr")
    _post(client, "/admin/validation/approve/", {"id": str(pending.id)})
    assert "accord du financeur est attendu" in text(client.get(f"/admin/validation/review/?id={pending.id}"))
    db.session.expire_all()
    assert db.session.get(Action, pending.id).status is ActionStatus.EN_ATTENTE_VALIDATION
    logout(client)

    login(client, "france-travail@demo.sofi.fr")
    listing = text(client.get("/admin/financeur/"))
    assert "Bureautique" in listing and "DEAS" not in listing  # only actions of its schemes
    refused = _post(client, "/admin/financeur/decision/", {"id": str(pending.id), "decision": "refus"})
    assert refused.status_code == 200 and "Indiquez pourquoi" in text(refused)
    assert _post(client, "/admin/financeur/decision/", {"id": str(pending.id), "decision": "accord"}).status_code == 302
    assert client.get("/admin/validation/").status_code == 403  # a funder is not a validator
    logout(client)

    login(client, "valideur@demo.sofi.fr")
    assert "accord du" in text(client.get(f"/admin/validation/review/?id={pending.id}"))
    _post(client, "/admin/validation/approve/", {"id": str(pending.id)})
    db.session.expire_all()
    assert db.session.get(Action, pending.id).status is ActionStatus.PUBLIEE


def test_a_funder_cannot_decide_for_another_funders_action(client, demo, session):
    pending = _action(session, "Bureautique : Word, Excel et outils collaboratifs")
    login(client, "france-travail@demo.sofi.fr")
    assert client.get(f"/admin/financeur/decision/?id={pending.id}").status_code == 404
    assert _post(client, "/admin/financeur/decision/", {"id": str(pending.id), "decision": "accord"}).status_code == 404


def test_a_state_funded_dispositif_needs_its_supporting_document(client, demo, session):
    draft = _action(session, "Gestes et postures : prévenir les troubles musculo-squelettiques")
    draft.sessions[0].dispositifs.append(SessionDispositif(dispositif_code=17, nb_places=6, publics=[]))
    session.commit()
    login(client, "maine@demo.sofi.fr")
    recap = text(client.get(f"/admin/actions/recap/?id={draft.id}"))
    assert "justificatif du financement" in recap
    fake = _post(
        client,
        "/admin/actions/documents/",
        {"id": str(draft.id), "document": (io.BytesIO(b"MZ\x90\x00"), "convention.pdf")},
        content_type="multipart/form-data",
    )
    assert fake.status_code == 302
    assert session.scalar(sa.select(sa.func.count()).select_from(SupportingDocument)) == 0
    _post(
        client,
        "/admin/actions/documents/",
        {"id": str(draft.id), "document": (io.BytesIO(PDF), "convention.pdf")},
        content_type="multipart/form-data",
    )
    document = session.scalar(sa.select(SupportingDocument).where(SupportingDocument.action_id == draft.id))
    assert document.filename == "convention.pdf" and document.content_type == "application/pdf"
    assert "justificatif du financement" not in text(client.get(f"/admin/actions/recap/?id={draft.id}"))
    assert client.get(f"/admin/validation/document/?id={document.id}").status_code == 403
    logout(client)

    login(client, "cariforef@demo.sofi.fr")  # another organisation
    response = _post(client, "/admin/actions/documents/delete/", {"id": str(draft.id), "document_id": str(document.id)})
    assert response.status_code == 404
    logout(client)

    login(client, "valideur@demo.sofi.fr")
    download = client.get(f"/admin/validation/document/?id={document.id}")
    assert download.status_code == 200 and download.data == PDF
    assert db.session.get(PublishedAction, draft.id) is None
