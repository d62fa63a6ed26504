"""Relation drop-downs of the F-A-S-D forms, limited to what the organisation may use."""

import sqlalchemy as sa
from wtforms.fields.choices import SelectChoice

from admin_views.fields import choice_list
from models import Contact, Dispositif, Organisation, Public, Site, User, db


def site_choices(organisation: Organisation) -> list[SelectChoice]:
    sites = db.session.scalars(
        sa.select(Site).where(Site.organisation_id == organisation.id, Site.active).order_by(Site.nom)
    )
    return choice_list(
        (
            site.id,
            f"{organisation.siret} - {organisation.code_sofi or ''} - {organisation.raison_sociale} - "
            f"{site.nom} ({site.commune.nom if site.commune else site.code_postal})",
        )
        for site in sites
    )


def responsible_organisations(organisation: Organisation, user: User) -> list[Organisation]:
    """Establishments of the same SIREN, and the organisations the user is attached to."""
    same_siren = db.session.scalars(organisation.same_organisme()).all()
    linked = [o for o in user.organisations if o not in same_siren] if user.is_authenticated else []
    return [o for o in same_siren + linked if o.active]


def organisation_choices(organisations: list[Organisation]) -> list[SelectChoice]:
    return choice_list((o.id, f"{o.code_sofi or ''} - {o.raison_sociale} - {o.display_name}") for o in organisations)


def contact_choices(organisation: Organisation, flag: str) -> list[SelectChoice]:
    """Contacts of the organisme (same SIREN) usable for the référent role ``flag``."""
    contacts = db.session.scalars(
        sa.select(Contact)
        .join(Organisation)
        .where(Organisation.siren == organisation.siren, Contact.active, getattr(Contact, flag))
        .order_by(Contact.nom, Contact.prenom)
    )
    return choice_list([(None, ""), *((c.id, str(c)) for c in contacts)])


def dispositif_choices(organisation: Organisation) -> list[SelectChoice]:
    """Active dispositifs; those requiring an agreement only when the organisation has it."""
    agreements = {c.financeur_code for c in organisation.conventionnements}
    dispositifs = db.session.scalars(sa.select(Dispositif).where(Dispositif.active).order_by(Dispositif.label))
    allowed = (
        d for d in dispositifs if d.conventionnement_financeur is None or d.conventionnement_financeur in agreements
    )
    return choice_list([(None, ""), *((d.code, d.label) for d in allowed)])


def public_choices() -> list[SelectChoice]:
    return choice_list((p.code, p.label) for p in db.session.scalars(sa.select(Public).order_by(Public.label)))
