"""Rules of the Formation form (seed 000: certifying with total or partial validation, non-certifying)."""

from collections.abc import Iterator

from models import Formation
from models.codelists import label as code_label
from models.offer import MAX_FORMACODES, TEXT_LIMIT
from sofi.rules.base import Context, Problem, is_empty, missing, problem, required_fields, rule, too_long

VALIDATION_PARTIELLE = "0"
VALIDATION_TOTALE = "1"
VALIDATION_MIXTE = "2"
OBSOLETE_CODE = "1"  # dict-AIS "Code(s) obsolète(s)"

MANDATORY = (("intitule", "Intitulé"), ("objectif_general", "Objectif général"))
MANDATORY_CERTIFYING = (
    ("certifinfo", "Code CertifInfo"),
    ("certification", "Certification (fiche RNCP ou RS)"),
    ("type_certification", "Type de certification"),
)
INDIVIDUALISATION = "Souhaitez-vous individualiser le parcours par bloc de compétences"
VALIDATION = "Validation de la formation"
BLOCS = "Blocs de compétences"


@rule("formation")
def mandatory_fields(formation: Formation, ctx: Context) -> Iterator[Problem]:
    """Intitulé* and objectif général* of every formation."""
    yield from required_fields(formation, MANDATORY)
    if formation.objectif_general == OBSOLETE_CODE:
        yield problem(
            formation,
            "formation.objectif_general.obsolete",
            "objectif_general",
            f"Objectif général : « {code_label('dict-AIS', OBSOLETE_CODE)} » n'est plus utilisable ; "
            "choisissez un autre objectif.",
        )


@rule("formation")
def text_limits(formation: Formation, ctx: Context) -> Iterator[Problem]:
    """Intitulé ≤ 255, objectifs, programme and résultats ≤ 3000 characters."""
    yield from too_long(formation, "intitule", "Intitulé", 255)
    yield from too_long(formation, "objectifs", "Objectifs", TEXT_LIMIT)
    yield from too_long(formation, "programme", "Programme", TEXT_LIMIT)
    yield from too_long(formation, "resultats", "Résultats attendus", TEXT_LIMIT)


@rule("formation")
def certifying_fields(formation: Formation, ctx: Context) -> Iterator[Problem]:
    """A certifying formation: Certif Info code, certification, type, individualisation, validation."""
    if not formation.certifiante:
        return
    yield from required_fields(formation, MANDATORY_CERTIFYING)
    if formation.individualisation_blocs is None:
        yield missing(formation, "individualisation_blocs", INDIVIDUALISATION)
    certification = formation.certification
    # A fiche without blocs de compétences (most RS fiches) has nothing to validate partially.
    if certification is not None and certification.blocs and is_empty(formation.validation_blocs):
        yield missing(formation, "validation_blocs", VALIDATION)


@rule("formation")
def blocs_selection(formation: Formation, ctx: Context) -> Iterator[Problem]:
    """Partial validation: some blocs of the certification; total validation: all of them."""
    certification = formation.certification
    if not formation.certifiante or certification is None:
        return
    available = {bloc.id for bloc in certification.blocs}
    selected = formation.blocs
    foreign = [bloc.code for bloc in selected if bloc.certification_id != certification.id]
    if foreign:
        yield problem(
            formation,
            "formation.blocs.other_certification",
            "blocs",
            f"{BLOCS} : {', '.join(foreign)} n'appartien{'nent' if len(foreign) > 1 else 't'} pas à la "
            f"certification {certification.numero_fiche}.",
        )
    chosen = {bloc.id for bloc in selected} & available
    validation = formation.validation_blocs
    if validation == VALIDATION_PARTIELLE:
        if formation.individualisation_blocs is False:
            yield problem(
                formation,
                "formation.individualisation_blocs.partial_validation",
                "individualisation_blocs",
                f"{INDIVIDUALISATION} : une validation partielle suppose de cocher « oui ».",
            )
        if not chosen:
            yield problem(
                formation,
                "formation.blocs.required",
                "blocs",
                f"{BLOCS} : cochez au moins un bloc de compétences pour une validation partielle.",
            )
        elif chosen == available:
            yield problem(
                formation,
                "formation.validation_blocs.all_blocs",
                "validation_blocs",
                f"{VALIDATION} : tous les blocs de compétences sont cochés ; la validation est donc totale.",
                blocking=False,
            )
    elif validation in (VALIDATION_TOTALE, VALIDATION_MIXTE):
        absent = [bloc.code for bloc in certification.blocs if bloc.id not in chosen]
        if absent:
            yield problem(
                formation,
                "formation.blocs.incomplete",
                "blocs",
                f"{BLOCS} : une validation totale porte sur tous les blocs de la certification ; "
                f"cochez aussi {', '.join(absent)}.",
            )


@rule("formation")
def domaines(formation: Formation, ctx: Context) -> Iterator[Problem]:
    """A non-certifying formation: 1 to 5 Formacode domains, and a principal domain among them."""
    if formation.certifiante:
        return
    codes = [d.formacode_code for d in formation.domaines]
    if not codes:
        yield problem(
            formation,
            "formation.domaines.required",
            "domaines",
            "Domaine formation : ajoutez au moins un domaine de formation (Formacode).",
        )
        return
    if len(codes) > MAX_FORMACODES:
        yield problem(
            formation,
            "formation.domaines.too_many",
            "domaines",
            f"Domaine formation : {MAX_FORMACODES} domaines au plus ({len(codes)} saisis).",
        )
    principal = formation.formacode_principal
    if is_empty(principal):
        yield missing(formation, "formacode_principal", "Domaine principal")
    elif principal not in codes:
        yield problem(
            formation,
            "formation.formacode_principal.not_a_domaine",
            "formacode_principal",
            f"Domaine principal : {principal} doit être l'un des domaines de la formation.",
        )


@rule("formation")
def niveau_sortie(formation: Formation, ctx: Context) -> Iterator[Problem]:
    """Niveau de sortie of a non-certifying formation (marked * in seed 002): a warning."""
    if not formation.certifiante and is_empty(formation.niveau_sortie):
        yield missing(formation, "niveau_sortie", "Niveau de sortie", blocking=False)
