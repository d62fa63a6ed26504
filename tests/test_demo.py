"""``sofi demo``: the seeds' examples with their real codes, every state, idempotent."""

import sqlalchemy as sa

from models import (
    Action,
    ActionStatus,
    Contact,
    Formation,
    FormationFormacode,
    Organisation,
    SessionDispositif,
    SessionFormation,
    User,
    db,
)
from sofi.services.demo import DEMO_PASSWORD
from tests.conftest import ROOT


def _fingerprint() -> dict:
    """Every row of the offer tables, as plain tuples, to compare two runs."""
    fingerprint = {}
    for table in db.metadata.sorted_tables:
        if table.name in ("alembic_version",):
            continue
        columns = [
            c for c in table.columns if c.name not in ("created_at", "updated_at", "status_changed_at", "password_hash")
        ]
        rows = db.session.execute(sa.select(*columns)).all()
        fingerprint[table.name] = sorted(map(tuple, rows), key=repr)
    return fingerprint


def test_demo_twice_leaves_the_same_data(cli):
    first = cli("sofi", "demo")
    assert first.exit_code == 0, first.output
    assert "Démonstration chargée" in first.output
    before = _fingerprint()
    second = cli("sofi", "demo")
    assert second.exit_code == 0, second.output
    assert _fingerprint() == before


def test_demo_holds_the_seeds_examples_with_their_real_codes(cli, session):
    assert cli("sofi", "demo").exit_code == 0
    seed_session = session.get(SessionFormation, 143842)
    assert seed_session.fas_code == "19482-89393-143842"
    assert seed_session.action.formation.intitule == "Titre professionnel assistant ressources humaines"
    assert seed_session.site.nom == "Principal"
    assert seed_session.site.commune.nom == "Nantes"
    assert seed_session.action.organisation.siret == "13000511900032"

    arh = session.scalars(sa.select(Formation).where(Formation.certifinfo_code == 109049)).all()
    validations = {f.validation_blocs: sorted(b.code for b in f.blocs) for f in arh}
    assert validations == {"1": ["RNCP35030BC01", "RNCP35030BC02"], "0": ["RNCP35030BC01"]}
    assert all(f.certification.numero_fiche == "RNCP35030" for f in arh)

    deas = session.scalar(sa.select(Formation).where(Formation.certifinfo_code == 111669))
    deas_session = deas.actions[0].sessions[0]
    assert sorted(d.dispositif.label for d in deas_session.dispositifs) == [
        "Formation avec autres financements (entreprise, individuel)",
        "PROGRAMME REGION - Formations sanitaires et sociales",
    ]

    bureautique = session.scalar(
        sa.select(Formation).join(FormationFormacode).where(FormationFormacode.formacode_code == "15052")
    )
    assert not bureautique.certifiante
    assert bureautique.formacode_principal == "15052"

    prepa = session.scalar(sa.select(SessionDispositif).where(SessionDispositif.numero_lot_cr == "PAS2025_4"))
    assert (prepa.id_action_cr, prepa.of_mandataire_cr) == ("2872", "75")
    assert prepa.session.date_debut.year == 2025
    assert prepa.session.informations_collectives


def test_demo_covers_every_workflow_state_and_several_organisations(cli, session):
    assert cli("sofi", "demo").exit_code == 0
    states = set(session.scalars(sa.select(Action.status).distinct()))
    assert states == set(ActionStatus)
    assert session.scalar(sa.select(sa.func.count()).select_from(Action).where(Action.certifinfo_replaced))
    owners = session.scalars(sa.select(Organisation.siren).join(Action, Action.organisation_id == Organisation.id))
    assert len(set(owners)) >= 3
    assert session.get(Contact, 1902).referent_pmr


def test_demo_accounts_log_in_with_the_documented_password(cli, session):
    assert cli("sofi", "demo").exit_code == 0
    users = {u.email: u for u in session.scalars(sa.select(User))}
    assert {u.role.value for u in users.values()} == {"organisation", "validator", "administrator", "funder", "region"}
    assert all(u.check_password(DEMO_PASSWORD) for u in users.values())
    assert all(u.password_hash != DEMO_PASSWORD for u in users.values())
    multi = users["atlantique@demo.sofi.fr"]
    assert [o.siret for o in multi.organisations] == ["44123456400017", "44123456400025"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for email in users:
        assert email in readme
    assert DEMO_PASSWORD in readme


def test_new_records_after_the_demo_get_fresh_ids(cli, session):
    assert cli("sofi", "demo").exit_code == 0
    formation = session.get(Formation, 19482)
    action = Action(formation=formation, organisation=formation.organisation, site=formation.organisation.sites[0])
    session.add(action)
    session.flush()
    assert action.id > 89393
