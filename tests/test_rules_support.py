"""Builders shared by the ``test_rules_*`` modules: complete, valid F-A-S-D trees to break one thing at a time.

(No test here: pytest collects the module, finds nothing, and the other modules import from it.)
"""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from models import (
    Action,
    Certification,
    CertifInfo,
    Contact,
    Conventionnement,
    Dispositif,
    Formation,
    InformationCollective,
    Organisation,
    Public,
    SessionDispositif,
    SessionFormation,
)
from sofi.rules import Problem, check_action
from sofi.services.certifications import apply_certification
from tests import factories

TODAY = date(2026, 11, 23)
START = date(2027, 1, 4)
END = date(2027, 6, 30)
# Valid SIRETs: the first two share the SIREN 441234564, the others have their own.
SIRET = "44123456400033"
SIRET_SAME_SIREN = "44123456400017"
SIRET_OTHER_SIREN = "72198765900019"
CERTIFINFO_OF = {"RNCP37674": 114920, "RNCP35030": 109049, "RNCP35625": 111073}


@dataclass
class Tree:
    organisation: Organisation
    formation: Formation
    action: Action
    session: SessionFormation
    dispositif: SessionDispositif

    def problems(self, today: date = TODAY) -> list[Problem]:
        return check_action(self.action, today)

    def codes(self, today: date = TODAY) -> list[str]:
        return [p.code for p in self.problems(today)]


def organisation(siret: str = SIRET, conventionnements=(), **fields) -> Organisation:
    """An establishment with one site and one contact that may hold every référent role."""
    org = factories.organisation(siret=siret, **fields)
    org.contacts = [
        Contact(
            nom="Martin",
            prenom="Léa",
            email="lea.martin@example.fr",
            referent_pmr=True,
            referent_mobilite=True,
            referent_prf=True,
            mail_liaison=True,
        )
    ]
    org.conventionnements = [Conventionnement(financeur_code=code) for code in conventionnements]
    return org


def certification(db_session, numero_fiche: str) -> Certification:
    found = db_session.scalar(sa.select(Certification).filter_by(numero_fiche=numero_fiche))
    assert found is not None, numero_fiche
    return found


def public(db_session, code: str = "80006") -> Public:
    return db_session.get(Public, code)


def new_session(action: Action, org: Organisation, start: date = START, end: date = END, **fields) -> SessionFormation:
    """A session with every mandatory and recommended field filled in, without dispositif."""
    contact = org.contacts[0]
    values = {
        "site": org.sites[0],
        "date_debut": start,
        "date_fin": end,
        "entrees_sorties": "0",
        "rythmes": ["temps-plein"],
        "periodes": ["96414"],
        "type_parcours": "1",
        "modalites_pedagogiques": ["SOFI-OF"],
        "modalite_enseignement": "0",
        "duree_centre": 200,
        "duree_entreprise": 0,
        "organisme_responsable": org,
        "etat_recrutement": "1",
        "modalites_recrutement": ["3"],
        "referent_pmr": contact,
        "referent_mobilite": contact,
        "referent_prf": contact,
        "mail_liaison": contact,
    } | fields
    built = SessionFormation(**values)
    action.sessions.append(built)
    return built


def new_dispositif(db_session, training_session: SessionFormation, code: int = 8, **fields) -> SessionDispositif:
    values = {"dispositif": db_session.get(Dispositif, code), "nb_places": 10, "publics": [public(db_session)]} | fields
    built = SessionDispositif(**values)
    training_session.dispositifs.append(built)
    return built


def complete_tree(
    db_session,
    org: Organisation | None = None,
    *,
    fiche: str | None = None,
    dispositif: int = 8,
    start: date = START,
    end: date = END,
    dispositif_fields: dict | None = None,
    **session_fields,
) -> Tree:
    """A saved, complete tree (one session, one dispositif) on which ``check_action`` finds nothing.

    ``fiche`` makes the formation certifying (total validation, all blocs, organisation habilitated).
    """
    org = org or organisation()
    formation = factories.formation(org, niveau_sortie="0")
    if fiche is not None:
        fiche_record = certification(db_session, fiche)
        apply_certification(formation, fiche_record, db_session.get(CertifInfo, CERTIFINFO_OF[fiche]))
        formation.objectif_general = "6"
        formation.individualisation_blocs = False
        formation.validation_blocs = "1"
        org.habilitations.append(fiche_record)
    action = Action(formation=formation, organisation=org, site=org.sites[0], niveau_entree="1")
    training_session = new_session(action, org, start, end, **session_fields)
    built = new_dispositif(db_session, training_session, dispositif, **(dispositif_fields or {}))
    db_session.add_all([org, formation])
    db_session.flush()
    return Tree(org, formation, action, training_session, built)


def prepa_tree(db_session, start: date = date(2025, 12, 1), end: date = date(2026, 12, 18), **dispositif_fields):
    """Seed 002: PREPA Avenir Sup, lot PAS2025_4, by an organisation with the Région's agreement."""
    org = organisation(conventionnements=["2"])
    fields = {
        "numero_lot_cr": "PAS2025_4",
        "id_action_cr": "2872",
        "of_mandataire_cr": "75",
        "prise_en_charge_frais": True,
    } | dispositif_fields
    tree = complete_tree(
        db_session, org, dispositif=2, start=start, end=end, type_parcours="4", dispositif_fields=fields
    )
    tree.session.informations_collectives = [
        InformationCollective(date=date(2025, 11, 18), lieu="12 rue de Strasbourg, 44000 Nantes")
    ]
    db_session.flush()
    return tree


def force(record, attribute: str, value) -> None:
    """Set ``attribute`` without the model's validators, as a row written before a rule existed."""
    set_committed_value(record, attribute, value)


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, [(p.code, p.message) for p in problems]
    return problems[0]


def by_code(problems: list[Problem], code: str) -> list[Problem]:
    return [p for p in problems if p.code == code]


def is_french(message: str) -> bool:
    """A French sentence of the rules: « Libellé : … . » with French words."""
    words = {" le ", " la ", " les ", " de ", " du ", " des ", " un ", " une ", " au ", " est ", " pas ", " ou ", " à "}
    return " : " in message and message.endswith(".") and any(w in f" {message} " for w in words | {"obligatoire"})
