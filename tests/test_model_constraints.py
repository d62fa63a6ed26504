"""Model-level constraints reject what the seeds forbid, with a clear French message.

Each rule is checked twice: through the model (what forms, services and importers use) and
directly in SQL (what a bulk insert would hit), on both databases.
"""

from datetime import date

import pytest
import sqlalchemy as sa

from models import Action, Contact, ModelValidationError, Organisation, SessionDispositif, SessionFormation
from sofi.services.lheo_import import NewFormation
from tests import factories


def _persist(session, *objects):
    session.add_all(objects)
    session.flush()


@pytest.fixture
def organisation(session):
    org = factories.organisation()
    _persist(session, org)
    return org


def test_a_valid_tree_is_saved_and_gets_its_fas_code(session, organisation):
    formation, action, training_session = factories.full_tree(organisation)
    _persist(session, formation)
    session.commit()
    assert training_session.fas_code == f"{formation.id}-{action.id}-{training_session.id}"
    assert training_session.dispositifs[0].nb_places == 10


def test_nb_places_below_one_is_refused(session, organisation):
    with pytest.raises(ModelValidationError) as error:
        SessionDispositif(dispositif_code=8, nb_places=0)
    assert error.value.field == "nb_places"
    assert "au moins 1" in error.value.message


def test_nb_places_below_one_is_refused_by_the_database(session, organisation):
    formation, _, training_session = factories.full_tree(organisation)
    _persist(session, formation)
    with pytest.raises(sa.exc.IntegrityError):
        session.execute(sa.update(SessionDispositif).values(nb_places=0))
        session.flush()
    session.rollback()


def test_places_restantes_cannot_exceed_places(session, organisation):
    formation, _, training_session = factories.full_tree(organisation, places=5)
    training_session.dispositifs[0].nb_places_restantes = 6
    session.add(formation)
    with pytest.raises(ModelValidationError) as error:
        session.flush()
    assert error.value.field == "nb_places_restantes"
    assert "ne peut dépasser" in error.value.message
    session.rollback()


def test_end_date_before_start_date_is_refused(session, organisation):
    formation, _, _ = factories.full_tree(organisation, start=date(2027, 3, 1), end=date(2027, 2, 28))
    session.add(formation)
    with pytest.raises(ModelValidationError) as error:
        session.flush()
    assert error.value.field == "date_fin"
    assert "postérieure" in error.value.message
    session.rollback()


def test_end_date_before_start_date_is_refused_by_the_database(session, organisation):
    formation, _, training_session = factories.full_tree(organisation)
    _persist(session, formation)
    with pytest.raises(sa.exc.IntegrityError):
        session.execute(
            sa.update(SessionFormation)
            .where(SessionFormation.id == training_session.id)
            .values(date_fin=date(2020, 1, 1))
        )
        session.flush()
    session.rollback()


@pytest.mark.parametrize(
    ("siret", "expected"),
    [
        ("130005119000321", "14 chiffres"),  # 15 digits
        ("1300051190003", "14 chiffres"),  # 13 digits
        ("1300051190003A", "14 chiffres"),
        ("13000511900033", "clé de contrôle"),  # Luhn check fails
    ],
)
def test_invalid_siret_is_refused(siret, expected):
    with pytest.raises(ModelValidationError) as error:
        Organisation(siret=siret, raison_sociale="X")
    assert error.value.field == "siret"
    assert expected in error.value.message


def test_siren_is_derived_from_siret_and_groups_establishments(session, organisation):
    sister = factories.organisation(siret="44123456400017", raison_sociale="ATLANTIQUE - SITE 2")
    stranger = factories.organisation(siret="13000511900032")
    _persist(session, sister, stranger)
    assert organisation.siren == "441234564"
    sirets = [o.siret for o in session.scalars(organisation.same_organisme())]
    assert sirets == ["44123456400017", "44123456400033"]


def test_nda_accepts_a_letter_and_refuses_wrong_length():
    assert Organisation(siret="13000511900032", raison_sociale="X", nda="7331p001531").nda == "7331P001531"
    with pytest.raises(ModelValidationError) as error:
        Organisation(siret="13000511900032", raison_sociale="X", nda="1234567890")
    assert "11 caractères" in error.value.message


@pytest.mark.parametrize(
    ("field", "limit"),
    [("objectifs", 3000), ("complement_programme", 3000), ("resultats_attendus", 3000), ("plus_formation", 250)],
)
def test_action_texts_are_limited(field, limit):
    Action(**{field: "x" * limit})
    with pytest.raises(ModelValidationError) as error:
        Action(**{field: "x" * (limit + 1)})
    assert error.value.field == field
    assert f"limité à {limit} caractères" in error.value.message


def test_a_3001_character_objectif_is_refused_by_the_database(session, organisation):
    formation, action, _ = factories.full_tree(organisation)
    _persist(session, formation)
    with pytest.raises(sa.exc.IntegrityError):
        session.execute(sa.update(Action).where(Action.id == action.id).values(objectifs="x" * 3001))
        session.flush()
    session.rollback()


def test_formation_intitule_is_mandatory_and_limited(organisation):
    with pytest.raises(ModelValidationError, match="obligatoire"):
        factories.formation(organisation, intitule="  ")
    with pytest.raises(ModelValidationError, match="255"):
        factories.formation(organisation, intitule="x" * 256)


SIX_FORMACODES = ["15052", "15084", "15061", "35014", "43436", "31091"]


def test_at_most_five_formacodes(organisation):
    formation = factories.formation(organisation)
    with pytest.raises(ModelValidationError, match="5 domaines"):
        formation.set_formacodes(SIX_FORMACODES)
    with pytest.raises(ModelValidationError, match="domaine principal"):
        formation.set_formacodes(["15052"], principal="15084")


def test_a_formation_the_import_writes_without_orm_object_keeps_the_formacode_rules(organisation):
    with pytest.raises(ModelValidationError, match="5 domaines"):
        NewFormation.of(organisation, "F-1", {"certification": None}, SIX_FORMACODES, None, [])
    with pytest.raises(ModelValidationError, match="domaine principal"):
        NewFormation.of(organisation, "F-1", {"certification": None}, ["15052"], "15084", [])


@pytest.mark.parametrize(
    ("model", "field", "value"),
    [
        (SessionFormation, "etat_recrutement", "9"),
        (SessionFormation, "modalite_enseignement", "3"),
        (SessionFormation, "rythmes", ["temps-plein", "nuit"]),
        (SessionFormation, "modalites_recrutement", ["42"]),
        (Action, "niveau_entree", "99"),
        (Action, "equipement_type", "12"),
        (Contact, "civilite", "Dr"),
    ],
)
def test_values_outside_their_list_are_refused(model, field, value):
    with pytest.raises(ModelValidationError) as error:
        model(**{field: value})
    assert error.value.field == field
    assert "n'est pas une valeur autorisée" in error.value.message


def test_urls_must_be_web_addresses():
    assert Action(url_action="https://example.org/formation").url_action == "https://example.org/formation"
    with pytest.raises(ModelValidationError, match="http"):
        Action(url_video="javascript:alert(1)")


def test_certifying_formation_needs_a_certification(session, organisation):
    formation = factories.formation(organisation, certifiante=True)
    session.add(formation)
    with pytest.raises(sa.exc.IntegrityError):
        session.flush()
    session.rollback()


def test_a_dispositif_appears_once_per_session(session, organisation):
    formation, _, training_session = factories.full_tree(organisation)
    training_session.dispositifs.append(SessionDispositif(dispositif_code=8, nb_places=3))
    session.add(formation)
    with pytest.raises(sa.exc.IntegrityError):
        session.flush()
    session.rollback()


def test_ids_are_never_reused_after_a_deletion(session, organisation):
    first, _, first_session = factories.full_tree(organisation)
    _persist(session, first)
    deleted_id = first_session.id
    session.delete(first)
    session.flush()
    _, _, second_session = factories.full_tree(organisation)
    _persist(session, second_session.action.formation)
    assert second_session.id > deleted_id
