"""Status changes of an action: the only code that sets ``Action.status``.

en cours de saisie → en attente de validation → (en attente de réponses ⇄ en attente de
validation) → publiée, or refusée; publiée → archivée. Each transition checks who may make
it, runs the rules, writes an audit event and notifies the people concerned by e-mail.
Editing a published action re-opens it as a draft revision (``reopen_edited``, called by
``sofi.services.offer``) while its published version (``PublishedAction``) stays public until
the revision is approved.
"""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from models import (
    Action,
    ActionMessage,
    ActionStatus,
    Certification,
    CertifInfo,
    Formation,
    FormationFormacode,
    FunderApproval,
    Membership,
    MessageKind,
    Organisation,
    PublishedAction,
    Role,
    SessionDispositif,
    SessionFormation,
    Site,
    User,
    db,
)
from models.base import utcnow
from models.codelists import label
from sofi import audit, permissions
from sofi.rules import blocking, check_action
from sofi.rules.programme import tree_options as programme_tree_options
from sofi.search import certification_for
from sofi.services import programmes, publication
from sofi.services.errors import DomainError
from sofi.services.mail import external_url, send_mail
from sofi.services.programmes import region_consent  # noqa: F401  (the Region's agreement, see approve)

SUBMITTABLE = {ActionStatus.EN_COURS_DE_SAISIE, ActionStatus.EN_ATTENTE_REPONSES, ActionStatus.REFUSEE}
REVIEWABLE = {ActionStatus.EN_ATTENTE_VALIDATION}
VALIDATOR_ROLES = {Role.VALIDATOR, Role.ADMINISTRATOR}


def _set_status(action: Action, status: ActionStatus) -> None:
    before = action.status
    action.status = status
    action.status_changed_at = utcnow()
    audit.note(
        "transition",
        action,
        f"{before.label} → {status.label}",
        before={"status": before.value},
        after={"status": status.value},
    )


def _require_validator(user: User) -> None:
    if not user.is_authenticated or user.role not in VALIDATOR_ROLES:
        raise DomainError("Seuls les valideurs du Cariforef peuvent faire cela.")


APPROVED_MAIL = ("SOFI : action validée", "Votre action a été validée et publiée.")
APPROVED_MANY_MAIL = ("SOFI : actions validées", "Vos actions ci-dessous ont été validées et publiées.")
CONCURRENT_CHANGE = "Cette action vient d'être traitée par quelqu'un d'autre : rechargez la page."


def _commit(message: str = CONCURRENT_CHANGE) -> None:
    """Commit; a concurrent change of the same action (optimistic lock) becomes a French error."""
    try:
        db.session.commit()
    except (StaleDataError, sa.exc.IntegrityError) as error:
        db.session.rollback()
        raise DomainError(message) from error


def _notify_organisation(action: Action, subject: str, body: str) -> None:
    """Mail the organisation's users (and its address) about their action."""
    _notify_organisations([action], (subject, body))


def _notify_organisations(actions: list[Action], mail: tuple[str, str], several: tuple[str, str] | None = None) -> None:
    """One mail per recipient of each organisation about its actions among ``actions`` (a bulk decision).

    ``several``: the subject and text when an organisation has more than one action. The recipients
    of all the organisations are read in one query (a bulk approval mails dozens at once).
    """
    by_organisation: dict[int, list[Action]] = {}
    for action in actions:
        by_organisation.setdefault(action.organisation_id, []).append(action)
    recipients = _recipients([group[0].organisation for group in by_organisation.values()])
    for organisation_id, group in by_organisation.items():
        subject, body = several if several and len(group) > 1 else mail
        listed = "\n".join(
            f"Action {action.id} — {action.intitule}\n{external_url('actions.recap_view', id=action.id)}"
            for action in group
        )
        for recipient in recipients[organisation_id]:
            send_mail(recipient, subject, f"{body}\n\n{listed}\n")


def _recipients(organisations: list[Organisation]) -> dict[int, list[str]]:
    """The addresses of each organisation: its active users' and its own, sorted."""
    found = {organisation.id: {organisation.email} - {None, ""} for organisation in organisations}
    users = db.session.execute(
        sa.select(Membership.organisation_id, User.email)
        .join(User, Membership.user)
        .where(Membership.organisation_id.in_(list(found)), User.active)
    )
    for organisation_id, email in users:
        found[organisation_id].add(email)
    return {organisation_id: sorted(emails) for organisation_id, emails in found.items()}


def _notify_validators(action: Action, subject: str, body: str) -> None:
    validators = db.session.scalars(sa.select(User).where(User.role == Role.VALIDATOR, User.active))
    link = external_url("validation.review_view", id=action.id)
    for validator in validators:
        send_mail(validator.email, subject, f"{body}\n\nAction {action.id} — {action.intitule}\n{link}\n")


def submit_action(user: User, action: Action, today: date | None = None) -> None:
    """ "Envoyer en validation": only the action's organisation, only when nothing blocks."""
    if not permissions.is_organisation_user(user) or not permissions.can_edit(user, action):
        raise DomainError("Vous ne pouvez pas envoyer cette action en validation.")
    if action.status not in SUBMITTABLE:
        raise DomainError(f"Cette action est « {action.status.label} » : elle ne peut pas être envoyée en validation.")
    problems = blocking(check_action(action, today or date.today()))
    if problems:
        raise DomainError(
            f"L'action ne peut pas être envoyée : {len(problems)} point(s) bloquant(s) à corriger "
            "(voir l'état de la saisie)."
        )
    _set_status(action, ActionStatus.EN_ATTENTE_VALIDATION)
    action.submitted_at = utcnow()
    _notify_validators(action, "SOFI : action envoyée en validation", "Une action attend votre validation.")
    _commit()


def approve(user: User, action: Action, today: date | None = None) -> None:
    """Publish the action: its published version is replaced atomically by the approved tree."""
    try:
        _check_approvable(user, action, today)
        _set_status(action, ActionStatus.PUBLIEE)
        db.session.flush()  # the version check happens here: a concurrent approval fails
    except StaleDataError as error:  # a concurrent approval or edit got there first
        db.session.rollback()
        raise DomainError(CONCURRENT_CHANGE) from error
    publication.publish(action, user)
    _notify_organisation(action, *APPROVED_MAIL)
    _commit()


def _check_approvable(user: User, action: Action, today: date | None, published: bool = True) -> None:
    """The checks of an approval (nothing is written): a ``DomainError`` says what blocks it.

    ``published=False``: the action is known to have no published version (``bulk_approve`` reads
    that for a whole batch at once); the Region's consent, asked only for a revision of a published
    programme action, is then not looked up (a query per action otherwise).
    """
    _require_validator(user)
    if action.status not in REVIEWABLE:
        raise DomainError(f"Cette action est « {action.status.label} » : elle ne peut pas être validée.")
    problems = blocking(check_action(action, today or date.today()))
    if problems:
        raise DomainError("Validation impossible : " + " ; ".join(p.message for p in problems[:5]))
    waiting = pending_funders(action)
    if waiting:
        names = ", ".join(label("dict-financeurs", code) for code in waiting)
        raise DomainError(f"Validation impossible : l'accord du financeur est attendu ({names}).")
    region = published and programmes.region_consent_pending(action)  # a change of a published programme action
    if region:
        raise DomainError(programmes.region_refusal_message(region))


def required_funders(action: Action) -> set[str]:
    """Financeur codes whose approval the action's dispositifs require."""
    return {
        d.dispositif.financeur_code
        for s in action.sessions
        for d in s.dispositifs
        if d.dispositif.requires_funder_approval
    }


def funder_decisions(action: Action) -> dict[str, FunderApproval]:
    """The latest decision of each funder on the current submission of the action."""
    decisions = db.session.scalars(
        sa.select(FunderApproval)
        .where(FunderApproval.action_id == action.id, FunderApproval.submitted_at == action.submitted_at)
        .order_by(FunderApproval.at)
    )
    return {decision.financeur_code: decision for decision in decisions}


def pending_funders(action: Action) -> list[str]:
    """Required funders that have not (or not yet) approved the current submission."""
    required = required_funders(action)
    decisions = funder_decisions(action) if required else {}
    return sorted(code for code in required if not (code in decisions and decisions[code].approved))


def funder_decision(user: User, action: Action, approved: bool, comment: str = "") -> FunderApproval:
    """A funder approves (or not) the sessions of its schemes in a submitted action."""
    if not user.is_authenticated or user.role is not Role.FUNDER or not user.financeur_code:
        raise DomainError("Seuls les comptes financeurs peuvent donner cet accord.")
    if user.financeur_code not in required_funders(action):
        raise DomainError("Cette action ne comporte pas de session de vos dispositifs.")
    if action.status is not ActionStatus.EN_ATTENTE_VALIDATION:
        raise DomainError(f"Cette action est « {action.status.label} » : elle n'attend pas votre accord.")
    comment = (comment or "").strip()
    if not approved and not comment:
        raise DomainError("Indiquez pourquoi vous refusez.", "comment")
    decision = FunderApproval(
        action_id=action.id,
        financeur_code=user.financeur_code,
        approved=approved,
        comment=comment or None,
        user_id=user.id,
        submitted_at=action.submitted_at,
    )
    db.session.add(decision)
    audit.note("financeur", action, ("Accord" if approved else "Refus") + f" du financeur {user.financeur_code}.")
    verdict = "a donné son accord" if approved else f"a refusé : {comment}"
    _notify_validators(action, "SOFI : décision d'un financeur", f"Le financeur {verdict}.")
    _commit()
    return decision


def reject(user: User, action: Action, reason: str) -> None:
    _require_validator(user)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Indiquez le motif du refus.", "reason")
    if action.status not in REVIEWABLE | {ActionStatus.EN_ATTENTE_REPONSES}:
        raise DomainError(f"Cette action est « {action.status.label} » : elle ne peut pas être refusée.")
    _message(user, action, MessageKind.REFUS, reason)
    _set_status(action, ActionStatus.REFUSEE)
    _notify_organisation(action, "SOFI : action refusée", f"Votre action a été refusée.\nMotif : {reason}")
    _commit()


def ask_question(user: User, action: Action, body: str, field: str | None = None) -> ActionMessage:
    """A validator's question: the action waits for the organisation's answer."""
    _require_validator(user)
    body = (body or "").strip()
    if not body:
        raise DomainError("Écrivez la question.", "body")
    if action.status not in REVIEWABLE:
        raise DomainError(f"Cette action est « {action.status.label} » : on ne peut pas poser de question.")
    message = _message(user, action, MessageKind.QUESTION, body, field)
    _set_status(action, ActionStatus.EN_ATTENTE_REPONSES)
    _notify_organisation(action, "SOFI : question du Cariforef sur votre action", f"Question : {body}")
    _commit()
    return message


def answer(user: User, action: Action, body: str) -> ActionMessage:
    """The organisation answers; it then corrects its entry if needed and sends it again."""
    if not permissions.is_organisation_user(user) or not permissions.can_edit(user, action):
        raise DomainError("Vous ne pouvez pas répondre pour cette action.")
    body = (body or "").strip()
    if not body:
        raise DomainError("Écrivez votre réponse.", "body")
    if action.status is not ActionStatus.EN_ATTENTE_REPONSES:
        raise DomainError("Aucune question n'attend de réponse sur cette action.")
    message = _message(user, action, MessageKind.REPONSE, body)
    _commit()
    return message


def _message(user: User, action: Action, kind: MessageKind, body: str, field: str | None = None) -> ActionMessage:
    message = ActionMessage(
        action_id=action.id, author_id=user.id, kind=kind, body=body, field=field, tree=publication.snapshot(action)
    )
    db.session.add(message)
    return message


def replace_certifinfo(user: User, action: Action, code: int) -> None:
    """A validator replaces the Certif Info code the organisation chose (marked on the action)."""
    from sofi.services.certifications import apply_certification

    _require_validator(user)
    entry = db.session.get(CertifInfo, code)
    if entry is None:
        raise DomainError(f"Le code Certif Info {code} n'existe pas.", "certifinfo_code")
    certification = certification_for(entry)
    if certification is None:
        raise DomainError(f"La fiche RNCP/RS du code Certif Info {code} n'est pas chargée.", "certifinfo_code")
    formation = action.formation
    if formation.certifinfo_code == code:
        raise DomainError("C'est déjà le code Certif Info de cette formation.", "certifinfo_code")
    action.certifinfo_code_initial = action.certifinfo_code_initial or formation.certifinfo_code
    total = formation.validation_blocs != "0"
    apply_certification(formation, certification, entry, None if total else [b.code for b in formation.blocs])
    action.certifinfo_replaced = True
    audit.note("certifinfo", action, f"Code Certif Info remplacé par {code}.")
    _notify_organisation(
        action,
        "SOFI : code Certif Info remplacé",
        f"Le Cariforef a remplacé le code Certif Info de votre formation par {code} ({entry.intitule}).",
    )
    _commit()


@dataclass
class BulkResult:
    done: list[Action]
    skipped: list[tuple[Action, str]]


def bulk_approve(user: User, actions: list[Action], today: date | None = None, batch: int = 500) -> BulkResult:
    """Approve every selected action that nothing blocks; list the others with their reasons.

    The actions go ``batch`` at a time: their trees are loaded together, the approvals of the batch
    are written in one savepoint and one flush (``_approve_together``), the approved actions are
    published together and committed together. One savepoint, flush, publication and commit per
    action would cost more than the approvals themselves. Each approval stays all-or-nothing: the
    checks write nothing, and a concurrent change of one action (its version check fails) undoes
    the savepoint, the batch is then approved one action at a time (``_approve_one_by_one``) and the
    changed action is listed as skipped. The trees stay loaded across commits. Batches of 500
    rather than 100: 1,000 actions approved in 14.9 s instead of 19.1 s on PostgreSQL at a million
    sessions (9.6 s instead of 10.8 s on SQLite), the fixed cost of each batch's queries and flushes
    shared by more actions.
    """
    _require_validator(user)
    result = BulkResult([], [])
    session = db.session()
    expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    try:
        for start in range(0, len(actions), batch):
            chunk = actions[start : start + batch]
            _load_trees(chunk)
            versions = {action.id: action.version for action in chunk}
            try:
                approved, refused = _approve_together(user, chunk, today)
            except StaleDataError:
                approved, refused = _approve_one_by_one(user, chunk, today, versions)
            result.skipped.extend(refused)
            if approved:
                publication.publish_many(approved, user)
                _notify_organisations(approved, APPROVED_MAIL, APPROVED_MANY_MAIL)
            try:
                _commit()
            except DomainError as error:
                result.skipped.extend((action, error.message) for action in approved)
            else:
                result.done.extend(approved)
    finally:
        session.expire_on_commit = expire_on_commit
    return result


Decisions = tuple[list[Action], list[tuple[Action, str]]]


def _approve_together(user: User, chunk: list[Action], today: date | None) -> Decisions:
    """The approvals of ``chunk`` in one savepoint, flushed once at its end (the version checks).

    Autoflush is off: the checks' queries would otherwise flush the status of each action approved
    before. Which actions have a published version is read once for the chunk (the Region's consent
    concerns only those). ``StaleDataError`` (an action changed meanwhile): the savepoint is undone,
    nothing is kept.
    """
    published = set(
        db.session.scalars(
            sa.select(PublishedAction.action_id).where(PublishedAction.action_id.in_([a.id for a in chunk]))
        )
    )
    approved, refused = [], []
    with db.session.begin_nested(), db.session.no_autoflush:
        for action in chunk:
            try:
                _check_approvable(user, action, today, published=action.id in published)
            except DomainError as error:
                refused.append((action, error.message))
            else:
                _set_status(action, ActionStatus.PUBLIEE)
                approved.append(action)
    return approved, refused


def _approve_one_by_one(user: User, chunk: list[Action], today: date | None, versions: dict[int, int]) -> Decisions:
    """The approvals of ``chunk`` after a concurrent change undid them together: a savepoint each.

    An action whose version is no longer the one read before the batch (``versions``) was changed
    by someone else: it is skipped, as its version check would have refused it.
    """
    _load_trees(chunk)  # the undone savepoint expired the actions it had changed: read them again
    approved, refused = [], []
    for action in chunk:
        if action.version != versions[action.id]:
            refused.append((action, CONCURRENT_CHANGE))
            continue
        try:
            with db.session.begin_nested():  # released with a flush: the version check
                _check_approvable(user, action, today)
                _set_status(action, ActionStatus.PUBLIEE)
        except DomainError as error:
            refused.append((action, error.message))
        except StaleDataError:
            refused.append((action, CONCURRENT_CHANGE))
        else:
            approved.append(action)
    return approved, refused


def _load_trees(actions: list[Action]) -> None:
    """Eager-load the F-A-S-D trees of ``actions`` and what the rules read besides (a constant number of queries)."""
    organisation = (selectinload(Organisation.habilitations), selectinload(Organisation.conventionnements))
    site = (joinedload(Site.commune), joinedload(Site.organisation))
    db.session.scalars(
        sa.select(Action)
        .where(Action.id.in_([action.id for action in actions]))
        .options(
            joinedload(Action.formation).options(
                selectinload(Formation.domaines).joinedload(FormationFormacode.formacode),
                selectinload(Formation.blocs),
                joinedload(Formation.certification).selectinload(Certification.blocs),
                joinedload(Formation.certifinfo),
            ),
            *programme_tree_options(),
            joinedload(Action.organisation).options(*organisation, joinedload(Organisation.commune)),
            joinedload(Action.site).options(*site),
            selectinload(Action.sessions).options(
                joinedload(SessionFormation.site).options(*site),
                joinedload(SessionFormation.organisme_responsable).joinedload(Organisation.commune),
                joinedload(SessionFormation.referent_pmr),
                joinedload(SessionFormation.referent_prf),
                joinedload(SessionFormation.mail_liaison),
                joinedload(SessionFormation.referent_mobilite),
                selectinload(SessionFormation.informations_collectives),
                selectinload(SessionFormation.periodes_inscription),
                selectinload(SessionFormation.dispositifs).options(
                    joinedload(SessionDispositif.dispositif), selectinload(SessionDispositif.publics)
                ),
            ),
        )
    ).unique().all()


def bulk_reject(user: User, actions: list[Action], reason: str) -> BulkResult:
    _require_validator(user)
    if not (reason or "").strip():
        raise DomainError("Indiquez le motif du refus.", "reason")
    result = BulkResult([], [])
    for action in actions:
        try:
            reject(user, action, reason)
        except DomainError as error:
            result.skipped.append((action, error.message))
        else:
            result.done.append(action)
    return result


def archive_action(action: Action) -> None:
    """Archive an action (``archive_actions`` of one)."""
    archive_actions([action])


def archive_actions(actions: list[Action]) -> None:
    """Archive actions (automatic archiving): out of the catalogue, API and export.

    They stay visible to their organisation and to validators. The caller commits (archiving
    runs as one batch).
    """
    actions = [action for action in actions if action.status is not ActionStatus.ARCHIVEE]
    if not actions:
        return
    publication.unpublish_many(actions)
    for action in actions:
        _set_status(action, ActionStatus.ARCHIVEE)
        action.archived_at = action.status_changed_at


# The states a change of content sends back to "en cours de saisie": the action must be sent again.
REOPENED_STATES = {ActionStatus.PUBLIEE, ActionStatus.REFUSEE, ActionStatus.EN_ATTENTE_VALIDATION}


def reopen_edited(action: Action | None) -> None:
    """Its organisation changed this action (or one of its records): it goes back to "en cours de saisie".

    A published action keeps its published version until the revision is approved. No transition
    note is written: the audit log records the status column change together with the edit that
    caused it. ``None`` (a record not attached to an action yet) changes nothing. The caller commits.
    """
    if action is not None and action.status in REOPENED_STATES:
        action.status = ActionStatus.EN_COURS_DE_SAISIE
        action.status_changed_at = utcnow()


def reopen_imported(action: Action) -> None:
    """An LHÉO re-import changed this action: it goes back to "en cours de saisie".

    Same rule as an edit by its organisation: a published action keeps its published version
    until the revision is approved. The caller (the import, one transaction) commits.
    """
    if action.status in REOPENED_STATES:
        _set_status(action, ActionStatus.EN_COURS_DE_SAISIE)


def publish_imported(action: Action) -> None:
    """Publish an action imported from a trusted LHÉO flow without the validation circuit.

    For migrations of offer already validated elsewhere (and the import tests): the action
    becomes "publiée" and its published version is stored. The caller commits.
    """
    if action.status is ActionStatus.ARCHIVEE:
        raise DomainError("Cette action est archivée : elle ne peut pas être publiée.")
    if action.status is not ActionStatus.PUBLIEE:
        _set_status(action, ActionStatus.PUBLIEE)
    db.session.flush()
    publication.publish(action)
