"""Certification validity (seed 000).

« Votre formation ne pourra être validée que si votre organisme est habilité à délivrer la
certification et que sa date de fin d'enregistrement au RNCP ou au RS est supérieure à la
date de début de votre session. » All three problems are blocking.
"""

from collections.abc import Iterator

from models import Certification, Formation, SessionFormation
from sofi.rules.base import Context, Problem, fr_date, problem, rule


def _certification(formation: Formation | None) -> Certification | None:
    if formation is None or not formation.certifiante:
        return None
    return formation.certification


@rule("formation")
def habilitation(formation: Formation, ctx: Context) -> Iterator[Problem]:
    """The dispensing organisation is habilitated to deliver the certification."""
    certification, organisation = _certification(formation), ctx.organisation
    if certification is None or organisation is None:
        return
    if not any(h.id == certification.id for h in organisation.habilitations):
        yield problem(
            formation,
            "certification.habilitation",
            "certification",
            f"Certification : votre organisme (SIRET {organisation.siret}) n'est pas habilité à délivrer la "
            f"certification {certification.numero_fiche} ; la formation ne pourra pas être validée.",
        )


@rule("formation")
def active(formation: Formation, ctx: Context) -> Iterator[Problem]:
    """The certification is still active at France compétences."""
    certification = _certification(formation)
    if certification is not None and certification.actif is False:
        yield problem(
            formation,
            "certification.inactive",
            "certification",
            f"Certification : la fiche {certification.numero_fiche} n'est plus active au "
            f"{certification.repertoire} ; choisissez une certification en cours de validité.",
        )


@rule("session")
def registration_end(session: SessionFormation, ctx: Context) -> Iterator[Problem]:
    """The end of registration of the certification is later than the start of the session."""
    certification = _certification(ctx.formation)
    if certification is None or certification.date_fin_enregistrement is None or session.date_debut is None:
        return
    end = certification.date_fin_enregistrement
    if end <= session.date_debut:
        yield problem(
            session,
            "certification.registration_ended",
            "date_debut",
            f"Date début : la certification {certification.numero_fiche} est enregistrée au "
            f"{certification.repertoire} jusqu'au {fr_date(end)} ; une session débutant le "
            f"{fr_date(session.date_debut)} ne pourra pas être validée.",
        )
