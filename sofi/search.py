"""Look-ups of the guided entry: Certif Info search and the Formacode tree search."""

from dataclasses import dataclass, field

import sqlalchemy as sa

from models import Certification, CertifInfo, Formacode, db
from sofi.text import search_words

MAX_RESULTS = 50


@dataclass
class CertifInfoResult:
    entry: CertifInfo
    certification: Certification | None


def _word_clauses(column, query: str):
    return [column.like(f"%{word}%") for word in search_words(query)]


def search_certifinfo(query: str, limit: int = MAX_RESULTS) -> list[CertifInfoResult]:
    """Certif Info entries matching every word of ``query`` (title, code, RNCP/RS code, certifier)."""
    clauses = _word_clauses(CertifInfo.search_text, query)
    if not clauses:
        return []
    entries = db.session.scalars(
        sa.select(CertifInfo).where(*clauses).order_by(CertifInfo.intitule, CertifInfo.code).limit(limit)
    ).all()
    numbers = {entry.fiche_numero for entry in entries if entry.fiche_numero}
    fiches = {
        fiche.numero_fiche: fiche
        for fiche in db.session.scalars(sa.select(Certification).where(Certification.numero_fiche.in_(numbers)))
    }
    return [CertifInfoResult(entry, fiches.get(entry.fiche_numero)) for entry in entries]


def certification_for(entry: CertifInfo) -> Certification | None:
    if not entry.fiche_numero:
        return None
    return db.session.scalar(sa.select(Certification).where(Certification.numero_fiche == entry.fiche_numero))


@dataclass
class FormacodeBranch:
    """One semantic field of the Formacode with the matching descriptors below it."""

    code: str
    label: str
    descriptors: list[Formacode] = field(default_factory=list)


def search_formacodes(query: str, limit: int = MAX_RESULTS * 2) -> list[FormacodeBranch]:
    """Formacode domain descriptors matching ``query`` (keyword or code), grouped by semantic field."""
    clauses = _word_clauses(Formacode.search_text, query)
    if not clauses:
        return []
    descriptors = db.session.scalars(
        sa.select(Formacode)
        .where(*clauses, sa.or_(Formacode.kind.is_(None), Formacode.kind == "DOM"))
        .order_by(Formacode.field_label, Formacode.label)
        .limit(limit)
    ).all()
    branches: dict[str, FormacodeBranch] = {}
    for descriptor in descriptors:
        key = descriptor.field_code or ""
        branch = branches.setdefault(
            key, FormacodeBranch(key, (descriptor.field_label or "Autres domaines").capitalize())
        )
        branch.descriptors.append(descriptor)
    return list(branches.values())


def formacodes_by_code(codes: list[str]) -> dict[str, Formacode]:
    if not codes:
        return {}
    return {f.code: f for f in db.session.scalars(sa.select(Formacode).where(Formacode.code.in_(codes)))}
