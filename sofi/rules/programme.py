"""Rules of the Region's programme (seed 002, PREPA Avenir Sup; seed 004 for the order rules).

A session carrying a dispositif of the regional programme with a lot of the Region's yearly
file (``numero_lot_cr`` such as ``PAS2025_4``: programme prefix, year, lot number) must start
in the year of the lot, must have informations collectives (« la saisie est obligatoire pour
que l'offre puisse alimenter Kairos, Ouiform et les sites régionaux »), and the dispositif
takes charge of the frais pédagogiques and gives its number of places (« cf bon de commande »).

When the lot is known (imported with ``sofi import-programme``), its order is checked too:
the total places of the lot's sessions stay within the places ordered; the first day of the
first session of an action falls in the semester of the bon de commande; the organisme
responsable is the lot's mandataire; the entrées/sorties and type de parcours are among those
the programme's template allows. The last day of the last session is at most 18 months after
the first day of the first session (« Règle de gestion des dates effectives des sessions »).
An action created from a lot ("Formations publiques > Créer") carries the programme's
dispositif on each of its sessions.
"""

import calendar
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, object_session, selectinload

from models import (
    Action,
    ActionStatus,
    Dispositif,
    Programme,
    ProgrammeAction,
    ProgrammeTemplate,
    SessionDispositif,
    SessionFormation,
)
from models import Lot as LotRecord
from models.codelists import label as code_label
from sofi.rules.base import Context, Problem, fr_date, problem, rule

MAX_MONTHS = 18

LOT_PATTERN = re.compile(r"^(?P<programme>[A-Za-z]+)(?P<year>\d{4})(?:_(?P<number>\w+))?$")


@dataclass(frozen=True)
class Lot:
    code: str
    programme: str
    year: int


def parse_lot(code: str | None) -> Lot | None:
    """``PAS2025_4`` → ``Lot("PAS2025_4", "PAS", 2025)``; None when the code has another shape."""
    match = LOT_PATTERN.match((code or "").strip())
    if match is None:
        return None
    return Lot(code.strip(), match["programme"].upper(), int(match["year"]))


def is_programme_lot(dispositif: SessionDispositif) -> bool:
    """A dispositif of the regional programme carrying a lot code."""
    base = dispositif.dispositif
    return base is not None and base.programme_regional and bool((dispositif.numero_lot_cr or "").strip())


def _lots(session: SessionFormation) -> list[tuple[SessionDispositif, Lot | None]]:
    return [(d, parse_lot(d.numero_lot_cr)) for d in session.dispositifs if is_programme_lot(d)]


def _db(ctx: Context):
    return object_session(ctx.action)


def known_lot(code: str | None, ctx: Context) -> LotRecord | None:
    """The lot of the Region's file with this code, when it has been imported."""
    db_session = _db(ctx)
    code = (code or "").strip()
    if db_session is None or not code:
        return None
    return db_session.scalar(sa.select(LotRecord).where(LotRecord.code == code))


def programme_link(ctx: Context) -> ProgrammeAction | None:
    """The lot the action was created from ("Formations publiques > Créer"), if any."""
    return ctx.action.programme_link


def tree_options() -> tuple:
    """Loader options (added to ``sofi.rules.tree_options``) for what these rules read besides the tree."""
    return (
        selectinload(Action.programme_link).options(
            joinedload(ProgrammeAction.lot)
            .joinedload(LotRecord.programme)
            .joinedload(Programme.template)
            .joinedload(ProgrammeTemplate.dispositif),
            joinedload(ProgrammeAction.mandataire),
        ),
    )


def _lot_codes(session: SessionFormation) -> set[str]:
    return {d.numero_lot_cr.strip() for d in session.dispositifs if is_programme_lot(d)}


def _sessions_of_lot(ctx: Context, code: str) -> list[SessionFormation]:
    return [s for s in ctx.action.sessions if code in _lot_codes(s) and s.date_debut and s.date_fin]


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months (the last day of a shorter month when needed)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def semester_bounds(year: int, semester: int) -> tuple[date, date]:
    """First and last day of semester 1 (January–June) or 2 (July–December) of ``year``."""
    return (date(year, 1, 1), date(year, 6, 30)) if semester == 1 else (date(year, 7, 1), date(year, 12, 31))


def lot_year_of(dispositif: SessionDispositif, parsed: Lot | None, ctx: Context) -> int | None:
    record = known_lot(dispositif.numero_lot_cr, ctx)
    if record is not None:
        return record.annee
    return parsed.year if parsed is not None else None


@rule("session")
def lot_year(session: SessionFormation, ctx: Context) -> Iterator[Problem]:
    """A programme session starts in the year of its lot."""
    if session.date_debut is None:
        return
    for dispositif, lot in _lots(session):
        year = lot_year_of(dispositif, lot, ctx)
        if year is not None and session.date_debut.year != year:
            yield problem(
                session,
                "programme.lot_year",
                "date_debut",
                f"Date début : les sessions du lot {dispositif.numero_lot_cr.strip()} ({dispositif.dispositif.label}) "
                f"doivent débuter en {year} ; la date saisie est le {fr_date(session.date_debut)}.",
            )


@rule("session")
def informations_collectives(session: SessionFormation, ctx: Context) -> Iterator[Problem]:
    """A programme session has at least one information collective."""
    if (_lots(session) or programme_link(ctx) is not None) and not session.informations_collectives:
        yield problem(
            session,
            "programme.informations_collectives.required",
            "informations_collectives",
            "Informations collectives : la saisie est obligatoire pour les formations du programme régional "
            "(elle alimente Kairos, Ouiform et les sites régionaux).",
        )


@rule("session")
def programme_dispositif(session: SessionFormation, ctx: Context) -> Iterator[Problem]:
    """A session of an action created from a lot carries the programme's dispositif with the lot code."""
    link = programme_link(ctx)
    if link is None:
        return
    lot = link.lot
    template = lot.programme.template
    carried = [d for d in session.dispositifs if is_programme_lot(d) and d.numero_lot_cr.strip() == lot.code]
    if template is not None:
        carried = [d for d in carried if d.dispositif_code == template.dispositif_code]
    if not carried:
        scheme = template.dispositif.label if template is not None else "du programme régional"
        yield problem(
            session,
            "programme.dispositif.required",
            "dispositifs",
            f"Dispositif : les sessions d'une formation publique du lot {lot.code} portent le dispositif "
            f"« {scheme} » avec le numéro de lot {lot.code}.",
        )


@rule("session")
def first_session_in_order_semester(session: SessionFormation, ctx: Context) -> Iterator[Problem]:
    """The first day of the first session of the lot falls in the semester of the bon de commande."""
    if session.date_debut is None:
        return
    for code in sorted(_lot_codes(session)):
        record = known_lot(code, ctx)
        if record is None or record.semestre is None:
            continue
        sessions = _sessions_of_lot(ctx, code)
        if not sessions or min(sessions, key=lambda s: s.date_debut) is not session:
            continue
        start, end = semester_bounds(record.annee, record.semestre)
        # Another year is already the lot_year rule's problem: one message is enough.
        if session.date_debut.year == record.annee and not start <= session.date_debut <= end:
            order = f" n° {record.bon_commande}" if record.bon_commande else ""
            yield problem(
                session,
                "programme.order_semester",
                "date_debut",
                f"Date début : la première session du lot {code} doit débuter au {record.semestre}"
                f"{'er' if record.semestre == 1 else 'e'} semestre {record.annee} (du {fr_date(start)} au "
                f"{fr_date(end)}), semestre du bon de commande{order} ; la date saisie est le "
                f"{fr_date(session.date_debut)}.",
            )


@rule("session")
def last_session_within_18_months(session: SessionFormation, ctx: Context) -> Iterator[Problem]:
    """The last day of the last session is at most 18 months after the first day of the first session."""
    if session.date_fin is None:
        return
    for code in sorted(_lot_codes(session)):
        sessions = _sessions_of_lot(ctx, code)
        if not sessions or max(sessions, key=lambda s: s.date_fin) is not session:
            continue
        first = min(s.date_debut for s in sessions)
        limit = add_months(first, MAX_MONTHS)
        if session.date_fin > limit:
            yield problem(
                session,
                "programme.max_duration",
                "date_fin",
                f"Date fin : le dernier jour de la dernière session du lot {code} ({fr_date(session.date_fin)}) ne "
                f"doit pas dépasser de plus de {MAX_MONTHS} mois le premier jour de la première session "
                f"({fr_date(first)}), soit le {fr_date(limit)} au plus tard.",
            )


def mandataire_ids(session: SessionFormation, ctx: Context) -> dict[int, str]:
    """``{organisation id: name}`` of the mandataires of the session's known lots (empty: no constraint)."""
    found: dict[int, str] = {}
    link = programme_link(ctx)
    if link is not None:
        found[link.mandataire_id] = link.mandataire.raison_sociale
    for code in sorted(_lot_codes(session)):
        record = known_lot(code, ctx)
        if record is not None:
            found |= {o.id: o.raison_sociale for o in record.mandataires}
    return found


@rule("session")
def organisme_responsable_mandataire(session: SessionFormation, ctx: Context) -> Iterator[Problem]:
    """The organisme responsable of a programme session is the lot's mandataire."""
    responsable = session.organisme_responsable
    responsable_id = responsable.id if responsable is not None else session.organisme_responsable_id
    if responsable_id is None:
        return
    mandataires = mandataire_ids(session, ctx)
    if mandataires and responsable_id not in mandataires:
        names = ", ".join(sorted(mandataires.values()))
        yield problem(
            session,
            "programme.organisme_responsable",
            "organisme_responsable",
            f"Organisme responsable : pour une formation du programme régional, l'organisme responsable est le "
            f"mandataire du lot ({names}).",
        )


def _template(session: SessionFormation, ctx: Context):
    link = programme_link(ctx)
    if link is not None:
        return link.lot.programme.template
    for code in sorted(_lot_codes(session)):
        record = known_lot(code, ctx)
        if record is not None and record.programme.template is not None:
            return record.programme.template
    return None


@rule("session")
def programme_modes(session: SessionFormation, ctx: Context) -> Iterator[Problem]:
    """Entrées/sorties and type de parcours are among those the programme's template allows."""
    template = _template(session, ctx)
    if template is None:
        return
    for attribute, allowed, label, codes in (
        ("entrees_sorties", template.entrees_sorties, "Entrées/sorties", "dict-modalites-es"),
        ("type_parcours", template.types_parcours, "Type de parcours", "dict-type-parcours"),
    ):
        value = getattr(session, attribute)
        if allowed and value and value not in allowed:
            names = " ou ".join(f"« {code_label(codes, code)} »" for code in allowed)
            yield problem(
                session,
                f"programme.{attribute}",
                attribute,
                f"{label} : le programme « {template.programme.intitule} » demande {names} ; "
                f"« {code_label(codes, value)} » n'est pas admis.",
            )


@rule("dispositif")
def prise_en_charge_frais(dispositif: SessionDispositif, ctx: Context) -> Iterator[Problem]:
    """The programme dispositif takes charge of the frais pédagogiques."""
    if is_programme_lot(dispositif) and not dispositif.prise_en_charge_frais:
        yield problem(
            dispositif,
            "programme.prise_en_charge_frais.required",
            "prise_en_charge_frais",
            "Prise en charge des frais pédagogiques : doit être « oui » pour une formation du programme régional.",
        )


@rule("dispositif")
def nb_places(dispositif: SessionDispositif, ctx: Context) -> Iterator[Problem]:
    """The programme dispositif gives its number of places (as ordered by the Region)."""
    if is_programme_lot(dispositif) and not dispositif.nb_places:
        yield problem(
            dispositif,
            "programme.nb_places.required",
            "nb_places",
            "Nb places dispositif : champ obligatoire pour une formation du programme régional, à indiquer "
            "selon le bon de commande de la Région et le tableau de programmation annexé.",
        )


def _places_elsewhere(code: str, ctx: Context) -> int:
    """Places of the lot's programme dispositifs in the other actions (refused ones left out)."""
    query = (
        sa.select(sa.func.coalesce(sa.func.sum(SessionDispositif.nb_places), 0))
        .join(SessionFormation, SessionDispositif.session_id == SessionFormation.id)
        .join(Action, SessionFormation.action_id == Action.id)
        .join(Dispositif, SessionDispositif.dispositif_code == Dispositif.code)
        .where(
            sa.func.trim(SessionDispositif.numero_lot_cr) == code,
            Dispositif.programme_regional,
            Action.status != ActionStatus.REFUSEE,
        )
    )
    if ctx.action.id is not None:
        query = query.where(Action.id != ctx.action.id)
    return int(_db(ctx).scalar(query) or 0)


@rule("dispositif")
def lot_places(dispositif: SessionDispositif, ctx: Context) -> Iterator[Problem]:
    """The sessions of a lot offer no more places, in total, than the Region ordered."""
    if not is_programme_lot(dispositif) or not dispositif.nb_places:
        return
    code = dispositif.numero_lot_cr.strip()
    record = known_lot(code, ctx)
    if record is None:
        return
    here = sum(
        d.nb_places or 0
        for s in ctx.action.sessions
        for d in s.dispositifs
        if is_programme_lot(d) and d.numero_lot_cr.strip() == code
    )
    total = here + _places_elsewhere(code, ctx)
    if total > record.nb_places:
        yield problem(
            dispositif,
            "programme.lot_places",
            "nb_places",
            f"Nb places dispositif : le total des places des sessions du lot {code} ({total}) dépasse les "
            f"{record.nb_places} places commandées par la Région.",
        )


@rule("dispositif")
def numero_lot(dispositif: SessionDispositif, ctx: Context) -> Iterator[Problem]:
    """A lot code of an unexpected shape and unknown: its year cannot be checked (warning)."""
    if (
        is_programme_lot(dispositif)
        and parse_lot(dispositif.numero_lot_cr) is None
        and known_lot(dispositif.numero_lot_cr, ctx) is None
    ):
        yield problem(
            dispositif,
            "programme.numero_lot_cr.format",
            "numero_lot_cr",
            f"Numéro lot CR : « {dispositif.numero_lot_cr} » n'a pas la forme attendue (par exemple PAS2025_4) ; "
            "l'année du lot ne peut pas être contrôlée.",
            blocking=False,
        )
