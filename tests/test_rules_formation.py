"""Rules of the Formation form: mandatory fields, certifying formations and their blocs, Formacode domains."""

from datetime import date

import pytest

from models import CertifInfo, FormationFormacode
from sofi.services.certifications import apply_certification
from tests.test_rules_support import (
    by_code,
    certification,
    complete_tree,
    force,
    is_french,
    only,
)


@pytest.fixture
def certifying(session):
    """A certifying formation on RNCP37674 (blocs BC01 and BC02), total validation."""
    return complete_tree(session, fiche="RNCP37674")


@pytest.mark.parametrize(
    "attribute, label",
    [("intitule", "Intitulé"), ("objectif_general", "Objectif général")],
)
def test_mandatory_fields_of_every_formation(session, attribute, label):
    tree = complete_tree(session)
    force(tree.formation, attribute, "")
    found = only(tree.problems())
    assert (found.code, found.level, found.record_id, found.field) == (
        f"formation.{attribute}.required",
        "formation",
        tree.formation.id,
        attribute,
    )
    assert found.message == f"{label} : champ obligatoire."
    assert found.blocking
    assert found.label == "Formation de test" or attribute == "intitule"


def test_the_obsolete_objectif_general_code_is_refused(session):
    tree = complete_tree(session)
    tree.formation.objectif_general = "1"
    found = only(tree.problems())
    assert (found.code, found.field, found.blocking) == (
        "formation.objectif_general.obsolete",
        "objectif_general",
        True,
    )
    assert "Code(s) obsolète(s)" in found.message


@pytest.mark.parametrize(
    "attribute, label",
    [("intitule", "Intitulé"), ("objectifs", "Objectifs"), ("programme", "Programme"), ("resultats", "Résultats")],
)
def test_formation_texts_over_their_limit(session, attribute, label):
    tree = complete_tree(session)
    limit = 255 if attribute == "intitule" else 3000
    force(tree.formation, attribute, "é" * (limit + 1))
    found = only(tree.problems())
    assert (found.code, found.field, found.blocking) == (f"formation.{attribute}.too_long", attribute, True)
    assert found.message.startswith(f"{label}")
    assert f"limité à {limit} caractères ({limit + 1} saisis)" in found.message


@pytest.mark.parametrize(
    "attribute, label",
    [
        ("certifinfo", "Code CertifInfo"),
        ("type_certification", "Type de certification"),
        ("validation_blocs", "Validation de la formation"),
    ],
)
def test_mandatory_fields_of_a_certifying_formation(session, certifying, attribute, label):
    if attribute == "certifinfo":
        certifying.formation.certifinfo = None
        certifying.formation.certifinfo_code = None
    else:
        setattr(certifying.formation, attribute, None)
    found = only(certifying.problems())
    assert (found.code, found.field, found.blocking) == (f"formation.{attribute}.required", attribute, True)
    assert found.message == f"{label} : champ obligatoire."


def test_a_certifying_formation_needs_its_certification(session, certifying):
    certifying.formation.certification = None
    certifying.formation.certification_id = None
    found = only(certifying.problems())
    assert (found.code, found.field) == ("formation.certification.required", "certification")
    assert found.message.startswith("Certification (fiche RNCP ou RS) : champ obligatoire")


def test_a_certification_without_blocs_needs_no_validation_choice(session):
    tree = complete_tree(session, start=date(2026, 12, 1), end=date(2026, 12, 18))
    rs = certification(session, "RS5719")
    assert rs.blocs == [] and rs.date_fin_enregistrement > tree.session.date_debut
    apply_certification(tree.formation, rs, session.get(CertifInfo, 55521))
    tree.formation.individualisation_blocs = False
    tree.organisation.habilitations.append(rs)
    assert tree.formation.validation_blocs is None
    assert tree.codes() == []


def test_total_validation_needs_every_bloc(session, certifying):
    certifying.formation.blocs = [b for b in certifying.formation.blocs if b.code == "RNCP37674BC01"]
    found = only(certifying.problems())
    assert (found.code, found.field, found.blocking) == ("formation.blocs.incomplete", "blocs", True)
    assert "RNCP37674BC02" in found.message and is_french(found.message)


def test_mixed_validation_needs_every_bloc_too(session, certifying):
    certifying.formation.validation_blocs = "2"
    certifying.formation.individualisation_blocs = True
    certifying.session.type_parcours = "2"
    assert certifying.codes() == []
    certifying.formation.blocs = []
    assert certifying.codes() == ["formation.blocs.incomplete"]


def _partial(tree, bloc_codes):
    tree.formation.validation_blocs = "0"
    tree.formation.individualisation_blocs = True
    tree.formation.blocs = [b for b in tree.formation.certification.blocs if b.code in bloc_codes]
    tree.session.type_parcours = "3"


def test_partial_validation_with_some_blocs_is_complete(session, certifying):
    _partial(certifying, ["RNCP37674BC02"])
    assert certifying.problems() == []


def test_partial_validation_needs_at_least_one_bloc(session, certifying):
    _partial(certifying, [])
    found = only(certifying.problems())
    assert (found.code, found.field, found.blocking) == ("formation.blocs.required", "blocs", True)
    assert found.message.startswith("Blocs de compétences : cochez au moins un bloc")


def test_partial_validation_with_every_bloc_is_pointed_out(session, certifying):
    _partial(certifying, ["RNCP37674BC01", "RNCP37674BC02"])
    found = only(certifying.problems())
    assert (found.code, found.field, found.blocking) == (
        "formation.validation_blocs.all_blocs",
        "validation_blocs",
        False,
    )
    assert "la validation est donc totale" in found.message


def test_partial_validation_means_individualised_parcours(session, certifying):
    _partial(certifying, ["RNCP37674BC01"])
    certifying.formation.individualisation_blocs = False
    found = only(certifying.problems())
    assert (found.code, found.field, found.blocking) == (
        "formation.individualisation_blocs.partial_validation",
        "individualisation_blocs",
        True,
    )
    assert "cocher « oui »" in found.message


def test_blocs_of_another_certification_are_refused(session, certifying):
    other = certification(session, "RNCP35030").blocs[0]
    certifying.formation.blocs = [*certifying.formation.blocs, other]
    found = only(certifying.problems())
    assert (found.code, found.field, found.blocking) == ("formation.blocs.other_certification", "blocs", True)
    assert "RNCP35030BC01 n'appartient pas à la certification RNCP37674" in found.message


def test_a_non_certifying_formation_needs_a_formacode_domain(session):
    tree = complete_tree(session)
    tree.formation.set_formacodes([])
    found = only(tree.problems())
    assert (found.code, found.field, found.blocking) == ("formation.domaines.required", "domaines", True)
    assert found.message.startswith("Domaine formation : ajoutez au moins un domaine")


def test_the_principal_domain_is_one_of_the_domains(session):
    tree = complete_tree(session)
    tree.formation.formacode_principal = "15084"
    found = only(tree.problems())
    assert (found.code, found.field) == ("formation.formacode_principal.not_a_domaine", "formacode_principal")
    assert "15084" in found.message
    tree.formation.formacode_principal = None
    found = only(tree.problems())
    assert (found.code, found.message) == (
        "formation.formacode_principal.required",
        "Domaine principal : champ obligatoire.",
    )


def test_at_most_five_domains(session):
    tree = complete_tree(session)
    codes = ["15052", "15084", "15061", "42829", "31090", "35014"]
    force(tree.formation, "domaines", [FormationFormacode(formacode_code=c, position=i) for i, c in enumerate(codes)])
    found = only(tree.problems())
    assert (found.code, found.field, found.blocking) == ("formation.domaines.too_many", "domaines", True)
    assert "5 domaines au plus (6 saisis)" in found.message


def test_niveau_de_sortie_of_a_non_certifying_formation_is_a_warning(session):
    tree = complete_tree(session)
    tree.formation.niveau_sortie = None
    found = only(tree.problems())
    assert (found.code, found.blocking) == ("formation.niveau_sortie.required", False)
    assert found.message == "Niveau de sortie : champ recommandé, à renseigner."


def test_a_certifying_formation_needs_no_formacode_of_its_own(session, certifying):
    certifying.formation.set_formacodes([])
    assert by_code(certifying.problems(), "formation.domaines.required") == []
    assert certifying.problems() == []
