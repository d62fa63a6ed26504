"""Rules of the Action form: site dispensateur, niveau d'entrée, text limits, at least one session."""

from collections.abc import Iterator

from models import Action
from models.offer import TEXT_LIMIT
from sofi.rules.base import Context, Problem, fr_date, problem, required_fields, rule, too_long

MANDATORY = (("site", "Site dispensateur"), ("niveau_entree", "Niveau d'entrée"))
TEXTS = (
    ("complement_intitule", "Complément intitulé", 255),
    ("complement_programme", "Complément programme", TEXT_LIMIT),
    ("objectifs", "Objectifs", TEXT_LIMIT),
    ("resultats_attendus", "Résultats attendus", TEXT_LIMIT),
    ("plus_formation", "Le « plus » formation", 250),
)


@rule("action")
def mandatory_fields(action: Action, ctx: Context) -> Iterator[Problem]:
    """Site dispensateur* and niveau d'entrée*."""
    yield from required_fields(action, MANDATORY)


@rule("action")
def site_dispensateur(action: Action, ctx: Context) -> Iterator[Problem]:
    """The site dispensateur is an active site of the dispensing organisation."""
    site = action.site
    if site is None:
        return
    if action.organisation_id is not None and site.organisation_id != action.organisation_id:
        yield problem(
            action,
            "action.site.other_organisation",
            "site",
            "Site dispensateur : ce site n'appartient pas à l'organisme dispensateur de l'action.",
        )
    if site.active is False:
        yield problem(
            action,
            "action.site.inactive",
            "site",
            f"Site dispensateur : le site « {site.nom} » est désactivé ; choisissez un site actif.",
        )


@rule("action")
def text_limits(action: Action, ctx: Context) -> Iterator[Problem]:
    """Complément programme, objectifs, résultats ≤ 3000, « plus » formation ≤ 250 characters."""
    for attribute, label, limit in TEXTS:
        yield from too_long(action, attribute, label, limit)


@rule("action")
def sessions(action: Action, ctx: Context) -> Iterator[Problem]:
    """At least one session, and at least one that is not over."""
    if not action.sessions:
        yield problem(
            action,
            "action.sessions.required",
            "sessions",
            "Sessions : saisissez au moins une session pour pouvoir envoyer l'action en validation.",
        )
        return
    ends = [s.date_fin for s in action.sessions if s.date_fin is not None]
    if ends and len(ends) == len(action.sessions) and max(ends) < ctx.today:
        yield problem(
            action,
            "action.sessions.all_ended",
            "sessions",
            f"Sessions : toutes les sessions sont terminées (dernière fin le {fr_date(max(ends))}) ; "
            "ajoutez une session à venir.",
        )
