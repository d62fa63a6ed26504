"""Rules of the Dispositif form: dispositif, places, agreement with the funder, apprenticeship, publics."""

from collections.abc import Iterator

from models import SessionDispositif
from models.codelists import label as code_label
from sofi.rules.base import Context, Problem, fr_date, is_empty, missing, problem, rule

DISPOSITIF = "Dispositif"
NB_PLACES = "Nb places dispositif"


@rule("dispositif")
def dispositif_choisi(dispositif: SessionDispositif, ctx: Context) -> Iterator[Problem]:
    """Dispositif*, and one still offered in the base Dispositif."""
    base = dispositif.dispositif
    if base is None and dispositif.dispositif_code is None:
        yield missing(dispositif, "dispositif", DISPOSITIF)
    elif base is not None and base.active is False:
        yield problem(
            dispositif,
            "dispositif.dispositif.inactive",
            "dispositif",
            f"{DISPOSITIF} : « {base.label} » n'est plus proposé ; choisissez un autre dispositif.",
        )


@rule("dispositif")
def places(dispositif: SessionDispositif, ctx: Context) -> Iterator[Problem]:
    """Nb places dispositif* ≥ 1; places restantes between 0 and the number of places."""
    total, remaining = dispositif.nb_places, dispositif.nb_places_restantes
    if total is None:
        yield missing(dispositif, "nb_places", NB_PLACES, reason=" (minimum 1)")
    elif total < 1:
        yield problem(dispositif, "dispositif.nb_places.min", "nb_places", f"{NB_PLACES} : minimum 1 ({total} saisi).")
    if remaining is not None and remaining < 0:
        yield problem(
            dispositif,
            "dispositif.nb_places_restantes.min",
            "nb_places_restantes",
            "Nb places restantes : ne peut pas être négatif.",
        )
    elif remaining is not None and total is not None and remaining > total:
        yield problem(
            dispositif,
            "dispositif.nb_places_restantes.max",
            "nb_places_restantes",
            f"Nb places restantes : {remaining} dépasse le nombre de places du dispositif ({total}).",
        )


@rule("dispositif")
def conventionnement(dispositif: SessionDispositif, ctx: Context) -> Iterator[Problem]:
    """A dispositif reserved to organisations with an agreement with its funder (Conseil régional, Agefiph…)."""
    base, organisation = dispositif.dispositif, ctx.organisation
    if base is None or base.conventionnement_financeur is None or organisation is None:
        return
    financeur = base.conventionnement_financeur
    agreements = [c for c in organisation.conventionnements if c.financeur_code == financeur]
    funder = code_label("dict-financeurs", financeur)
    if not agreements:
        yield problem(
            dispositif,
            "dispositif.dispositif.conventionnement",
            "dispositif",
            f"{DISPOSITIF} : « {base.label} » est réservé aux organismes conventionnés avec le financeur "
            f"« {funder} » ; votre organisme (SIRET {organisation.siret}) n'a pas ce conventionnement.",
        )
    elif all(c.date_fin is not None and c.date_fin < ctx.today for c in agreements):
        ended = max(c.date_fin for c in agreements)
        yield problem(
            dispositif,
            "dispositif.dispositif.conventionnement_ended",
            "dispositif",
            f"{DISPOSITIF} : le conventionnement de votre organisme avec le financeur « {funder} » a pris fin le "
            f"{fr_date(ended)} ; « {base.label} » ne peut plus être utilisé.",
        )


@rule("dispositif")
def apprentissage(dispositif: SessionDispositif, ctx: Context) -> Iterator[Problem]:
    """Contrat d'apprentissage: effectif minimal and capacité simultanée are mandatory."""
    base = dispositif.dispositif
    if base is None or not base.contrat_apprentissage:
        return
    reason = " pour un contrat d'apprentissage"
    if dispositif.effectif_minimal is None:
        yield missing(dispositif, "effectif_minimal", "Effectif minimal", reason=reason)
    if dispositif.capacite_simultanee is None:
        yield missing(dispositif, "capacite_simultanee", "Capacité simultanée", reason=reason)


@rule("dispositif")
def publics(dispositif: SessionDispositif, ctx: Context) -> Iterator[Problem]:
    """At least one public."""
    if is_empty(dispositif.publics):
        yield problem(
            dispositif,
            "dispositif.publics.required",
            "publics",
            "Publics : sélectionnez au moins un public pour ce dispositif.",
        )
