"""Rules of the Session form: mandatory fields, dates, organisme responsable, référents, alternance."""

from collections.abc import Iterator

from models import Organisation, SessionFormation
from models.codelists import label as code_label
from sofi.rules.base import Context, Problem, fr_date, is_empty, missing, problem, required_fields, rule

MANDATORY = (
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
)
# Marked * on some screenshots of the seeds only (e.g. PRF and mail de liaison on the
# non-certifying one): warnings, so that they are filled in without blocking submission.
RECOMMENDED = (
    ("duree_entreprise", "Durée en entreprise (en h)"),
    ("modalites_recrutement", "Modalités de recrutement"),
    ("referent_prf", "Référent PRF"),
    ("mail_liaison", "Mail de liaison"),
)
REFERENTS = (
    ("referent_pmr", "Référent PMR"),
    ("referent_prf", "Référent PRF"),
    ("mail_liaison", "Mail de liaison"),
    ("referent_mobilite", "Référent mobilité"),
)
CYCLE = (
    ("cycle_unite", "Cycle de l'alternance"),
    ("cycle_unites_entreprise", "Unité entreprise"),
    ("cycle_unites_centre", "Unité centre"),
)
PARCOURS_INDIVIDUALISE = "2"
PARCOURS_MODULARISE = "3"


def _siren(organisation: Organisation | None) -> str | None:
    return organisation.siren if organisation is not None else None


@rule("session")
def mandatory_fields(session: SessionFormation, ctx: Context) -> Iterator[Problem]:
    """Every field marked * on the Session form; PRF, mail de liaison… as warnings."""
    yield from required_fields(session, MANDATORY)
    yield from required_fields(session, RECOMMENDED, blocking=False)


@rule("session")
def dates(session: SessionFormation, ctx: Context) -> Iterator[Problem]:
    """Date fin ≥ date début; a session already over is pointed out."""
    start, end = session.date_debut, session.date_fin
    if start is not None and end is not None and end < start:
        yield problem(
            session,
            "session.date_fin.before_start",
            "date_fin",
            f"Date fin : le {fr_date(end)} précède la date de début ({fr_date(start)}).",
        )
    elif end is not None and end < ctx.today:
        yield problem(
            session,
            "session.date_fin.ended",
            "date_fin",
            f"Date fin : cette session est terminée depuis le {fr_date(end)} ; elle sera archivée.",
            blocking=False,
        )


@rule("session")
def site_lieu(session: SessionFormation, ctx: Context) -> Iterator[Problem]:
    """The site lieu is an active site of an establishment of the dispensing organisme (same SIREN)."""
    site = session.site
    if site is None:
        return
    siren = _siren(ctx.organisation)
    if siren is not None and _siren(site.organisation) != siren:
        yield problem(
            session,
            "session.site.other_organisme",
            "site",
            "Site lieu : ce site n'appartient pas à votre organisme (établissements de même SIREN).",
        )
    if site.active is False:
        yield problem(
            session,
            "session.site.inactive",
            "site",
            f"Site lieu : le site « {site.nom} » est désactivé ; choisissez un site actif.",
        )


@rule("session")
def organisme_responsable(session: SessionFormation, ctx: Context) -> Iterator[Problem]:
    """The organisme responsable is the dispensing organisation or an establishment of the same SIREN."""
    responsable = session.organisme_responsable
    siren = _siren(ctx.organisation)
    if responsable is None or siren is None:
        return
    from sofi.rules.programme import mandataire_ids  # regional programme: the lot's mandataire is responsible

    if responsable.siren != siren and responsable.id not in mandataire_ids(session, ctx):
        yield problem(
            session,
            "session.organisme_responsable.other_siren",
            "organisme_responsable",
            f"Organisme responsable : « {responsable.raison_sociale} » (SIRET {responsable.siret}) n'a pas le "
            f"même SIREN que votre organisme ({siren}) ; choisissez l'organisme dispensateur ou l'un de ses "
            "établissements.",
        )


@rule("session")
def referents(session: SessionFormation, ctx: Context) -> Iterator[Problem]:
    """Each référent is an active contact of the organisme (same SIREN) flagged for that role."""
    siren = _siren(ctx.organisation)
    for attribute, label in REFERENTS:
        contact = getattr(session, attribute)
        if contact is None:
            continue
        if siren is not None and _siren(contact.organisation) != siren:
            yield problem(
                session,
                f"session.{attribute}.other_organisme",
                attribute,
                f"{label} : {contact.full_name} n'est pas un contact de votre organisme.",
            )
        if not getattr(contact, attribute):
            yield problem(
                session,
                f"session.{attribute}.role",
                attribute,
                f"{label} : {contact.full_name} n'est pas déclaré(e) « {label} » dans l'annuaire de l'organisme.",
            )
        if contact.active is False:
            yield problem(
                session,
                f"session.{attribute}.inactive",
                attribute,
                f"{label} : le contact {contact.full_name} est désactivé ; choisissez un contact actif.",
            )


@rule("session")
def dispositifs(session: SessionFormation, ctx: Context) -> Iterator[Problem]:
    """At least one dispositif on each session."""
    if not session.dispositifs:
        yield problem(
            session,
            "session.dispositifs.required",
            "dispositifs",
            "Dispositif : ajoutez au moins un dispositif de financement à la session.",
        )


@rule("session")
def cycle_alternance(session: SessionFormation, ctx: Context) -> Iterator[Problem]:
    """Cycle de l'alternance (unit, entreprise, centre) for apprenticeship and professionalisation."""
    bases = [d.dispositif for d in session.dispositifs if d.dispositif is not None]
    if any(b.contrat_apprentissage for b in bases):
        reason = " pour un contrat d'apprentissage"
    elif any(b.contrat_professionnalisation for b in bases):
        reason = " pour un contrat de professionnalisation"
    else:
        return
    for attribute, label in CYCLE:
        if is_empty(getattr(session, attribute)):
            yield missing(session, attribute, label, reason=reason)


@rule("session")
def type_parcours_individualisation(session: SessionFormation, ctx: Context) -> Iterator[Problem]:
    """Individualisation par blocs = oui: parcours « individualisé » or « modularisé » suggested."""
    formation = ctx.formation
    if formation is None or not formation.individualisation_blocs or is_empty(session.type_parcours):
        return
    if session.type_parcours not in (PARCOURS_INDIVIDUALISE, PARCOURS_MODULARISE):
        individualise = code_label("dict-type-parcours", PARCOURS_INDIVIDUALISE)
        modularise = code_label("dict-type-parcours", PARCOURS_MODULARISE)
        yield problem(
            session,
            "session.type_parcours.individualisation",
            "type_parcours",
            f"Type de parcours : la formation propose l'individualisation par blocs de compétences ; "
            f"indiquez « {individualise} » ou « {modularise} ».",
            blocking=False,
        )
