"""État du recrutement and places restantes: the session fields that stay current without review.

:func:`update_recruitment` changes the live session (and its dispositifs) and, when the
session is published, its published row and the snapshot of its action at once, in one
transaction. The live changes are audited like every write; the published change is
recorded as a "recrutement" audit event with its before and after values.
"""

import copy

import sqlalchemy as sa
from sqlalchemy.orm.exc import StaleDataError

from models import ActionStatus, ModelValidationError, PublishedAction, PublishedSession, SessionFormation, db
from models.codelists import codelist
from sofi import audit, permissions
from sofi.search_public import cache as search_cache
from sofi.search_public import kept_counts
from sofi.services.errors import DomainError


def _check_allowed(actor, session: SessionFormation) -> None:
    if actor is None or permissions.is_staff(actor):
        return
    if not (permissions.is_organisation_user(actor) and permissions.can_edit(actor, session)):
        raise DomainError("Vous ne pouvez pas modifier le recrutement de cette session.")


def _places_by_dispositif(session: SessionFormation, places) -> dict[int, int | None]:
    """``places``: one number (a session with a single dispositif) or {dispositif code: places}."""
    dispositifs = {d.dispositif_code: d for d in session.dispositifs}
    if places is None:
        return {}
    if isinstance(places, dict):
        wanted = {}
        for code, value in places.items():
            code = int(code) if str(code).isdigit() else code
            if code not in dispositifs:
                raise DomainError(f"La session ne porte pas le dispositif {code}.", "places_restantes")
            wanted[code] = value
    else:
        if len(dispositifs) != 1:
            raise DomainError(
                "Cette session porte plusieurs dispositifs : donnez les places restantes de chacun.", "places_restantes"
            )
        wanted = {next(iter(dispositifs)): places}
    for code, value in wanted.items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise DomainError("Les places restantes sont un nombre entier positif ou nul.", "places_restantes")
        if value > dispositifs[code].nb_places:
            raise DomainError(
                f"{value} places restantes pour {dispositifs[code].nb_places} places au total (dispositif {code}).",
                "places_restantes",
            )
    return wanted


def update_recruitment(actor, session: SessionFormation, etat: str | None, places=None, *, commit: bool = True) -> bool:
    """Set état du recrutement and/or places restantes; returns whether a published version changed.

    ``actor`` is a user or an :class:`~sofi.permissions.OrganisationPrincipal` (None: the
    system). ``etat`` is a ``dict-etat-recrutement`` code or None to keep it; ``places`` is
    None, a number, or {dispositif code: number or None}.
    """
    _check_allowed(actor, session)
    if session.action.status is ActionStatus.ARCHIVEE:
        raise DomainError("Cette action est archivée : elle ne peut plus être modifiée.")
    if etat is not None and etat not in codelist("dict-etat-recrutement"):
        raise DomainError(
            f"« {etat} » n'est pas un état du recrutement (1 ouvert, 2 fermé, 3 suspendu).", "etat_recrutement"
        )
    wanted = _places_by_dispositif(session, places)
    before = {"etat_recrutement": session.etat_recrutement, "places_restantes": {}}
    after = {"etat_recrutement": etat or session.etat_recrutement, "places_restantes": {}}
    try:
        if etat is not None:
            session.etat_recrutement = etat
        for dispositif in session.dispositifs:
            if dispositif.dispositif_code in wanted:
                before["places_restantes"][str(dispositif.dispositif_code)] = dispositif.nb_places_restantes
                after["places_restantes"][str(dispositif.dispositif_code)] = wanted[dispositif.dispositif_code]
                dispositif.nb_places_restantes = wanted[dispositif.dispositif_code]
        published_changed = _update_published(session, etat, wanted)
        audit.note(
            "recrutement",
            session,
            "Recrutement mis à jour" + (" (version publiée comprise)." if published_changed else "."),
            before=before,
            after=after,
        )
        if commit:
            db.session.commit()
    except ModelValidationError as error:
        db.session.rollback()
        raise DomainError(error.message[:1].upper() + error.message[1:], error.field) from error
    except (StaleDataError, sa.exc.IntegrityError) as error:
        db.session.rollback()
        raise DomainError("Cette session vient d'être modifiée par quelqu'un d'autre : rechargez-la.") from error
    return published_changed


def _update_published(session: SessionFormation, etat: str | None, wanted: dict) -> bool:
    published = db.session.get(PublishedSession, session.id)
    if published is None:
        return False
    action = db.session.get(PublishedAction, published.action_id)
    data = copy.deepcopy(action.data)
    snapshot = next((s for s in data.get("sessions", []) if s.get("id") == session.id), None)
    if snapshot is not None:
        if etat is not None:
            snapshot["etat_recrutement"] = etat
        for dispositif in snapshot.get("dispositifs", []):
            if dispositif.get("code") in wanted:
                dispositif["nb_places_restantes"] = wanted[dispositif["code"]]
        action.data = data  # a new object, so that the JSON column is written
        restantes = [
            d["nb_places_restantes"]
            for d in snapshot.get("dispositifs", [])
            if d.get("nb_places_restantes") is not None
        ]
        published.places_restantes = sum(restantes) if restantes else None
    if etat is not None and etat != published.etat_recrutement:
        counted = [PublishedSession.session_id == session.id]
        kept_counts.remove(counted)  # the "recrutement ouvert" facet of the whole offer
        published.etat_recrutement = etat
        db.session.flush()
        kept_counts.add(counted)
    search_cache.changed()  # places and recruitment state are counted and shown by the public search
    return True
