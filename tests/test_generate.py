"""``flask sofi generate``: a synthetic data set written in bulk, consistent with what the app writes."""

from collections import Counter
from datetime import date

import sqlalchemy as sa

from models import (
    Action,
    ActionStatus,
    Formation,
    Organisation,
    PublishedAction,
    PublishedFormacode,
    PublishedSession,
    SessionFormation,
    db,
    published_session_dispositif,
    published_session_public,
)
from sofi.services import publication, workflow
from sofi.services.generate import allocate_ids
from sofi.services.users import create_user
from tests.conftest import count_rows
from tests.test_query_counts import get
from tests.web import login, logout, text

PASSWORD = "generated-2026"
SHAPE = ["--organisations", "2", "--formations", "5", "--actions-per-formation", "2", "--sessions-per-action", "3"]


def _generate(cli, *extra):
    result = cli("sofi", "generate", *SHAPE, *extra)
    assert result.exit_code == 0, (result.output, result.stderr if hasattr(result, "stderr") else "")
    return result


def _fas_codes() -> list[str]:
    rows = db.session.execute(
        sa.select(Action.formation_id, SessionFormation.action_id, SessionFormation.id).join(Action)
    ).all()
    return [f"{f}-{a}-{s}" for f, a, s in rows]


def _published_rows() -> dict:
    """Everything the published version of the actions consists of (minus timestamps)."""
    return {
        "actions": sorted(
            db.session.execute(
                sa.select(
                    PublishedAction.action_id,
                    PublishedAction.formation_id,
                    PublishedAction.organisation_id,
                    PublishedAction.organisation_siret,
                    PublishedAction.intitule,
                    PublishedAction.search_text,
                    PublishedAction.certifiante,
                    PublishedAction.niveau_sortie,
                    PublishedAction.formacode_principal,
                )
            ).all()
        ),
        "data": {a.action_id: a.data for a in db.session.scalars(sa.select(PublishedAction))},
        "formacodes": sorted(db.session.execute(sa.select(PublishedFormacode.__table__)).all()),
        "sessions": sorted(
            db.session.execute(sa.select(*(c for c in PublishedSession.__table__.c if c.name != "updated_at"))).all()
        ),
        "dispositifs": sorted(db.session.execute(sa.select(published_session_dispositif)).all()),
        "publics": sorted(db.session.execute(sa.select(published_session_public)).all()),
    }


def test_generate_writes_the_requested_volumes_in_every_state(session, cli):
    result = _generate(cli)
    assert "30 sessions" in result.output
    assert count_rows(Organisation) == 2
    assert count_rows(Formation) == 5
    assert count_rows(Action) == 10
    assert count_rows(SessionFormation) == 30
    states = Counter(session.scalars(sa.select(Action.status)))
    assert set(states) == set(ActionStatus)
    fas = _fas_codes()
    assert len(fas) == len(set(fas)) == 30
    # Organisations, sites and référents are consistent (same organisation).
    for organisation in session.scalars(sa.select(Organisation)):
        assert organisation.sites and organisation.contacts and organisation.habilitations


def test_published_versions_are_exactly_what_publish_writes(session, cli):
    _generate(cli)
    published_ids = set(session.scalars(sa.select(Action.id).where(Action.status == ActionStatus.PUBLIEE)))
    assert published_ids == set(session.scalars(sa.select(PublishedAction.action_id)))
    expected_sessions = session.scalar(
        sa.select(sa.func.count()).select_from(SessionFormation).where(SessionFormation.action_id.in_(published_ids))
    )
    assert count_rows(PublishedSession) == expected_sessions > 0
    generated = _published_rows()
    # Publishing again through the app's own path must store the very same rows and snapshots.
    for action in session.scalars(sa.select(Action).where(Action.id.in_(published_ids))):
        publication.publish(action)
    session.flush()
    republished = _published_rows()
    for key in generated:
        assert generated[key] == republished[key], key
    session.rollback()


def test_ids_continue_after_generation_and_a_second_run(session, cli):
    _generate(cli)
    first_max = session.scalar(sa.select(sa.func.max(SessionFormation.id)))
    _generate(cli, "--seed", "7")
    assert count_rows(SessionFormation) == 60
    assert count_rows(Organisation) == 4
    fas = _fas_codes()
    assert len(fas) == len(set(fas))
    assert session.scalar(sa.select(sa.func.min(SessionFormation.id)).where(SessionFormation.id > first_max))
    # The sequences were moved past the generated ids: the next ids the app allocates are new.
    for table in (Formation.__table__, Action.__table__, SessionFormation.__table__):
        highest = session.scalar(sa.select(sa.func.max(table.c.id)))
        assert allocate_ids(table, 1) > highest
    session.rollback()


def test_the_app_works_on_a_generated_data_set(session, cli, client):
    _generate(cli)
    organisation = session.scalars(sa.select(Organisation).order_by(Organisation.id)).first()
    create_user("of@generated.example", PASSWORD, "organisation", [organisation.siret])
    validator = create_user("valideur@generated.example", PASSWORD, "validator")
    # A waiting action can be approved: the generated data satisfy the business rules.
    waiting = session.scalars(sa.select(Action).where(Action.status == ActionStatus.EN_ATTENTE_VALIDATION)).all()
    assert waiting
    result = workflow.bulk_approve(validator, waiting, today=date.today())
    assert not result.skipped, result.skipped
    published = session.scalar(sa.select(PublishedAction).order_by(PublishedAction.action_id))

    login(client, "of@generated.example", PASSWORD)
    for url in ("/admin/", "/admin/sessions/", "/admin/actions/", "/admin/formations/"):
        assert client.get(url).status_code == 200, url
    listing = text(client.get("/admin/sessions/"))
    assert organisation.raison_sociale in listing
    logout(client)
    login(client, "valideur@generated.example", PASSWORD)
    for url in ("/admin/validation/", "/admin/validation/?etat=publiee", "/admin/sessions/"):
        assert client.get(url).status_code == 200, url
    for url in (
        "/formations",
        f"/formations/{published.formation_id}",
        "/api/v1/formations",
        f"/api/v1/formations/{published.formation_id}",
    ):
        assert get(client, url).status_code == 200, url
    assert published.intitule in text(client.get(f"/formations/{published.formation_id}"))


def test_generate_refuses_bad_input(session, cli):
    result = cli("sofi", "generate", "--organisations", "0", "--formations", "1")
    assert result.exit_code != 0
    assert count_rows(Organisation) == 0
