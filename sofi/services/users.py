"""Account management actions."""

import sqlalchemy as sa

from models import Membership, ModelValidationError, Organisation, Role, User, db
from models.codelists import codelist
from sofi.services.errors import DomainError

ORGANISATION_ROLES = {Role.ORGANISATION}


def create_user(
    email: str,
    password: str,
    role: str,
    organisation_sirets: list[str] = (),
    nom: str | None = None,
    prenom: str | None = None,
    financeur_code: str | None = None,
) -> User:
    """Create an account (the first administrator of an installation is made this way)."""
    try:
        role = Role(role)
    except ValueError as error:
        raise DomainError(
            f"Rôle inconnu « {role} » : choisir parmi {', '.join(r.value for r in Role)}.", "role"
        ) from error
    email = (email or "").strip().lower()
    if db.session.scalar(sa.select(User).where(User.email == email)):
        raise DomainError(f"Un compte existe déjà pour l'adresse {email}.", "email")
    if role in ORGANISATION_ROLES and not organisation_sirets:
        raise DomainError("Un utilisateur d'organisme doit être rattaché à au moins un SIRET (--organisation).")
    if role is Role.FUNDER and financeur_code not in codelist("dict-financeurs"):
        raise DomainError("Un compte financeur doit indiquer son code financeur LHÉO (--financeur, ex. 4 ou 7).")
    organisations = []
    for siret in organisation_sirets:
        organisation = db.session.scalar(sa.select(Organisation).where(Organisation.siret == siret))
        if organisation is None:
            raise DomainError(f"Aucun organisme n'a le SIRET {siret}.", "organisation")
        organisations.append(organisation)
    try:
        user = User(
            email=email,
            role=role,
            nom=nom,
            prenom=prenom,
            financeur_code=financeur_code if role is Role.FUNDER else None,
        )
        user.set_password(password)
    except ModelValidationError as error:
        raise DomainError(error.message.capitalize(), error.field) from error
    user.memberships = [Membership(organisation=organisation) for organisation in organisations]
    db.session.add(user)
    db.session.commit()
    return user
