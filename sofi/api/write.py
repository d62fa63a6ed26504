"""Write endpoints for organisations' own systems (``/api/v1/offre/…``, Bearer token).

A token acts for its establishment as a :class:`~sofi.permissions.OrganisationPrincipal`,
through the same services as the workspace (``sofi.services.offer``, ``workflow``,
``recruitment``): same permissions, rules and audit (attributed to "jeton API <name>").
Updates carry ``If-Match: "<version>"`` (the record's optimistic-locking version); every
write accepts ``?dry_run=1`` to check it without saving anything.
"""

from datetime import date
from decimal import Decimal, InvalidOperation
from functools import wraps

import sqlalchemy as sa
from flask import g, jsonify, request, url_for
from sqlalchemy.orm.exc import StaleDataError

from models import (
    Action,
    Contact,
    Dispositif,
    Formation,
    ModelValidationError,
    Organisation,
    Public,
    SessionDispositif,
    SessionFormation,
    Site,
    db,
)
from sofi import permissions
from sofi.api.blueprint import api
from sofi.api.errors import ApiError, detail
from sofi.audit import acting_as
from sofi.rules import blocking, check_action
from sofi.sanitize import clean_html
from sofi.services import offer, workflow
from sofi.services.api_tokens import TokenError, authenticate
from sofi.services.errors import DomainError
from sofi.services.recruitment import update_recruitment

CONTACT_FIELDS = ("referent_pmr_id", "referent_prf_id", "mail_liaison_id", "referent_mobilite_id")
ACTION_FIELDS = (*Action.DESCRIPTION_FIELDS, "site_id")
SESSION_FIELDS = ("site_id", *SessionFormation.DESCRIPTION_FIELDS, "organisme_responsable_id", *CONTACT_FIELDS)
DISPOSITIF_FIELDS = (*SessionDispositif.TERM_FIELDS, "publics")
# Rich text (the workspace forms' RichTextField): reduced to the same safe HTML subset as in the forms.
RICH_TEXT_FIELDS = frozenset(
    {
        "complement_programme",
        "objectifs",
        "resultats_attendus",
        "plus_formation",
        "equipement_commentaire",
        "commentaire_prerequis",
        "commentaire_duree",
    }
)


# Authentication --------------------------------------------------------------------------------
def token_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        scheme, _, secret = header.partition(" ")
        try:
            token, principal = authenticate(secret if scheme.lower() == "bearer" else None)
        except TokenError as error:
            raise ApiError(
                401, error.code, error.message, headers={"WWW-Authenticate": 'Bearer realm="sofi"'}
            ) from error
        g.api_token, g.principal = token, principal
        with acting_as(principal.label, "api", user=None):
            return view(*args, **kwargs)

    return wrapper


def _dry_run() -> bool:
    return request.args.get("dry_run", "").lower() in ("1", "true", "oui")


def _body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "json_invalide", "Le corps de la requête doit être un objet JSON.")
    return data


def _owned(model, record_id: int):
    """A record of the token's establishment, else 404 (records of others are not revealed)."""
    query = permissions.scoped(sa.select(model).where(model.id == record_id), model, g.principal)
    record = db.session.scalar(query)
    if record is None:
        raise ApiError(404, "introuvable", "Cet enregistrement n'existe pas pour votre établissement.")
    return record


def _check_version(record) -> None:
    raw = request.headers.get("If-Match", "").strip()
    if not raw:
        raise ApiError(
            428,
            "version_requise",
            "Indiquez la version modifiée dans l'en-tête If-Match (valeur de l'ETag).",
            "version",
        )
    value = raw.removeprefix("W/").strip('"')
    if raw != "*" and value != str(record.version):
        raise ApiError(
            412,
            "version_perimee",
            f"L'enregistrement a changé depuis sa lecture (version {record.version}) : relisez-le puis modifiez-le.",
            "version",
        )


# Values ---------------------------------------------------------------------------------------
def _convert(model, name: str, value):
    """A JSON value to the type of ``model.name``; raises ApiError on a wrong type."""
    if value is None:
        return None
    column = sa.inspect(model).columns[name]
    kind = column.type
    wrong = ApiError(422, "type_invalide", f"Valeur de type inattendu pour « {name} ».", name)
    if isinstance(kind, sa.Date):
        if not isinstance(value, str):
            raise wrong
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ApiError(422, "date_invalide", f"« {name} » est une date AAAA-MM-JJ.", name) from None
    if isinstance(kind, sa.Numeric):
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise wrong
        try:
            return Decimal(str(value))
        except InvalidOperation:
            raise wrong from None
    if isinstance(kind, sa.Boolean):
        if not isinstance(value, bool):
            raise wrong
        return value
    if isinstance(kind, sa.Integer):
        if isinstance(value, bool) or not isinstance(value, int):
            raise wrong
        return value
    if isinstance(kind, sa.JSON):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise wrong
        return value
    if not isinstance(value, str):
        raise wrong
    return value


def _reference(model, record_id, name: str, clause=None):
    if record_id is None:
        return None
    query = sa.select(model).where(model.id == record_id)
    if clause is not None:
        query = query.where(clause)
    record = db.session.scalar(query)
    if record is None:
        raise ApiError(422, "reference_invalide", f"« {name} » ne désigne rien de votre établissement.", name)
    return record


def _apply(record, data: dict, allowed: tuple[str, ...]) -> None:
    """Set the fields of ``data`` on ``record`` (model validators run on each)."""
    unknown = [name for name in data if name not in allowed]
    if unknown:
        raise ApiError(
            422,
            "champ_inconnu",
            f"Champ inconnu ou non modifiable : « {unknown[0]} ».",
            unknown[0],
            [detail("champ_inconnu", name, f"Champ inconnu ou non modifiable : « {name} ».") for name in unknown],
        )
    organisation = permissions.current_organisation(g.principal)
    model = type(record)
    for name, raw in data.items():
        try:
            if name == "publics":
                if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
                    raise ApiError(422, "type_invalide", "« publics » est une liste de codes.", name)
                publics = list(db.session.scalars(sa.select(Public).where(Public.code.in_(raw))))
                if len(publics) != len(set(raw)):
                    raise ApiError(422, "code_invalide", "Un des codes de « publics » n'existe pas.", name)
                record.publics = publics
            elif name == "site_id":
                record.site = _reference(
                    Site, _convert(model, name, raw), name, Site.organisation_id == organisation.id
                )
            elif name == "organisme_responsable_id":
                record.organisme_responsable = _reference(
                    Organisation, _convert(model, name, raw), name, Organisation.siren == organisation.siren
                )
            elif name in CONTACT_FIELDS:
                contact = _reference(
                    Contact, _convert(model, name, raw), name, Contact.organisation_id == organisation.id
                )
                setattr(record, name.removesuffix("_id"), contact)
            elif name in RICH_TEXT_FIELDS:
                setattr(record, name, clean_html(_convert(model, name, raw)))
            else:
                setattr(record, name, _convert(model, name, raw))
        except ModelValidationError as error:
            raise ApiError(
                422, "valeur_invalide", error.message[:1].upper() + error.message[1:], error.field or name
            ) from error


# Representations --------------------------------------------------------------------------------
def _columns(record, names) -> dict:
    result = {}
    for name in names:
        if name == "publics":
            result[name] = [p.code for p in record.publics]
            continue
        value = getattr(record, name)
        if isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = float(value)
        result[name] = value
    return result


def action_json(action: Action) -> dict:
    return {
        "id": action.id,
        "version": action.version,
        "formation_id": action.formation_id,
        "organisation_siret": action.organisation.siret,
        "intitule": action.intitule,
        "status": action.status.value,
        "status_label": action.status.label,
        **_columns(action, ACTION_FIELDS),
        "sessions": [{"id": s.id, "fas_code": s.fas_code, "version": s.version} for s in action.sessions],
    }


def session_json(session: SessionFormation) -> dict:
    return {
        "id": session.id,
        "version": session.version,
        "action_id": session.action_id,
        "fas_code": session.fas_code if session.id else None,
        **_columns(session, SESSION_FIELDS),
        "dispositifs": [
            {"id": d.id, "dispositif_code": d.dispositif_code, "version": d.version} for d in session.dispositifs
        ],
    }


def dispositif_json(dispositif: SessionDispositif) -> dict:
    return {
        "id": dispositif.id,
        "version": dispositif.version,
        "session_id": dispositif.session_id,
        "dispositif_code": dispositif.dispositif_code,
        **_columns(dispositif, DISPOSITIF_FIELDS),
    }


def _respond(payload: dict, status: int = 200, location: str | None = None, dry_run: bool = False):
    if dry_run:
        payload, status = {"dry_run": True, "record": payload}, 200
    response = jsonify(payload)
    response.status_code = status
    if not dry_run and payload.get("version") is not None:
        response.headers["ETag"] = f'"{payload["version"]}"'
    if location and not dry_run:
        response.headers["Location"] = location
    return response


def _save(record, serialize, *, created: bool):
    """Save through ``offer.save`` (or only check, in dry-run mode); returns the representation."""
    try:
        if _dry_run():
            with db.session.no_autoflush:
                offer.check_editable(g.principal, record)
            db.session.add(record)
            db.session.flush()  # model checks and database constraints, then nothing is kept
            payload = serialize(record)
            if created:
                payload["id"] = None
                if "fas_code" in payload:
                    payload["fas_code"] = None
            db.session.rollback()
            return payload
        offer.save(g.principal, record)
    except DomainError as error:
        db.session.rollback()
        raise ApiError(422, "regle_metier", error.message, error.field) from error
    except ModelValidationError as error:
        db.session.rollback()
        raise ApiError(422, "valeur_invalide", error.message[:1].upper() + error.message[1:], error.field) from error
    except sa.exc.IntegrityError as error:
        db.session.rollback()
        raise ApiError(
            422, "incoherence", "Enregistrement impossible : une donnée est incohérente ou déjà utilisée."
        ) from error
    except StaleDataError as error:
        db.session.rollback()
        raise ApiError(
            412, "version_perimee", "L'enregistrement vient d'être modifié : relisez-le.", "version"
        ) from error
    return serialize(record)


def _guarded(work):
    """Run ``work`` and roll back on any API error, so that a refused request leaves nothing behind."""
    try:
        return work()
    except ApiError:
        db.session.rollback()
        raise


# Actions ---------------------------------------------------------------------------------------------
@api.get("/offre/actions")
@token_required
def list_own_actions():
    query = permissions.scoped(sa.select(Action).order_by(Action.id), Action, g.principal)
    return jsonify({"items": [action_json(a) for a in db.session.scalars(query)]})


@api.post("/offre/actions")
@token_required
def create_action():
    def work():
        data = dict(_body())
        formation_id = data.pop("formation_id", None)
        if isinstance(formation_id, bool) or not isinstance(formation_id, int):
            raise ApiError(
                422, "champ_obligatoire", "« formation_id » (la formation de l'action) est obligatoire.", "formation_id"
            )
        formation = db.session.scalar(
            permissions.scoped(sa.select(Formation).where(Formation.id == formation_id), Formation, g.principal)
        )
        if formation is None:
            raise ApiError(
                422, "reference_invalide", "Cette formation n'existe pas pour votre établissement.", "formation_id"
            )
        if "site_id" not in data:
            raise ApiError(422, "champ_obligatoire", "« site_id » (le lieu de l'action) est obligatoire.", "site_id")
        organisation = permissions.current_organisation(g.principal)
        with db.session.no_autoflush:
            action = Action(formation=formation, organisation=organisation)
            _apply(action, data, ACTION_FIELDS)
        payload = _save(action, action_json, created=True)
        return _respond(
            payload, 201, url_for(".get_own_action", action_id=action.id) if payload["id"] else None, _dry_run()
        )

    return _guarded(work)


@api.get("/offre/actions/<int:action_id>")
@token_required
def get_own_action(action_id: int):
    return _respond(action_json(_owned(Action, action_id)))


@api.patch("/offre/actions/<int:action_id>")
@token_required
def update_action(action_id: int):
    def work():
        action = _owned(Action, action_id)
        _check_version(action)
        with db.session.no_autoflush:
            _apply(action, _body(), ACTION_FIELDS)
        return _respond(_save(action, action_json, created=False), dry_run=_dry_run())

    return _guarded(work)


@api.post("/offre/actions/<int:action_id>/soumission")
@token_required
def submit_action(action_id: int):
    def work():
        action = _owned(Action, action_id)
        _check_version(action)
        if _dry_run():
            problems = blocking(check_action(action, date.today()))
            allowed = action.status in workflow.SUBMITTABLE
            payload = {
                "dry_run": True,
                "would_submit": allowed and not problems,
                "status": action.status.value,
                "problems": [detail(p.code, p.field, p.message) for p in problems],
            }
            db.session.rollback()
            return jsonify(payload)
        try:
            workflow.submit_action(g.principal, action)
        except DomainError as error:
            db.session.rollback()
            problems = blocking(check_action(_owned(Action, action_id), date.today()))
            raise ApiError(
                422,
                "soumission_impossible",
                error.message,
                error.field,
                [detail(p.code, p.field, p.message) for p in problems],
            ) from error
        return _respond(action_json(action))

    return _guarded(work)


# Sessions ----------------------------------------------------------------------------------------------
@api.post("/offre/actions/<int:action_id>/sessions")
@token_required
def create_session(action_id: int):
    def work():
        action = _owned(Action, action_id)
        data = _body()
        for name in ("date_debut", "date_fin"):
            if name not in data:
                raise ApiError(422, "champ_obligatoire", f"« {name} » est obligatoire.", name)
        with db.session.no_autoflush:
            session = SessionFormation(
                action=action, site=action.site, organisme_responsable=permissions.current_organisation(g.principal)
            )
            _apply(session, data, SESSION_FIELDS)
        payload = _save(session, session_json, created=True)
        return _respond(
            payload, 201, url_for(".get_own_session", session_id=session.id) if payload["id"] else None, _dry_run()
        )

    return _guarded(work)


@api.get("/offre/sessions/<int:session_id>")
@token_required
def get_own_session(session_id: int):
    return _respond(session_json(_owned(SessionFormation, session_id)))


@api.patch("/offre/sessions/<int:session_id>")
@token_required
def update_session(session_id: int):
    def work():
        session = _owned(SessionFormation, session_id)
        _check_version(session)
        with db.session.no_autoflush:
            _apply(session, _body(), SESSION_FIELDS)
        return _respond(_save(session, session_json, created=False), dry_run=_dry_run())

    return _guarded(work)


@api.put("/offre/sessions/<int:session_id>/recrutement")
@token_required
def update_session_recruitment(session_id: int):
    def work():
        session = _owned(SessionFormation, session_id)
        _check_version(session)
        data = _body()
        unknown = [name for name in data if name not in ("etat_recrutement", "places_restantes")]
        if unknown:
            raise ApiError(422, "champ_inconnu", f"Champ inconnu : « {unknown[0]} ».", unknown[0])
        etat = data.get("etat_recrutement")
        places = data.get("places_restantes")
        if etat is not None and not isinstance(etat, str):
            raise ApiError(422, "type_invalide", "« etat_recrutement » est un code (chaîne).", "etat_recrutement")
        try:
            published = update_recruitment(g.principal, session, etat, places, commit=not _dry_run())
        except DomainError as error:
            db.session.rollback()
            raise ApiError(422, "regle_metier", error.message, error.field) from error
        payload = {**session_json(session), "publiee": published}
        if _dry_run():
            db.session.rollback()
        return _respond(payload, dry_run=_dry_run())

    return _guarded(work)


# Dispositifs -------------------------------------------------------------------------------------------
@api.post("/offre/sessions/<int:session_id>/dispositifs")
@token_required
def create_dispositif(session_id: int):
    def work():
        session = _owned(SessionFormation, session_id)
        data = dict(_body())
        code = data.pop("dispositif_code", None)
        scheme = db.session.get(Dispositif, code) if isinstance(code, int) and not isinstance(code, bool) else None
        if scheme is None or not scheme.active:
            raise ApiError(
                422, "code_invalide", "« dispositif_code » doit être un code de la base Dispositif.", "dispositif_code"
            )
        if "nb_places" not in data:
            raise ApiError(422, "champ_obligatoire", "« nb_places » est obligatoire (minimum 1).", "nb_places")
        with db.session.no_autoflush:
            dispositif = SessionDispositif(session=session, dispositif=scheme, nb_places=1)
            if "publics" not in data:
                dispositif.publics = list(scheme.default_publics)
            _apply(dispositif, data, DISPOSITIF_FIELDS)
        payload = _save(dispositif, dispositif_json, created=True)
        return _respond(
            payload,
            201,
            url_for(".get_own_dispositif", dispositif_id=dispositif.id) if payload["id"] else None,
            _dry_run(),
        )

    return _guarded(work)


@api.get("/offre/dispositifs/<int:dispositif_id>")
@token_required
def get_own_dispositif(dispositif_id: int):
    return _respond(dispositif_json(_owned(SessionDispositif, dispositif_id)))


@api.patch("/offre/dispositifs/<int:dispositif_id>")
@token_required
def update_dispositif(dispositif_id: int):
    def work():
        dispositif = _owned(SessionDispositif, dispositif_id)
        _check_version(dispositif)
        with db.session.no_autoflush:
            _apply(dispositif, _body(), DISPOSITIF_FIELDS)
        return _respond(_save(dispositif, dispositif_json, created=False), dry_run=_dry_run())

    return _guarded(work)
