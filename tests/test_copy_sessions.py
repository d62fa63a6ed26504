"""Copy-session on several sessions at once: new draft sessions, new FAS codes, originals untouched."""

from datetime import date

import sqlalchemy as sa

from models import Action, ActionStatus, Organisation, SessionFormation, db
from tests.web import csrf_token, login, text


def _snapshot(training_session):
    return (
        training_session.date_debut,
        training_session.date_fin,
        training_session.action_id,
        sorted((d.dispositif_code, d.nb_places, d.nb_places_restantes) for d in training_session.dispositifs),
    )


def test_copy_of_several_sessions_creates_drafts_with_their_dispositifs(client, demo, session):
    login(client, "atlantique@demo.sofi.fr")
    nantes = session.scalar(sa.select(Organisation).where(Organisation.siret == "44123456400017"))
    sources = session.scalars(
        sa.select(SessionFormation)
        .join(Action)
        .where(Action.organisation_id == nantes.id)
        .order_by(SessionFormation.id)
    ).all()
    assert len(sources) >= 2
    before = {s.id: _snapshot(s) for s in sources}
    count_before = session.scalar(sa.select(sa.func.count()).select_from(SessionFormation))
    token = csrf_token(client, "/admin/sessions/")
    response = client.post(
        "/admin/sessions/action/",
        data={"csrf_token": token, "action": "copier", "rowid": [str(s.id) for s in sources]},
    )
    assert response.status_code == 302
    form_url = response.headers["Location"]
    page = text(client.get(form_url))
    assert all(s.fas_code in page for s in sources)
    data = {"csrf_token": csrf_token(client, form_url)}
    for index, source in enumerate(sources):
        data[f"sessions-{index}-session_id"] = str(source.id)
        data[f"sessions-{index}-date_debut"] = f"2028-0{index + 1}-03"
        data[f"sessions-{index}-date_fin"] = f"2028-0{index + 1}-28"
    assert client.post(form_url, data=data).status_code == 302

    db.session.expire_all()
    assert session.scalar(sa.select(sa.func.count()).select_from(SessionFormation)) == count_before + len(sources)
    for index, source in enumerate(sources):
        source = db.session.get(SessionFormation, source.id)
        assert _snapshot(source) == before[source.id]
        copy = session.scalar(
            sa.select(SessionFormation)
            .where(SessionFormation.action_id == source.action_id, SessionFormation.id > max(before))
            .where(SessionFormation.date_debut == date(2028, index + 1, 3))
        )
        assert copy is not None and copy.fas_code != source.fas_code
        assert sorted(d.dispositif_code for d in copy.dispositifs) == sorted(
            d.dispositif_code for d in source.dispositifs
        )
        assert all(d.nb_places_restantes is None for d in copy.dispositifs)
        assert copy.action.status is ActionStatus.EN_COURS_DE_SAISIE


def test_copy_refuses_an_end_before_the_start_and_creates_nothing(client, demo, session):
    login(client, "cariforef@demo.sofi.fr")
    source = session.get(SessionFormation, 143842)
    count_before = session.scalar(sa.select(sa.func.count()).select_from(SessionFormation))
    url = f"/admin/sessions/copy/?ids={source.id}"
    response = client.post(
        url,
        data={
            "csrf_token": csrf_token(client, url),
            "sessions-0-session_id": str(source.id),
            "sessions-0-date_debut": "2028-03-01",
            "sessions-0-date_fin": "2028-02-01",
        },
    )
    assert response.status_code == 200
    assert "postérieure ou égale" in text(response)
    assert session.scalar(sa.select(sa.func.count()).select_from(SessionFormation)) == count_before
