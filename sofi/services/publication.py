"""Published versions of actions: the snapshot of a whole F-A-S-D tree, and its search rows.

``publish`` is called inside the transaction of an approval (it does not commit);
``unpublish_many`` when actions are archived. Both move the publication sequence on (the
public search's cached answers) and the kept counts of the whole offer
(``sofi.search_public.kept_counts``), in the same transaction. The snapshot holds everything the catalogue, the
API and the LHÉO export show, so that later edits of the live records do not leak out
before they are approved.
"""

from datetime import date, datetime, time
from decimal import Decimal

import sqlalchemy as sa

from models import (
    Action,
    Contact,
    Organisation,
    PublishedAction,
    PublishedFormacode,
    PublishedSession,
    SessionDispositif,
    SessionFormation,
    Site,
    User,
    db,
    published_session_dispositif,
    published_session_public,
)
from models.base import utcnow
from models.codelists import label
from models.publication import formacode_domains
from sofi.search_public import cache, kept_counts
from sofi.text import search_key

UNPUBLISHED_PER_STATEMENT = 500  # action ids bound in one statement of an archiving


def _value(value):
    if isinstance(value, date | datetime | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _commune(commune) -> dict | None:
    if commune is None:
        return None
    return {
        "code_insee": commune.code_insee,
        "nom": commune.nom,
        "departement": commune.departement,
        "region": commune.region,
    }


def _organisation(organisation: Organisation) -> dict:
    return {
        "id": organisation.id,
        "siret": organisation.siret,
        "siren": organisation.siren,
        "nda": organisation.nda,
        "raison_sociale": organisation.raison_sociale,
        "nom_usuel": organisation.nom_usuel,
        "code_sofi": organisation.code_sofi,
        "adresse1": organisation.adresse1,
        "adresse2": organisation.adresse2,
        "code_postal": organisation.code_postal,
        "commune": _commune(organisation.commune),
        "telephone": organisation.telephone,
        "email": organisation.email,
        "site_web": organisation.site_web,
    }


def _site(site: Site) -> dict:
    return {
        "id": site.id,
        "nom": site.nom,
        "adresse1": site.adresse1,
        "adresse2": site.adresse2,
        "code_postal": site.code_postal,
        "commune": _commune(site.commune),
        "siret": site.siret,
        "uai": site.uai,
        "accessible_pmr": site.accessible_pmr,
        "accessibilite": site.accessibilite,
        "latitude": site.latitude,
        "longitude": site.longitude,
    }


def _contact(contact: Contact | None) -> dict | None:
    if contact is None:
        return None
    return {
        "id": contact.id,
        "civilite": contact.civilite,
        "nom": contact.nom,
        "prenom": contact.prenom,
        "fonction": contact.fonction,
        "type_contact": contact.type_contact,
        "email": contact.email,
        "telephone_fixe": contact.telephone_fixe,
        "telephone_portable": contact.telephone_portable,
    }


def _dispositif(dispositif: SessionDispositif) -> dict:
    scheme = dispositif.dispositif
    return {
        "id": dispositif.id,
        "code": scheme.code,
        "libelle": scheme.label,
        "financeur_code": scheme.financeur_code,
        "financeur": label("dict-financeurs", scheme.financeur_code),
        "conventionnement_financeur": scheme.conventionnement_financeur,
        "programme_regional": scheme.programme_regional,
        "contrat_apprentissage": scheme.contrat_apprentissage,
        "contrat_professionnalisation": scheme.contrat_professionnalisation,
        "publics": [{"code": p.code, "libelle": p.label, "formacode": p.formacode_code} for p in dispositif.publics],
        **{name: _value(getattr(dispositif, name)) for name in SessionDispositif.TERM_FIELDS},
    }


def _session(session: SessionFormation) -> dict:
    return {
        "id": session.id,
        "fas_code": session.fas_code,
        **{name: _value(getattr(session, name)) for name in SessionFormation.DESCRIPTION_FIELDS},
        "site": _site(session.site),
        "organisme_responsable": _organisation(session.organisme_responsable),
        "referent_pmr": _contact(session.referent_pmr),
        "referent_prf": _contact(session.referent_prf),
        "mail_liaison": _contact(session.mail_liaison),
        "referent_mobilite": _contact(session.referent_mobilite),
        "informations_collectives": [
            {
                "date": _value(i.date),
                "heure_debut": _value(i.heure_debut),
                "heure_fin": _value(i.heure_fin),
                "lieu": i.lieu,
                "commentaire": i.commentaire,
            }
            for i in session.informations_collectives
        ],
        "periodes_inscription": [
            {"type": p.type, "date_debut": _value(p.date_debut), "date_fin": _value(p.date_fin)}
            for p in session.periodes_inscription
        ],
        "dispositifs": [_dispositif(d) for d in session.dispositifs],
    }


def snapshot(action: Action) -> dict:
    """The whole published content of ``action``, as plain JSON-able data."""
    formation = action.formation
    certification = formation.certification
    certifinfo = formation.certifinfo
    return {
        "formation": {
            "id": formation.id,
            "intitule": formation.intitule,
            "objectif_general": formation.objectif_general,
            "certifiante": formation.certifiante,
            "certifinfo_code": formation.certifinfo_code,
            "certifinfo_intitule": certifinfo.intitule if certifinfo else None,
            "certification": {
                "numero_fiche": certification.numero_fiche,
                "intitule": certification.intitule,
                "date_fin_enregistrement": _value(certification.date_fin_enregistrement),
                "niveau_europeen": certification.niveau_europeen,
                "type_libelle": certification.type_libelle,
            }
            if certification
            else None,
            "type_certification": formation.type_certification,
            "niveau_sortie": formation.niveau_sortie,
            "formacodes": [
                {"code": d.formacode_code, "libelle": d.formacode.label if d.formacode else None}
                for d in formation.domaines
            ],
            "formacode_principal": formation.formacode_principal,
            "nsf_code": formation.nsf_code,
            "rome_codes": list(formation.rome_codes or []),
            "individualisation_blocs": formation.individualisation_blocs,
            "validation_blocs": formation.validation_blocs,
            "blocs": [{"code": b.code, "libelle": b.libelle} for b in formation.blocs],
            "objectifs": formation.objectifs,
            "programme": formation.programme,
            "resultats": formation.resultats,
        },
        "action": {
            "id": action.id,
            "intitule": action.intitule,
            **{name: _value(getattr(action, name)) for name in Action.DESCRIPTION_FIELDS},
            "organisation": _organisation(action.organisation),
            "site": _site(action.site),
        },
        "sessions": [_session(s) for s in action.sessions],
    }


def publish(action: Action, user: User | None = None) -> PublishedAction:
    """Store (or replace) the published version of ``action``; the caller commits."""
    return publish_many([action], user)[0]


def publish_many(actions: list[Action], user: User | None = None) -> list[PublishedAction]:
    """Store (or replace) the published versions of ``actions`` together; the caller commits.

    A constant number of statements whatever the number of actions (a bulk approval publishes
    a hundred at a time), and the publication sequence moves on once.
    """
    ids = [action.id for action in actions]
    existing = {
        p.action_id: p for p in db.session.scalars(sa.select(PublishedAction).where(PublishedAction.action_id.in_(ids)))
    }
    if existing:
        kept_counts.remove([PublishedSession.action_id.in_(list(existing))])
        db.session.execute(sa.delete(PublishedSession).where(PublishedSession.action_id.in_(list(existing))))
        db.session.execute(sa.delete(PublishedFormacode).where(PublishedFormacode.action_id.in_(list(existing))))
        for published in existing.values():
            db.session.expire(published, ["sessions", "formacodes"])
    versions = []
    for action in actions:
        published = existing.get(action.id) or PublishedAction(action_id=action.id, version=0)
        _fill(published, action, user)  # before it joins the session: filling reads (and autoflushes)
        db.session.add(published)
        versions.append(published)
    db.session.flush()
    # The search rows are plain Core inserts, one executemany per table for all the actions (no
    # object per row to track; the ORM's bulk insert split an action's sessions into several statements).
    rows = _SearchRows()
    for action in actions:
        rows.add(action)
    rows.insert()
    kept_counts.add([PublishedSession.action_id.in_(ids)])
    cache.changed()
    return versions


def _fill(published: PublishedAction, action: Action, user: User | None) -> None:
    """The published version's columns and snapshot, from ``action``."""
    formation = action.formation
    published.version += 1
    published.formation_id = formation.id
    published.organisation_id = action.organisation_id
    published.organisation_siret = action.organisation.siret
    published.published_at = utcnow()
    published.published_by_id = user.id if user is not None else None
    published.intitule = action.intitule[:600]
    published.search_text = search_key(
        action.intitule,
        formation.objectifs,
        formation.programme,
        action.objectifs,
        action.complement_programme,
        action.organisation.raison_sociale,
        action.organisation.nom_usuel,
        *(d.formacode.label for d in formation.domaines if d.formacode),
    )
    published.certifiante = formation.certifiante
    published.niveau_sortie = formation.niveau_sortie
    published.formacode_principal = formation.formacode_principal
    published.data = snapshot(action)


class _SearchRows:
    """The search rows of published actions (sessions, their domains, dispositifs and publics)."""

    def __init__(self):
        self.formacodes: list[dict] = []
        self.sessions: list[dict] = []
        self.dispositifs: set[tuple[int, int]] = set()
        self.publics: set[tuple[int, str]] = set()

    def add(self, action: Action) -> None:
        formation = action.formation
        codes = sorted(formation.formacode_codes)
        self.formacodes += [{"action_id": action.id, "formacode_code": code} for code in codes]
        for session in action.sessions:
            commune = session.site.commune
            restantes = [d.nb_places_restantes for d in session.dispositifs if d.nb_places_restantes is not None]
            self.sessions.append(
                {
                    "session_id": session.id,
                    "action_id": action.id,
                    "fas_code": session.fas_code,
                    "date_debut": session.date_debut,
                    "date_fin": session.date_fin,
                    "commune_code": commune.code_insee if commune else None,
                    "departement": commune.departement if commune else None,
                    "latitude": session.site.latitude,
                    "longitude": session.site.longitude,
                    "etat_recrutement": session.etat_recrutement,
                    "modalite_enseignement": session.modalite_enseignement,
                    "entrees_sorties": session.entrees_sorties,
                    "places_restantes": sum(restantes) if restantes else None,
                    "certifiante": formation.certifiante,
                    "niveau_sortie": formation.niveau_sortie,
                    "domaines": formacode_domains(codes),
                }
            )
            self.dispositifs |= {(session.id, d.dispositif_code) for d in session.dispositifs}
            self.publics |= {(session.id, p.code) for d in session.dispositifs for p in d.publics}

    def insert(self) -> None:
        for table, rows in (
            (PublishedFormacode.__table__, self.formacodes),
            (PublishedSession.__table__, self.sessions),
            (
                published_session_dispositif,
                [{"session_id": s, "dispositif_code": c} for s, c in sorted(self.dispositifs)],
            ),
            (published_session_public, [{"session_id": s, "public_code": c} for s, c in sorted(self.publics)]),
        ):
            if rows:
                db.session.execute(table.insert(), rows)


def unpublish_many(actions: list[Action]) -> None:
    """Remove the published versions of ``actions`` (archiving); the caller commits."""
    ids = [action.id for action in actions]
    for start in range(0, len(ids), UNPUBLISHED_PER_STATEMENT):
        chunk = ids[start : start + UNPUBLISHED_PER_STATEMENT]
        kept_counts.remove([PublishedSession.action_id.in_(chunk)])
        db.session.execute(sa.delete(PublishedAction).where(PublishedAction.action_id.in_(chunk)))
    if ids:
        cache.changed()
