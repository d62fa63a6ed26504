"""The regional programme's order rules (seeds 002 and 004), each broken once, with its French message.

They block both the submission (``workflow.submit_action``) and the validation (``workflow.approve``).
"""

from datetime import date

import pytest
import sqlalchemy as sa

from models import (
    ActionStatus,
    Dispositif,
    InformationCollective,
    Lot,
    LotOrganisation,
    LotRole,
    Programme,
    ProgrammeAction,
    ProgrammeTemplate,
    Role,
    User,
)
from sofi.permissions import OrganisationPrincipal
from sofi.rules import check_action
from sofi.rules.programme import add_months
from sofi.services import workflow
from sofi.services.errors import DomainError
from tests.test_rules_support import (
    SIRET_OTHER_SIREN,
    complete_tree,
    force,
    is_french,
    new_dispositif,
    new_session,
    only,
    organisation,
    prepa_tree,
)

TODAY = date(2025, 11, 20)


def _by(problems, code):
    return [p for p in problems if p.code == code]


def known_lot(session, mandataire, *, code="PAS2025_4", annee=2025, places=30, semestre=2, template=False) -> Lot:
    """The lot as the Region's file describes it (seed 002: PAS2025_4, order of the 2nd semester 2025)."""
    programme = session.scalar(sa.select(Programme).where(Programme.code == "PAS")) or Programme(
        code="PAS", intitule="PREPA Avenir Sup"
    )
    lot = Lot(
        code=code,
        intitule="PREPA Avenir Sup - Nantes",
        programme=programme,
        annee=annee,
        nb_places=places,
        bon_commande="BC-2025-0412",
        semestre=semestre,
        id_action_cr="2872",
    )
    lot.organisations = [LotOrganisation(organisation=mandataire, role=LotRole.MANDATAIRE, code_cr="75")]
    if template and programme.template is None:
        programme.template = ProgrammeTemplate(
            intitule="PREPA Avenir Sup",
            objectif_general="9",
            formacodes=["15084", "15061"],
            formacode_principal="15061",
            entrees_sorties=["0"],
            types_parcours=["4", "2"],
            dispositif_code=2,
            publics=["80006"],
        )
    session.add(lot)
    session.flush()
    return lot


def test_the_seed_tree_on_its_known_lot_breaks_no_rule(session):
    tree = prepa_tree(session)
    known_lot(session, tree.organisation, template=True)
    assert tree.problems(TODAY) == []


def test_the_year_of_a_known_lot_is_the_files_even_for_a_code_without_year(session):
    tree = prepa_tree(session, start=date(2026, 1, 5), end=date(2026, 6, 30), numero_lot_cr="LOT-NANTES")
    known_lot(session, tree.organisation, code="LOT-NANTES", semestre=None)
    found = only(tree.problems(TODAY))
    assert (found.code, found.field, found.blocking) == ("programme.lot_year", "date_debut", True)
    assert found.message == (
        "Date début : les sessions du lot LOT-NANTES (PROGRAMME REGION - Prépa avenir sup) doivent débuter en 2025 ; "
        "la date saisie est le 05/01/2026."
    )


def test_a_programme_dispositif_needs_its_number_of_places(session):
    tree = prepa_tree(session)
    force(tree.dispositif, "nb_places", None)
    (found,) = _by(tree.problems(TODAY), "programme.nb_places.required")
    assert (found.level, found.record_id, found.field, found.blocking) == (
        "dispositif",
        tree.dispositif.id,
        "nb_places",
        True,
    )
    assert found.message == (
        "Nb places dispositif : champ obligatoire pour une formation du programme régional, à indiquer selon le "
        "bon de commande de la Région et le tableau de programmation annexé."
    )


def test_the_sessions_of_a_lot_offer_no_more_places_than_ordered(session):
    tree = prepa_tree(session)  # 10 places on PAS2025_4
    lot = known_lot(session, tree.organisation, places=30)
    other = complete_tree(
        session,
        organisation(SIRET_OTHER_SIREN, conventionnements=["2"]),
        dispositif=2,
        start=date(2025, 12, 8),
        end=date(2026, 5, 29),
        dispositif_fields={"numero_lot_cr": "PAS2025_4", "prise_en_charge_frais": True, "nb_places": 21},
    )
    found = only(tree.problems(TODAY))
    assert (found.code, found.level, found.record_id, found.field, found.blocking) == (
        "programme.lot_places",
        "dispositif",
        tree.dispositif.id,
        "nb_places",
        True,
    )
    assert found.message == (
        "Nb places dispositif : le total des places des sessions du lot PAS2025_4 (31) dépasse les 30 places "
        "commandées par la Région."
    )
    lot.nb_places = 31
    assert tree.problems(TODAY) == []  # exactly the places ordered
    lot.nb_places = 30
    other.action.status = ActionStatus.REFUSEE  # a refused action does not take places
    session.flush()
    assert tree.problems(TODAY) == []


def test_the_first_session_starts_in_the_semester_of_the_order(session):
    tree = prepa_tree(session)  # starts 01/12/2025
    known_lot(session, tree.organisation, semestre=1)
    found = only(tree.problems(TODAY))
    assert (found.code, found.level, found.record_id, found.field, found.blocking) == (
        "programme.order_semester",
        "session",
        tree.session.id,
        "date_debut",
        True,
    )
    assert found.message == (
        "Date début : la première session du lot PAS2025_4 doit débuter au 1er semestre 2025 (du 01/01/2025 au "
        "30/06/2025), semestre du bon de commande n° BC-2025-0412 ; la date saisie est le 01/12/2025."
    )
    assert is_french(found.message)


def test_only_the_first_session_of_the_lot_is_held_to_the_semester(session):
    tree = prepa_tree(session, start=date(2025, 7, 1), end=date(2025, 12, 19))
    known_lot(session, tree.organisation, semestre=2)
    later = new_session(tree.action, tree.organisation, date(2025, 12, 29), date(2026, 6, 26), type_parcours="4")
    later.informations_collectives = [InformationCollective(date=date(2025, 12, 1), lieu="Nantes")]
    new_dispositif(session, later, 2, numero_lot_cr="PAS2025_4", prise_en_charge_frais=True)
    session.flush()
    assert tree.problems(TODAY) == []
    tree.session.date_debut = date(2025, 6, 30)  # the first session now starts in the 1st semester
    assert [p.code for p in tree.problems(TODAY)] == ["programme.order_semester"]


def test_the_last_day_is_at_most_18_months_after_the_first(session):
    tree = prepa_tree(session, start=date(2025, 12, 1), end=date(2027, 6, 1))
    assert tree.problems(TODAY) == []  # exactly 18 months
    tree.session.date_fin = date(2027, 6, 2)
    found = only(tree.problems(TODAY))
    assert (found.code, found.record_id, found.field, found.blocking) == (
        "programme.max_duration",
        tree.session.id,
        "date_fin",
        True,
    )
    assert found.message == (
        "Date fin : le dernier jour de la dernière session du lot PAS2025_4 (02/06/2027) ne doit pas dépasser de "
        "plus de 18 mois le premier jour de la première session (01/12/2025), soit le 01/06/2027 au plus tard."
    )


def test_with_several_sessions_the_last_one_is_measured_from_the_first_one(session):
    tree = prepa_tree(session, start=date(2025, 12, 1), end=date(2026, 3, 27))
    last = new_session(tree.action, tree.organisation, date(2025, 12, 15), date(2027, 6, 4), type_parcours="4")
    last.informations_collectives = [InformationCollective(date=date(2025, 12, 1), lieu="Nantes")]
    new_dispositif(session, last, 2, numero_lot_cr="PAS2025_4", prise_en_charge_frais=True)
    session.flush()
    found = only(tree.problems(TODAY))
    assert (found.code, found.record_id) == ("programme.max_duration", last.id)
    assert "(01/12/2025), soit le 01/06/2027 au plus tard." in found.message


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2025, 12, 1), 18, date(2027, 6, 1)),
        (date(2025, 8, 31), 18, date(2027, 2, 28)),
        (date(2026, 8, 31), 18, date(2028, 2, 29)),
        (date(2025, 1, 15), 0, date(2025, 1, 15)),
    ],
)
def test_add_months(start, months, expected):
    assert add_months(start, months) == expected


def test_the_organisme_responsable_is_the_mandataire_of_the_lot(session):
    tree = prepa_tree(session)
    mandataire = organisation(SIRET_OTHER_SIREN, raison_sociale="MANDATAIRE DU LOT")
    session.add(mandataire)
    known_lot(session, mandataire)
    found = only(tree.problems(TODAY))
    assert (found.code, found.field, found.blocking) == (
        "programme.organisme_responsable",
        "organisme_responsable",
        True,
    )
    assert found.message == (
        "Organisme responsable : pour une formation du programme régional, l'organisme responsable est le "
        "mandataire du lot (MANDATAIRE DU LOT)."
    )
    tree.session.organisme_responsable = mandataire  # another SIREN, but the lot's mandataire
    assert tree.problems(TODAY) == []


@pytest.mark.parametrize(
    ("attribute", "value", "message"),
    [
        (
            "type_parcours",
            "1",
            "Type de parcours : le programme « PREPA Avenir Sup » demande « mixte » ou « individualisé » ; "
            "« en groupe (non personnalisable) » n'est pas admis.",
        ),
        (
            "entrees_sorties",
            "1",
            "Entrées/sorties : le programme « PREPA Avenir Sup » demande « entrées/sorties à dates fixes » ; "
            "« entrées/sorties permanentes » n'est pas admis.",
        ),
    ],
)
def test_the_session_modes_are_those_of_the_programme(session, attribute, value, message):
    tree = prepa_tree(session)
    known_lot(session, tree.organisation, template=True)
    setattr(tree.session, attribute, value)
    found = only(tree.problems(TODAY))
    assert (found.code, found.field, found.message) == (f"programme.{attribute}", attribute, message)


def test_an_action_created_from_a_lot_carries_the_programme_dispositif_and_informations_collectives(session):
    tree = prepa_tree(session)
    lot = known_lot(session, tree.organisation, template=True)
    session.add(ProgrammeAction(action=tree.action, lot=lot, mandataire=tree.organisation))
    session.flush()
    assert tree.problems(TODAY) == []
    tree.dispositif.dispositif = session.get(Dispositif, 8)  # "Autres financements" instead of the programme's
    tree.dispositif.numero_lot_cr = None
    tree.session.informations_collectives = []
    session.flush()
    problems = tree.problems(TODAY)
    (required,) = _by(problems, "programme.dispositif.required")
    assert required.message == (
        "Dispositif : les sessions d'une formation publique du lot PAS2025_4 portent le dispositif "
        "« PROGRAMME REGION - Prépa avenir sup » avec le numéro de lot PAS2025_4."
    )
    (collectives,) = _by(problems, "programme.informations_collectives.required")
    assert "Kairos" in collectives.message


def test_the_rules_block_the_submission_and_the_validation(session):
    tree = prepa_tree(session)
    known_lot(session, tree.organisation, places=8)  # 10 places entered, 8 ordered
    assert [p.code for p in check_action(tree.action)] == ["programme.lot_places"]
    principal = OrganisationPrincipal(tree.organisation, "test")
    with pytest.raises(DomainError) as refused:
        workflow.submit_action(principal, tree.action)
    assert refused.value.message == (
        "L'action ne peut pas être envoyée : 1 point(s) bloquant(s) à corriger (voir l'état de la saisie)."
    )
    assert tree.action.status is ActionStatus.EN_COURS_DE_SAISIE
    tree.action.status = ActionStatus.EN_ATTENTE_VALIDATION
    validator = User(email="valideur@example.fr", role=Role.VALIDATOR)
    session.add(validator)
    session.flush()
    with pytest.raises(DomainError) as refused:
        workflow.approve(validator, tree.action)
    assert refused.value.message == (
        "Validation impossible : Nb places dispositif : le total des places des sessions du lot PAS2025_4 (10) "
        "dépasse les 8 places commandées par la Région."
    )
