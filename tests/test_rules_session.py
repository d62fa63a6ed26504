"""Rules of the Session form: mandatory fields, dates, site lieu, organisme responsable, référents, alternance."""

from datetime import date

import pytest

from models import Contact
from tests.test_rules_support import (
    SIRET_OTHER_SIREN,
    SIRET_SAME_SIREN,
    complete_tree,
    force,
    is_french,
    new_dispositif,
    only,
    organisation,
)

MANDATORY = [
    ("site", "Site lieu"),
    ("date_debut", "Date début"),
    ("date_fin", "Date fin"),
    ("entrees_sorties", "ESP"),
    ("rythmes", "Rythmes"),
    ("periodes", "Périodes de formation"),
    ("type_parcours", "Type de parcours"),
    ("modalites_pedagogiques", "Modalités pédagogiques"),
    ("modalite_enseignement", "Modalités d'enseignement"),
    ("duree_centre", "Durée en centre (en h)"),
    ("organisme_responsable", "Organisme responsable"),
    ("etat_recrutement", "Recrutement"),
    ("referent_pmr", "Référent PMR"),
    ("referent_mobilite", "Référent mobilité"),
]
RECOMMENDED = [
    ("duree_entreprise", "Durée en entreprise (en h)"),
    ("modalites_recrutement", "Modalités de recrutement"),
    ("referent_prf", "Référent PRF"),
    ("mail_liaison", "Mail de liaison"),
]
REFERENCES = {"site", "organisme_responsable", "referent_pmr", "referent_mobilite", "referent_prf", "mail_liaison"}


def _clear(training_session, attribute):
    if attribute in REFERENCES:
        setattr(training_session, attribute, None)
        setattr(training_session, f"{attribute}_id", None)
    else:
        force(training_session, attribute, [] if isinstance(getattr(training_session, attribute), list) else None)


@pytest.mark.parametrize("attribute, label", MANDATORY)
def test_each_mandatory_session_field_blocks(session, attribute, label):
    tree = complete_tree(session)
    _clear(tree.session, attribute)
    found = only(tree.problems())
    assert (found.code, found.level, found.record_id, found.field, found.blocking) == (
        f"session.{attribute}.required",
        "session",
        tree.session.id,
        attribute,
        True,
    )
    assert found.message == f"{label} : champ obligatoire."
    assert found.label == f"Session {tree.formation.id}-{tree.action.id}-{tree.session.id}"


@pytest.mark.parametrize("attribute, label", RECOMMENDED)
def test_recommended_session_fields_are_warnings(session, attribute, label):
    tree = complete_tree(session)
    _clear(tree.session, attribute)
    found = only(tree.problems())
    assert (found.code, found.field, found.blocking) == (f"session.{attribute}.required", attribute, False)
    assert found.message == f"{label} : champ recommandé, à renseigner."


def test_end_date_before_start_date(session):
    tree = complete_tree(session)
    tree.session.date_fin = date(2027, 1, 3)
    found = only(tree.problems())
    assert (found.code, found.field, found.blocking) == ("session.date_fin.before_start", "date_fin", True)
    assert found.message == "Date fin : le 03/01/2027 précède la date de début (04/01/2027)."


def test_a_session_on_one_day_is_fine(session):
    tree = complete_tree(session, start=date(2027, 2, 15), end=date(2027, 2, 15))
    assert tree.problems() == []


def test_site_lieu_of_another_organisme_is_refused(session):
    tree = complete_tree(session)
    other = organisation(SIRET_OTHER_SIREN)
    session.add(other)
    session.flush()
    tree.session.site = other.sites[0]
    found = only(tree.problems())
    assert (found.code, found.field, found.blocking) == ("session.site.other_organisme", "site", True)
    assert is_french(found.message)


def test_site_lieu_of_an_establishment_with_the_same_siren_is_accepted(session):
    tree = complete_tree(session)
    sister = organisation(SIRET_SAME_SIREN)
    session.add(sister)
    session.flush()
    tree.session.site = sister.sites[0]
    assert tree.problems() == []


def test_organisme_responsable_must_share_the_siren(session):
    tree = complete_tree(session)
    other = organisation(SIRET_OTHER_SIREN, raison_sociale="MAINE SANTE FORMATION")
    sister = organisation(SIRET_SAME_SIREN)
    session.add_all([other, sister])
    session.flush()
    tree.session.organisme_responsable = sister
    assert tree.problems() == []
    tree.session.organisme_responsable = other
    found = only(tree.problems())
    assert (found.code, found.field, found.blocking) == (
        "session.organisme_responsable.other_siren",
        "organisme_responsable",
        True,
    )
    assert "MAINE SANTE FORMATION" in found.message and "441234564" in found.message


@pytest.mark.parametrize("attribute", ["referent_pmr", "referent_mobilite", "referent_prf", "mail_liaison"])
def test_referents_are_contacts_of_the_organisme(session, attribute):
    tree = complete_tree(session)
    other, sister = organisation(SIRET_OTHER_SIREN), organisation(SIRET_SAME_SIREN)
    session.add_all([other, sister])
    session.flush()
    setattr(tree.session, attribute, sister.contacts[0])
    assert tree.problems() == []
    setattr(tree.session, attribute, other.contacts[0])
    found = only(tree.problems())
    assert (found.code, found.field, found.blocking) == (f"session.{attribute}.other_organisme", attribute, True)
    assert "Léa Martin n'est pas un contact de votre organisme" in found.message


def test_a_referent_must_hold_the_role(session):
    tree = complete_tree(session)
    assistant = Contact(nom="Durand", prenom="Paul", referent_mobilite=True)
    tree.organisation.contacts.append(assistant)
    session.flush()
    tree.session.referent_mobilite = assistant
    assert tree.problems() == []
    tree.session.referent_pmr = assistant
    found = only(tree.problems())
    assert (found.code, found.field, found.blocking) == ("session.referent_pmr.role", "referent_pmr", True)
    assert found.message == (
        "Référent PMR : Paul Durand n'est pas déclaré(e) « Référent PMR » dans l'annuaire de l'organisme."
    )


def test_an_inactive_referent_is_refused(session):
    tree = complete_tree(session)
    tree.organisation.contacts[0].active = False
    codes = tree.codes()
    assert codes == [
        "session.referent_pmr.inactive",
        "session.referent_prf.inactive",
        "session.mail_liaison.inactive",
        "session.referent_mobilite.inactive",
    ]


def test_a_session_needs_a_dispositif(session):
    tree = complete_tree(session)
    tree.session.dispositifs = []
    found = only(tree.problems())
    assert (found.code, found.field, found.blocking) == ("session.dispositifs.required", "dispositifs", True)
    assert found.message.startswith("Dispositif : ajoutez au moins un dispositif")


@pytest.mark.parametrize(
    "code, contract",
    [(6, "un contrat d'apprentissage"), (7, "un contrat de professionnalisation")],
)
def test_alternance_contracts_need_the_cycle(session, code, contract):
    tree = complete_tree(session, dispositif=code, dispositif_fields={"effectif_minimal": 6, "capacite_simultanee": 12})
    problems = tree.problems()
    assert [(p.code, p.level, p.field, p.blocking) for p in problems] == [
        ("session.cycle_unite.required", "session", "cycle_unite", True),
        ("session.cycle_unites_entreprise.required", "session", "cycle_unites_entreprise", True),
        ("session.cycle_unites_centre.required", "session", "cycle_unites_centre", True),
    ]
    assert problems[0].message == f"Cycle de l'alternance : champ obligatoire pour {contract}."
    tree.session.cycle_unite, tree.session.cycle_unites_entreprise, tree.session.cycle_unites_centre = "3", 2, 1
    assert tree.problems() == []


def test_an_apprenticeship_among_other_dispositifs_still_needs_the_cycle(session):
    tree = complete_tree(session)
    new_dispositif(session, tree.session, 6, effectif_minimal=4, capacite_simultanee=8)
    session.flush()
    assert tree.codes() == [
        "session.cycle_unite.required",
        "session.cycle_unites_entreprise.required",
        "session.cycle_unites_centre.required",
    ]


def test_individualisation_by_blocs_suggests_individualised_or_modular_parcours(session):
    tree = complete_tree(session, fiche="RNCP37674")
    tree.formation.individualisation_blocs = True
    found = only(tree.problems())
    assert (found.code, found.field, found.blocking) == (
        "session.type_parcours.individualisation",
        "type_parcours",
        False,
    )
    assert "« individualisé » ou « modularisé »" in found.message
    for parcours in ("2", "3"):
        tree.session.type_parcours = parcours
        assert tree.problems() == []
