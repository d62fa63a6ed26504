"""The sessions of an LHÉO import, with their referents, information meetings, registration periods
and dispositifs: updated through the ORM, or created as plain rows inserted in bulk.

A part of :class:`sofi.services.lheo_import.Importer` (see its module), whose state it uses: the
report, the reference publics and dispositifs (``public_rows``, ``public_codes``, ``publics``,
``schemes``), the dispositifs created in the current savepoint (``dispositifs``), the sessions
waiting for the next flush (``_new_sessions``) and ``contact``.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from exporters.lheo import mapping as m
from models import (
    Action,
    Dispositif,
    InformationCollective,
    Organisation,
    PeriodeInscription,
    SessionDispositif,
    SessionFormation,
    Site,
    db,
)
from models.codelists import codelist
from models.codelists import label as code_label
from models.offer import session_dispositif_public
from sofi import audit
from sofi.plain_rows import foreign_key, insert_rows, validated, write_rows
from sofi.services.lheo_import_report import CREATED, SKIPPED, UNCHANGED, UPDATED
from sofi.services.lheo_import_values import (
    assign,
    date_problem,
    dated,
    decimal_or_none,
    flag_set,
    int_or_none,
    listed_code,
    plain_text,
)
from sofi.text import search_key

if TYPE_CHECKING:
    from sofi.services.lheo_import import NewAction

DECIMAL_FIELDS = ("frais_ht", "taux_tva", "frais_ttc", "frais_additionnels_montant")
TEXT_FIELDS = ("numero_lot_cr", "id_action_cr", "of_mandataire_cr", "reference_marche", "frais_additionnels_details")
FLAG_DISPOSITIFS = (("formation-initiale", 15), ("contrat-apprentissage", 6), ("contrat-professionnalisation", 7))
# The order of the tuples ``_wanted_informations`` and ``_wanted_periodes`` give.
INFORMATION_COLUMNS = ("date", "heure_debut", "heure_fin", "lieu", "commentaire")
PERIODE_COLUMNS = ("type", "date_debut", "date_fin")


def insert_created(model: type, rows: list[dict], owner: Callable[[dict], tuple]) -> list[tuple]:
    """Insert the plain ``rows`` of ``model`` the import creates; their ``create`` audit rows, as the
    flush listener would write them (``owner``: the (organisation id, action id) of an inserted
    row, which has its id by then).

    The import writes the audit rows of all the records a flush created in one statement.
    """
    insert_rows(model, rows)
    return audit.created_events(model, rows, [owner(row) for row in rows])


@dataclass
class NewSession:
    """A session the import creates: its rows are checked when read, inserted by the next flush.

    Without ORM objects: building them and flushing them took three quarters of the import time
    (5,950 sessions: 4.5 s and 5.5 s of 12 s). ``links`` are the records it points to, whose ids
    may not exist before that flush.
    """

    action: "Action | NewAction"
    links: dict[str, object]
    columns: dict
    informations: list[dict]
    periodes: list[dict]
    dispositifs: list[tuple[dict, list[str]]]


class SessionsImport:
    """The sessions of an imported action and the rows that belong to them."""

    def session(
        self,
        action: "Action | NewAction",
        responsible: Organisation,
        fdata: dict,
        lheo_action: dict,
        data: dict,
        site: Site,
        action_key: str,
    ) -> str:
        label = plain_text(fdata.get("intitule") or "")
        key = data.get("numero") or f"{action_key}-{data['index']}"
        entry = self.report.open("session", key, label)
        sofi = data.get("sofi")
        if not dated(data):
            entry.outcome, entry.detail = SKIPPED, date_problem(data)
            return SKIPPED
        session = None
        if action.id is not None:
            fas = (sofi or {}).get("code-fas") or ""
            parts = fas.split("-")
            if len(parts) == 3 and parts[1] == str(action.id) and parts[0] == str(action.formation_id):
                candidate = db.session.get(SessionFormation, int_or_none(parts[2]) or 0)
                if candidate is not None and candidate.action_id == action.id:
                    session = candidate
            if session is None:
                session = db.session.scalar(
                    sa.select(SessionFormation)
                    .where(SessionFormation.action_id == action.id, SessionFormation.numero_lheo == key)
                    .limit(1)
                )
        created = session is None
        values = self._session_values(responsible, fdata, lheo_action, data, site)
        if created:
            self._new_session(action, key, values, lheo_action, data)
            changes = []
        else:
            changes = assign(session, values)
            changes += self._referents(session, action.organisation, data)
            changes += self._informations(session, lheo_action, data)
            changes += self._periodes(session, data)
            changes += self._dispositifs(session, lheo_action, data)
        entry.outcome = CREATED if created else (UPDATED if changes else UNCHANGED)
        entry.detail = ", ".join(changes) if entry.outcome == UPDATED else ""
        return entry.outcome

    def _session_values(
        self, responsible: Organisation, fdata: dict, lheo_action: dict, data: dict, site: Site
    ) -> dict:
        sofi = data.get("sofi")
        modalites_codes = lheo_action.get("modalites_codes") or []
        centre, entreprise, total = (
            lheo_action.get("heures_centre"),
            lheo_action.get("heures_entreprise"),
            lheo_action.get("heures_total"),
        )
        if centre is None and total is not None:
            centre = max(total - (entreprise or 0), 0)
        cycle = next((c for c in data["cycles"] if c.get("unite")), None) or {}
        values = {
            "site": site,
            "date_debut": data["date_debut"],
            "date_fin": data["date_fin"],
            "entrees_sorties": listed_code(lheo_action.get("entrees_sorties"), "dict-modalites-es") or "0",
            "modalite_enseignement": listed_code(
                lheo_action.get("modalite_enseignement"), "dict-modalites-enseignement"
            )
            or "0",
            "duree_centre": centre if centre is None or centre >= 0 else None,
            "duree_entreprise": entreprise if entreprise is None or entreprise >= 0 else None,
            "organisme_responsable": responsible,
            "etat_recrutement": listed_code(data.get("etat_recrutement"), "dict-etat-recrutement") or "1",
            "cycle_unite": listed_code(cycle.get("unite"), "dict-unite-rythme"),
            "cycle_unites_entreprise": cycle.get("unites_entreprise") if cycle.get("unite") else None,
            "cycle_unites_centre": cycle.get("unites_centre") if cycle.get("unite") else None,
        }
        if sofi is not None:
            values.update(
                rythmes=[c for c in (sofi.get("rythmes") or "").split() if c in codelist("sofi-rythmes")],
                periodes=[c for c in (sofi.get("periodes") or "").split() if c in codelist("sofi-periodes-formation")],
                type_parcours=listed_code(sofi.get("type-parcours"), "dict-type-parcours"),
                modalites_pedagogiques=[
                    c
                    for c in (sofi.get("modalites-pedagogiques") or "").split()
                    if c in codelist("sofi-modalites-pedagogiques")
                ],
                modalites_recrutement=[
                    c
                    for c in (sofi.get("modalites-recrutement") or "").split()
                    if c in codelist("dict-modalite-recrutement")
                ],
                duree_hebdo=decimal_or_none(sofi.get("duree-hebdo")),
                commentaire_duree=sofi.get("commentaire-duree") or None,
            )
        else:
            rythme = search_key(lheo_action.get("rythme") or "")
            rythmes = [
                code
                for code, text in codelist("sofi-rythmes").items()
                if re.search(rf"(?<![a-z]){re.escape(search_key(text))}(?![a-z])", rythme)
            ]
            recrutements = []
            for recrutement in data["recrutements"]:
                code = listed_code(recrutement.get("modalite"), "dict-modalite-recrutement")
                if code and code not in recrutements:
                    recrutements.append(code)
            values.update(
                rythmes=rythmes,
                periodes=[c for c in modalites_codes if c in codelist("sofi-periodes-formation")],
                type_parcours=listed_code(fdata.get("parcours"), "dict-type-parcours"),
                modalites_pedagogiques=list(
                    dict.fromkeys(c for c in modalites_codes if c in codelist("sofi-modalites-pedagogiques"))
                ),
                modalites_recrutement=recrutements,
            )
        return values

    def _new_session(self, action: "Action | NewAction", key: str, values: dict, lheo_action: dict, data: dict) -> None:
        """Check the rows of a new session (in the order building its objects did) and keep them for the flush."""
        links = {name: values.pop(name) for name in ("site", "organisme_responsable")}
        columns = validated(SessionFormation, {"numero_lheo": key, **values})
        links.update(self._referent_roles(action.organisation, data))
        informations = [
            validated(InformationCollective, dict(zip(INFORMATION_COLUMNS, wanted, strict=True)))
            for wanted in self._wanted_informations(lheo_action, data)
        ]
        periodes = [
            validated(PeriodeInscription, dict(zip(PERIODE_COLUMNS, wanted, strict=True)))
            for wanted in self._wanted_periodes(data)
        ]
        dispositifs = [
            (validated(SessionDispositif, {"dispositif_code": code, **fields}), publics)
            for code, fields, publics in self._dispositif_rows(lheo_action, data)
        ]
        self._new_sessions.append(NewSession(action, links, columns, informations, periodes, dispositifs))

    def _write_new_sessions(self) -> list[tuple]:
        """Insert the sessions created since the last flush and their rows: one statement per table;
        their audit rows, for the flush to write (``insert_created``).

        Run after the ORM flush and the new actions, which gave their actions, sites and contacts an id.
        """
        new, self._new_sessions = self._new_sessions, []
        if not new:
            return []
        for session in new:
            session.columns["action_id"] = session.action.id
            for name, record in session.links.items():
                session.columns[foreign_key(SessionFormation, name)] = record.id
        of_action = {session.action.id: (session.action.organisation_id, session.action.id) for session in new}
        events = insert_created(
            SessionFormation, [session.columns for session in new], lambda row: of_action[row["action_id"]]
        )
        of_session = {session.columns["id"]: of_action[session.action.id] for session in new}
        for model, rows_of in (
            (InformationCollective, lambda session: session.informations),
            (PeriodeInscription, lambda session: session.periodes),
            (SessionDispositif, lambda session: [row for row, _publics in session.dispositifs]),
        ):
            rows = []
            for session in new:
                for row in rows_of(session):
                    row["session_id"] = session.columns["id"]
                    rows.append(row)
            if rows:
                events += insert_created(model, rows, lambda row: of_session[row["session_id"]])
        publics = [
            {"session_dispositif_id": row["id"], "public_code": code}
            for session in new
            for row, codes in session.dispositifs
            for code in codes
        ]
        if publics:
            write_rows(session_dispositif_public, publics)
        return events

    def _referent_roles(self, organisation: Organisation, data: dict):
        """(attribute, contact) of each referent role of the session's contacts, in file order."""
        for contact_data in data["contacts"]:
            contact = self.contact(organisation, contact_data)
            if contact is None:
                continue
            roles = set(contact_data.get("roles") or [])
            if not contact_data.get("roles") and contact_data.get("type_contact") == "1":
                roles.add("referent-pmr")
            for attribute, role in m.CONTACT_ROLES:
                if role in roles:
                    yield attribute, contact

    def _referents(self, session: SessionFormation, organisation: Organisation, data: dict) -> list[str]:
        changes = []
        for attribute, contact in self._referent_roles(organisation, data):
            if getattr(session, attribute) is not contact:
                setattr(session, attribute, contact)
                changes.append(attribute)
        return changes

    def _wanted_informations(self, lheo_action: dict, data: dict) -> list[tuple]:
        """The information meetings of a session, as ``INFORMATION_COLUMNS`` tuples."""
        wanted = []
        sofi = data.get("sofi")
        if sofi is not None:
            for info in sofi["informations_collectives"]:
                day = m.parse_lheo_date(info.get("date"))
                if day is None:
                    continue
                wanted.append(
                    (
                        day,
                        m.parse_hour(info.get("heure-debut")),
                        m.parse_hour(info.get("heure-fin")),
                        m.fit(info.get("lieu"), 255) or m.EMPTY_TEXT,
                        m.fit(info.get("commentaire"), 500),
                    )
                )
        else:
            for recrutement in data["recrutements"]:
                if recrutement.get("modalite") == "9" and recrutement.get("date"):
                    adresse = recrutement.get("adresse")
                    lieu = (
                        " ".join([*adresse["lignes"], adresse["codepostal"], adresse["ville"]])
                        if adresse
                        else recrutement.get("commentaire")
                    )
                    wanted.append(
                        (
                            recrutement["date"],
                            recrutement.get("heure_debut"),
                            recrutement.get("heure_fin"),
                            m.fit(lieu, 255) or "Non précisé",
                            m.fit(recrutement.get("commentaire"), 500),
                        )
                    )
            adresse = lheo_action.get("adresse_information")
            lieu = " ".join([*adresse["lignes"], adresse["codepostal"], adresse["ville"]]) if adresse else "Non précisé"
            for day in lheo_action.get("dates_information") or []:
                wanted.append((day, None, None, m.fit(lieu, 255), None))
        return [w for w in wanted if w[1] is None or w[2] is None or w[2] >= w[1]]

    def _informations(self, session: SessionFormation, lheo_action: dict, data: dict) -> list[str]:
        wanted = self._wanted_informations(lheo_action, data)
        current = [
            (i.date, i.heure_debut, i.heure_fin, i.lieu, i.commentaire) for i in session.informations_collectives
        ]
        if current == wanted:
            return []
        session.informations_collectives = [
            InformationCollective(date=d, heure_debut=hd, heure_fin=hf, lieu=lieu, commentaire=c)
            for d, hd, hf, lieu, c in wanted
        ]
        return ["informations_collectives"]

    def _wanted_periodes(self, data: dict) -> list[tuple]:
        """The registration periods of a session, as ``PERIODE_COLUMNS`` tuples."""
        wanted = []
        sofi = data.get("sofi")
        if sofi is not None:
            for periode in sofi["periodes_inscription"]:
                debut = m.parse_lheo_date(periode.get("debut"))
                kind = listed_code(periode.get("type"), "sofi-types-periode-inscription")
                if debut and kind:
                    wanted.append((kind, debut, m.parse_lheo_date(periode.get("fin"), end=True)))
        elif data.get("periode_inscription"):
            periode = data["periode_inscription"]
            if periode["debut"] is None:
                self.report.warn(
                    f"Session {data.get('numero') or ''} : période d'inscription sans date de début "
                    f"({periode.get('debut_brut')}) : ignorée."
                )
            else:
                wanted.append(("inscription", periode["debut"], periode["fin"]))
        return [w for w in wanted if w[2] is None or w[2] >= w[1]]

    def _periodes(self, session: SessionFormation, data: dict) -> list[str]:
        wanted = self._wanted_periodes(data)
        current = [(p.type, p.date_debut, p.date_fin) for p in session.periodes_inscription]
        if current == wanted:
            return []
        session.periodes_inscription = [PeriodeInscription(type=t, date_debut=d, date_fin=f) for t, d, f in wanted]
        return ["periodes_inscription"]

    # --- dispositifs -------------------------------------------------------------------------------

    def _imported_dispositif(self, financeur: str) -> Dispositif | None:
        if financeur not in codelist("dict-financeurs"):
            return None
        code = m.IMPORTED_DISPOSITIF_BASE + int(financeur)
        dispositif = self.dispositifs.get(code) or self.schemes.get(code) or db.session.get(Dispositif, code)
        if dispositif is None:
            dispositif = Dispositif(
                code=code,
                label=f"LHÉO – {code_label('dict-financeurs', financeur)} ({financeur})",
                financeur_code=financeur,
                active=False,
            )
            db.session.add(dispositif)
            self.dispositifs[code] = dispositif
            self.report.warn(
                f"Dispositif « {dispositif.label} » créé (code {code}) pour le financeur LHÉO {financeur} ; "
                "les valideurs choisiront le dispositif SOFI exact."
            )
        return dispositif

    def _wanted_dispositifs(self, lheo_action: dict, data: dict) -> dict[int, dict]:
        """``{dispositif code: fields}`` for a session."""
        wanted: dict[int, dict] = {}
        sofi = data.get("sofi") or {}
        restantes = sofi.get("places_restantes") or {}
        if lheo_action.get("dispositifs") is not None:
            for item in lheo_action["dispositifs"]:
                code = int_or_none(item.get("code"))
                scheme = (
                    (self.schemes.get(code) or self.dispositifs.get(code) or db.session.get(Dispositif, code))
                    if code is not None
                    else None
                )
                if scheme is None:
                    scheme = self._imported_dispositif(item.get("financeur") or "")
                    if scheme is None:
                        continue
                    self.report.warn(
                        f"Dispositif {item.get('code')} « {item.get('libelle')} » inconnu : financeur conservé."
                    )
                publics = []
                for public in (item.get("publics") or "").split():
                    if public in self.public_codes:
                        publics.append(public)
                    else:
                        self.report.warn(f"Public « {public} » inconnu du référentiel : ignoré.")
                fields = {
                    "publics": publics,
                    "nb_places": max(int_or_none(item.get("nb-places")) or 1, 1),
                    "nb_places_restantes": int_or_none(restantes.get(item.get("code"))),
                    **{name: decimal_or_none(item.get(name.replace("_", "-"))) for name in DECIMAL_FIELDS},
                    **{
                        name: int_or_none(item.get(name.replace("_", "-")))
                        for name in ("effectif_minimal", "capacite_simultanee", "annee_cycle")
                    },
                    **{name: item.get(name.replace("_", "-")) or None for name in TEXT_FIELDS},
                    "frais_certification": flag_set(item.get("frais-certification")),
                    "prise_en_charge_frais": flag_set(item.get("prise-en-charge-frais")),
                }
                self._merge(wanted, scheme.code, fields)
            return wanted
        publics = []
        for code in lheo_action.get("publics") or []:
            if code in self.publics:
                publics.append(self.publics[code])
            else:
                self.report.warn(f"Public visé {code} inconnu du référentiel des publics : ignoré.")
        cycle = next((c for c in data["cycles"]), None) or {}
        common = {
            "publics": publics,
            "frais_ttc": decimal_or_none(lheo_action.get("prix_total")),
            "prise_en_charge_frais": bool(lheo_action.get("prise_en_charge")),
            "effectif_minimal": cycle.get("effectif_minimal"),
            "capacite_simultanee": cycle.get("capacite_simultanee"),
            "annee_cycle": cycle.get("annee"),
        }
        for financeur in lheo_action.get("financeurs") or []:
            scheme = self._imported_dispositif(financeur.get("code") or "")
            if scheme is None:
                continue
            places = financeur.get("nb_places") or cycle.get("capacite_simultanee") or 1
            self._merge(wanted, scheme.code, {**common, "nb_places": max(places, 1)})
        if not wanted:
            flags = lheo_action.get("flags") or {}
            for flag, code in FLAG_DISPOSITIFS:
                if flags.get(flag):
                    self._merge(wanted, code, {**common, "nb_places": max(cycle.get("capacite_simultanee") or 1, 1)})
        if not wanted:
            self.report.warn(
                f"Session {data.get('numero') or ''} : aucun financeur dans le fichier, aucun dispositif créé "
                f"(publics visés : {', '.join(lheo_action.get('publics') or []) or 'aucun'})."
            )
        return wanted

    @staticmethod
    def _merge(wanted: dict[int, dict], code: int, fields: dict) -> None:
        if code in wanted:
            wanted[code]["nb_places"] += fields["nb_places"]
            wanted[code]["publics"] = list(dict.fromkeys([*wanted[code]["publics"], *fields["publics"]]))
        else:
            wanted[code] = dict(fields)

    def _dispositif_rows(self, lheo_action: dict, data: dict) -> list[tuple[int, dict, list[str]]]:
        """(dispositif code, columns to set, public codes) of each dispositif of a session."""
        rows = []
        for code, fields in self._wanted_dispositifs(lheo_action, data).items():
            publics = fields.pop("publics")
            rows.append(
                (code, {k: v for k, v in fields.items() if v is not None or k == "nb_places_restantes"}, publics)
            )
        return rows

    def _dispositifs(self, session: SessionFormation, lheo_action: dict, data: dict) -> list[str]:
        changes = []
        existing = {d.dispositif_code: d for d in session.dispositifs}
        for code, fields, publics in self._dispositif_rows(lheo_action, data):
            dispositif = existing.pop(code, None)
            if dispositif is None:
                dispositif = SessionDispositif(dispositif_code=code, **fields)
                session.dispositifs.append(dispositif)
                changed = True
            else:
                changed = bool(assign(dispositif, fields))
            public_rows = [self.public_rows[c] for c in publics]
            if [p.code for p in dispositif.publics] != [p.code for p in public_rows] and {
                p.code for p in dispositif.publics
            } != set(publics):
                dispositif.publics = public_rows
                changed = True
            if changed:
                changes.append("dispositifs")
        for dispositif in existing.values():
            session.dispositifs.remove(dispositif)
            changes.append("dispositifs")
        return list(dict.fromkeys(changes))
