"""What a certifying formation takes from its certification (read-only on the Formation form)."""

from models import BlocCompetences, Certification, CertifInfo, Formation
from models.offer import MAX_FORMACODES, TEXT_LIMIT


def excerpt(text: str | None, limit: int = TEXT_LIMIT) -> str | None:
    """``text`` cut at a word boundary so that it fits ``limit`` characters, ending with "…"."""
    if text is None or len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:")
    return cut + "…"


def niveau_code(niveau_europeen: str | None) -> str | None:
    """European level ``5`` → LHÉO ``dict-niveaux`` code ``15`` (codes 11-18 are levels 1-8)."""
    if not niveau_europeen or not niveau_europeen.isdigit():
        return None
    level = int(niveau_europeen)
    return str(10 + level) if 1 <= level <= 8 else None


def apply_certification(
    formation: Formation,
    certification: Certification,
    certifinfo: CertifInfo | None,
    bloc_codes: list[str] | None = None,
) -> None:
    """Fill a certifying formation from its Certif Info entry and RNCP/RS fiche.

    ``bloc_codes`` selects blocs de compétences (partial validation); ``None`` selects all.
    """
    formation.certifiante = True
    formation.certification = certification
    formation.certifinfo_code = certifinfo.code if certifinfo else None
    formation.type_certification = (certifinfo.type_libelle if certifinfo else None) or certification.type_libelle
    formation.niveau_sortie = niveau_code(
        certification.niveau_europeen or (certifinfo.niveau_europeen if certifinfo else None)
    )
    formation.objectifs = excerpt(certification.objectifs or certification.capacites_attestees)
    formation.programme = excerpt(certification.activites_visees)
    formation.nsf_code = (certification.nsf_codes or [certifinfo.nsf_code if certifinfo else None])[0]
    formation.rome_codes = (certification.rome_codes or (certifinfo.rome_codes if certifinfo else []))[:5]
    blocs: list[BlocCompetences] = certification.blocs
    formation.blocs = [bloc for bloc in blocs if bloc_codes is None or bloc.code in bloc_codes]
    formacodes = certification.formacode_codes or (
        [certifinfo.formacode_code] if certifinfo and certifinfo.formacode_code else []
    )
    formation.set_formacodes(formacodes[:MAX_FORMACODES])
