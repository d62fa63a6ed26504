"""Published versions → LHÉO 2.3, streamed.

Only published versions are read (``PublishedAction.data``, the snapshot of the approved
F-A-S-D tree): drafts, actions waiting for validation and archived ones never leak out. The
published actions are read in batches (``yield_per``) ordered by formation, one formation's
elements are built as light string trees (``xmlstring``: byte for byte what lxml would write,
several times faster), serialised and dropped: memory stays flat whatever the volume.
``write_file`` writes a temporary file in the target directory and moves it into place with
``os.replace`` (readers never see half a file).

Element order follows the XSD sequences (LHEO-GUIDE §2), see ``mapping.MAPPING``.
"""

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from itertools import groupby
from pathlib import Path

import orjson
import sqlalchemy as sa

from exporters.lheo import NS23
from exporters.lheo import mapping as m
from exporters.lheo.xmlstring import Element, add, attributes, escape_attribute, escape_text
from models import Formacode, PublishedAction, PublishedSession, db
from models.codelists import label as code_label

NIVEAUX_OBLIGATOIRES = {"niveau-3", "niveau-4", "niveau-5"}


class _Cache:
    """Subtrees repeated inside one formation (addresses, contacts, blocs): built and serialised once."""

    def __init__(self):
        self._items: dict = {}

    def get(self, key, build: Callable[[], object]):
        if key not in self._items:
            self._items[key] = build()
        return self._items[key]

    def append(self, parent: Element, key, build: Callable[[], Element | None]) -> None:
        text = self.get(key, lambda: None if (element := build()) is None else element.tostring())
        if text is not None:
            parent.append(text)


def _extra_value(value) -> str | None:
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, bool):
        return m.bool01(value)
    if isinstance(value, list | tuple):
        return " ".join(str(v) for v in value)
    return str(value)


def extra_items(values: Iterable[tuple[str, object]]) -> list[str]:
    """``<extra info="key">value</extra>`` of each non-empty value (keys are constants: not escaped)."""
    return [
        f'<extra info="{key}">{escape_text(text)}</extra>'
        for key, value in values
        if (text := _extra_value(value)) is not None
    ]


def add_extras(parent, group: str, values: Iterable[tuple[str, object]], numero: str | None = None):
    """``<extras info="group"><extra info="key">value</extra>…`` (empty values left out)."""
    items = extra_items(values)
    if not items:
        return None
    extras = add(parent, "extras", info=group, numero=numero)
    extras.children.extend(items)
    return extras


# --- shared blocks ---------------------------------------------------------------------------


def _address_ok(data: dict | None) -> bool:
    return bool(data and data.get("adresse1") and data.get("code_postal") and data.get("commune"))


def add_adresse(parent, data: dict, denomination: str | None = None, geo: bool = False):
    """ADRESSE block from an organisation or site snapshot (which has a valid address)."""
    commune = data.get("commune") or {}
    adresse = add(parent, "adresse")
    if denomination:
        add(adresse, "denomination", m.fit(denomination, m.LIMITS["denomination"]))
    for line in m.split_lines(data.get("adresse1"), data.get("adresse2")) or [m.EMPTY_TEXT]:
        add(adresse, "ligne", line)
    add(adresse, "codepostal", data["code_postal"])
    add(adresse, "ville", m.required(commune.get("nom"), m.LIMITS["ville"]))
    departement = commune.get("departement")
    if departement and 2 <= len(departement) <= 3:
        add(adresse, "departement", departement)
    if commune.get("code_insee"):
        add(adresse, "code-INSEE-commune", commune["code_insee"])
    region = commune.get("region")
    if region and len(region) == 2:
        add(adresse, "region", region)
    add(adresse, "pays", m.PAYS)
    if geo and data.get("latitude") is not None and data.get("longitude") is not None:
        geoloc = add(adresse, "geolocalisation")
        add(geoloc, "latitude", repr(float(data["latitude"])))
        add(geoloc, "longitude", repr(float(data["longitude"])))
    return adresse


def _phone(parent, name: str, number: str | None):
    number = m.fit(number, m.LIMITS["numtel"])
    if number:
        add(add(parent, name), "numtel", number)


def _email(parent, email: str | None):
    email = m.fit(email, m.LIMITS["courriel"])
    if email and len(email) >= 3:
        add(parent, "courriel", email)


def add_organisation_coordonnees(parent, organisation: dict, with_address: bool):
    coordonnees = add(parent, "coordonnees")
    if with_address and _address_ok(organisation):
        add_adresse(coordonnees, organisation)
    _phone(coordonnees, "telfixe", organisation.get("telephone"))
    _email(coordonnees, organisation.get("email"))
    url = m.fit(organisation.get("site_web"), m.LIMITS["urlweb"])
    if url and len(url) >= 3:
        add(add(coordonnees, "web"), "urlweb", url)
    return coordonnees


def add_contact(parent, name: str, contact: dict, roles: list[str]):
    element = add(parent, name)
    if contact.get("type_contact"):
        add(element, "type-contact", contact["type_contact"])
    coordonnees = add(element, "coordonnees")
    if contact.get("civilite"):
        add(coordonnees, "civilite", code_label("sofi-civilites", contact["civilite"]))
    for key in ("nom", "prenom"):
        value = m.fit(contact.get(key), m.LIMITS["coordonnees-nom"])
        if value:
            add(coordonnees, key, value)
    _phone(coordonnees, "telfixe", contact.get("telephone_fixe"))
    _phone(coordonnees, "portable", contact.get("telephone_portable"))
    _email(coordonnees, contact.get("email"))
    add_extras(
        element,
        m.X_CONTACT,
        [
            ("roles", roles),
            ("nom", contact.get("nom")),
            ("prenom", contact.get("prenom")),
            ("fonction", contact.get("fonction")),
        ],
    )
    return element


# --- formation ---------------------------------------------------------------------------------


@dataclass
class ExportStats:
    formations: int = 0
    actions: int = 0
    sessions: int = 0
    published_actions: int = 0
    skipped: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "formations": self.formations,
            "actions": self.actions,
            "sessions": self.sessions,
            "actions_publiees": self.published_actions,
        }


@dataclass
class Published:
    """One published action as read from the database."""

    action_id: int
    formation_id: int
    published_at: datetime
    data: dict


class FormacodeVersions:
    """Edition of each Formacode (for ``ref``), read once per export."""

    def __init__(self, versions: dict[str, str] | None = None):
        self._versions = versions

    def __call__(self, code: str) -> str:
        if self._versions is None:
            self._versions = dict(db.session.execute(sa.select(Formacode.code, Formacode.version)).tuples().all())
        return m.formacode_ref(self._versions.get(code))


def _dispositif_key(dispositif: dict) -> dict:
    """A dispositif without what changes per session (places restantes)."""
    key = {k: v for k, v in dispositif.items() if k not in ("id", "nb_places_restantes", "publics")}
    key["publics"] = sorted(p["code"] for p in dispositif.get("publics") or [])
    return key


def action_key(session: dict) -> bytes:
    """The values LHÉO holds at action level: sessions sharing them are one LHÉO action."""
    return orjson.dumps(
        {
            "site": session["site"]["id"],
            "es": session["entrees_sorties"],
            "enseignement": session["modalite_enseignement"],
            "rythmes": session["rythmes"],
            "periodes": session["periodes"],
            "modalites": session["modalites_pedagogiques"],
            "centre": session["duree_centre"],
            "entreprise": session["duree_entreprise"],
            "dispositifs": [_dispositif_key(d) for d in session["dispositifs"]],
        },
        option=orjson.OPT_SORT_KEYS,
        default=str,
    )


SESSION_IDENTITY = frozenset(("id", "fas_code", "date_debut", "date_fin"))
DISPOSITIF_IDENTITY = frozenset(("id", "nb_places_restantes"))


class FormationBuilder:
    """Builds the LHÉO ``<formation>`` elements of one SOFI formation's published actions."""

    def __init__(self, formacode_ref: Callable[[str], str], stats: ExportStats):
        self.formacode_ref = formacode_ref
        self.stats = stats
        self.cache = _Cache()

    def build(self, published: list[Published]) -> Iterator[Element]:
        # sessions grouped by organisme responsable, keeping the order of actions and sessions
        by_siret: dict[str, list[tuple[Published, list[dict]]]] = {}
        for item in published:
            self.stats.published_actions += 1
            sessions = item.data.get("sessions") or []
            if not sessions:
                self.stats.skipped.append(f"Action {item.action_id} publiée sans session : non exportée.")
                continue
            per_siret: dict[str, list[dict]] = {}
            for session in sessions:
                per_siret.setdefault(session["organisme_responsable"]["siret"], []).append(session)
            for siret, group in per_siret.items():
                by_siret.setdefault(siret, []).append((item, group))
        for siret, items in by_siret.items():
            yield self._formation(siret, items)

    def _formation(self, siret: str, items: list[tuple[Published, list[dict]]]) -> Element:
        self.cache = _Cache()  # per formation: memory stays flat
        latest = max(items, key=lambda pair: pair[0].published_at)[0]
        formation = latest.data["formation"]
        first_item, first_sessions = items[0]
        first_action = first_item.data["action"]
        organisation = first_sessions[0]["organisme_responsable"]
        element = Element(
            "formation",
            attributes(
                {
                    "xmlns": NS23,
                    "numero": f"{formation['id']}-{siret}",
                    "datemaj": m.lheo_datetime_attr(latest.published_at),
                }
            ),
        )
        self._domaine(element, formation)
        add(element, "intitule-formation", m.required(formation["intitule"], m.LIMITS["intitule-formation"]))
        from_action = []
        for name, field_name, action_field in (
            ("objectif-formation", "objectifs", "objectifs"),
            ("resultats-attendus", "resultats", "resultats_attendus"),
            ("contenu-formation", "programme", "complement_programme"),
        ):
            value = m.fit(formation.get(field_name), m.LIMITS[name], rich=True)
            if value is None:
                value = m.fit(first_action.get(action_field), m.LIMITS[name], rich=True)
                if value is not None:
                    from_action.append(field_name)
            add(element, name, value or m.EMPTY_TEXT)
        add(element, "certifiante", m.bool01(formation["certifiante"]))
        contact = add(element, "contact-formation")
        add(contact, "type-contact", m.CONTACT_ACCUEIL)
        add_organisation_coordonnees(contact, organisation, with_address=False)
        parcours = next((s["type_parcours"] for s in first_sessions if s.get("type_parcours")), None)
        add(element, "parcours-de-formation", parcours or "1")
        add(element, "code-niveau-entree", first_action.get("niveau_entree") or "0")
        if formation.get("objectif_general"):
            add(element, "objectif-general-formation", formation["objectif_general"])
        self._certification(element, formation)
        if formation.get("niveau_sortie"):
            add(element, "code-niveau-sortie", formation["niveau_sortie"])
        for item, sessions in items:
            groups: dict[bytes, list[dict]] = {}
            for session in sessions:
                groups.setdefault(action_key(session), []).append(session)
            for group in groups.values():
                self._action(element, item, formation, organisation, group)
        self._organisme(element, organisation)
        add_extras(
            element,
            m.X_FORMATION,
            [
                ("identifiant", formation["id"]),
                ("type-certification", formation.get("type_certification")),
                ("individualisation-blocs", formation.get("individualisation_blocs")),
                ("validation-blocs", formation.get("validation_blocs")),
                ("code-NSF", formation.get("nsf_code") if len(formation.get("nsf_code") or "") != 3 else None),
                ("textes-action", from_action),
            ],
        )
        self.stats.formations += 1
        return element

    def _domaine(self, element, formation: dict):
        domaine = add(element, "domaine-formation")
        codes = [f["code"] for f in formation.get("formacodes") or []]
        principal = formation.get("formacode_principal")
        if principal in codes:
            codes.remove(principal)
            codes.insert(0, principal)
        for index, code in enumerate(codes[:5]):
            add(domaine, "code-FORMACODE", code, ref=self.formacode_ref(code), tag="principal" if index == 0 else None)
        nsf = formation.get("nsf_code")
        if nsf and len(nsf) >= 3:
            add(domaine, "code-NSF", nsf[:3])
        for code in [c for c in formation.get("rome_codes") or [] if len(c) == 5][:5]:
            add(domaine, "code-ROME", code)

    @staticmethod
    def _certification_codes(formation: dict) -> tuple[str | None, str | None]:
        numero = (formation.get("certification") or {}).get("numero_fiche") or ""
        rncp = numero if numero.startswith("RNCP") and len(numero) <= 10 else None
        rs = numero if numero.startswith("RS") and 3 <= len(numero) <= 10 else None
        return rncp, rs

    def _certification(self, element, formation: dict):
        if not formation.get("certifiante"):
            return
        rncp, rs = self._certification_codes(formation)
        certifinfo = formation.get("certifinfo_code")
        if not (rncp or rs or certifinfo):
            return
        certification = add(element, "certification")
        if rncp:
            add(certification, "code-RNCP", rncp)
        if certifinfo:
            add(certification, "code-CERTIFINFO", str(certifinfo))
        if rs:
            add(certification, "code-RS", rs)

    # --- action --------------------------------------------------------------------------------

    def _action(self, formation_element, item: Published, formation: dict, responsible: dict, sessions: list[dict]):
        action = item.data["action"]
        first = sessions[0]
        dispositifs = first["dispositifs"]
        site = first["site"]
        element = add(
            formation_element,
            "action",
            numero=first["fas_code"],
            datemaj=m.lheo_datetime_attr(item.published_at),
        )
        rythmes = [code_label("sofi-rythmes", c) for c in first["rythmes"]] + [
            code_label("sofi-periodes-formation", c) for c in first["periodes"]
        ]
        add(element, "rythme-formation", m.required(", ".join(rythmes), m.LIMITS["rythme-formation"]))
        publics = sorted(
            {
                public["formacode"]
                for dispositif in dispositifs
                for public in dispositif.get("publics") or []
                if public.get("formacode") and len(public["formacode"]) == 5
            }
        )
        for code in publics[:10] or [m.TOUT_PUBLIC]:
            add(element, "code-public-vise", code, ref=m.PUBLIC_VISE_REF)
        prerequis = action.get("prerequis") or []
        add(element, "niveau-entree-obligatoire", m.bool01(NIVEAUX_OBLIGATOIRES & set(prerequis)))
        centre, entreprise = first.get("duree_centre"), first.get("duree_entreprise")
        alternance = f"{centre or 0} h en centre, {entreprise} h en entreprise" if entreprise else None
        add(element, "modalites-alternance", m.required(alternance, m.LIMITS["modalites-alternance"]))
        add(element, "modalites-enseignement", first["modalite_enseignement"])
        conditions = "\n".join(
            [
                *(code_label("sofi-prerequis", c) for c in prerequis),
                *([m.strip_tags(action["commentaire_prerequis"])] if action.get("commentaire_prerequis") else []),
            ]
        )
        add(
            element,
            "conditions-specifiques",
            m.required(conditions, m.LIMITS["conditions-specifiques"], default=m.NO_CONDITION),
        )
        add(
            element,
            "prise-en-charge-frais-possible",
            m.bool01(any(d.get("prise_en_charge_frais") for d in dispositifs)),
        )
        self._lieu(element, site)
        add(element, "modalites-entrees-sorties", first["entrees_sorties"])
        url = m.fit(action.get("url_action"), m.LIMITS["urlweb"])
        if url and len(url) >= 3:
            add(add(element, "url-action"), "urlweb", url)
        for session in sessions:
            self._session(element, formation, session)
        acces = site.get("accessibilite") or (
            "Site accessible aux personnes à mobilité réduite." if site.get("accessible_pmr") else None
        )
        if acces:
            add(element, "acces-handicapes", m.fit(acces, m.LIMITS["acces-handicapes"]))
        modalites = ", ".join(code_label("sofi-modalites-pedagogiques", c) for c in first["modalites_pedagogiques"])
        if modalites:
            add(element, "modalites-pedagogiques", m.fit(modalites, m.LIMITS["modalites-pedagogiques"]))
        codes = [c for c in [*first["modalites_pedagogiques"], *first["periodes"]] if c.isdigit() and len(c) == 5]
        for code in codes[:5]:
            add(element, "code-modalite-pedagogique", code, ref=m.MODALITE_PEDAGOGIQUE_REF)
        if action.get("equipement_type"):
            equipement = add(element, "equipement")
            add(equipement, "type-equipement", action["equipement_type"])
            cout = _integer(action.get("equipement_cout"))
            if cout is not None:
                add(equipement, "cout-indicatif-equipement", str(cout))
            commentaire = m.fit(action.get("equipement_commentaire"), m.LIMITS["commentaire-equipement"])
            if commentaire:
                add(equipement, "commentaire", commentaire)
        prices = {d.get("frais_ttc") for d in dispositifs}
        if len(prices) == 1 and (price := prices.pop()) and len(price) <= m.LIMITS["prix-total-TTC"]:
            add(element, "prix-total-TTC", price)
        if centre is not None:
            add(element, "nombre-heures-centre", str(centre))
        if entreprise is not None:
            add(element, "nombre-heures-entreprise", str(entreprise))
        if centre is not None or entreprise is not None:
            add(element, "nombre-heures-total", str((centre or 0) + (entreprise or 0)))
        add(
            element,
            "conventionnement",
            m.bool01(any(d.get("programme_regional") or d.get("conventionnement_financeur") for d in dispositifs)),
        )
        dispensateur = action["organisation"]
        if dispensateur["siret"] != responsible["siret"]:
            formateur = add(element, "organisme-formateur")
            add(add(formateur, "SIRET-formateur"), "SIRET", dispensateur["siret"])
            add(
                formateur,
                "raison-sociale-formateur",
                m.fit(dispensateur["raison_sociale"], m.LIMITS["raison-sociale-formateur"]) or "",
            )
        self._financeurs(element, dispositifs)
        add_extras(
            element,
            m.X_ACTION,
            [
                ("identifiant", action["id"]),
                ("statut", "publiee"),
                ("date-publication", m.lheo_datetime_attr(item.published_at)),
                ("complement-intitule", action.get("complement_intitule")),
                ("complement-programme", action.get("complement_programme")),
                ("objectifs", action.get("objectifs")),
                ("resultats-attendus", action.get("resultats_attendus")),
                ("plus-formation", action.get("plus_formation")),
                ("url-video", action.get("url_video")),
                ("url-pdf", action.get("url_pdf")),
                ("equipement-cout", action.get("equipement_cout")),
                ("equipement-commentaire", action.get("equipement_commentaire")),
                ("niveau-entree", action.get("niveau_entree")),
                ("prerequis", prerequis),
                ("commentaire-prerequis", action.get("commentaire_prerequis")),
                ("site-action", action["site"]["nom"] if action["site"]["id"] != site["id"] else None),
            ],
        )
        for dispositif in dispositifs:
            add_extras(
                element,
                m.X_DISPOSITIF,
                [
                    ("libelle", dispositif.get("libelle")),
                    ("financeur", dispositif.get("financeur_code")),
                    ("nb-places", dispositif.get("nb_places")),
                    ("publics", sorted(p["code"] for p in dispositif.get("publics") or [])),
                    *(
                        (name.replace("_", "-"), dispositif.get(name))
                        for name in (
                            "numero_lot_cr",
                            "id_action_cr",
                            "of_mandataire_cr",
                            "reference_marche",
                            "effectif_minimal",
                            "capacite_simultanee",
                            "annee_cycle",
                            "frais_ht",
                            "taux_tva",
                            "frais_ttc",
                            "frais_additionnels_montant",
                            "frais_additionnels_details",
                            "frais_certification",
                            "prise_en_charge_frais",
                        )
                    ),
                ],
                numero=str(dispositif["code"]),
            )
        self.stats.actions += 1

    def _lieu(self, element, site: dict):
        lieu = add(element, "lieu-de-formation")
        if site.get("siret") and len(site["siret"]) == 14:
            add(add(lieu, "SIRET-lieu-formation"), "SIRET", site["siret"])
        if site.get("uai") and len(site["uai"]) == 8:
            add(add(lieu, "code-UAI-lieu-formation"), "code-UAI", site["uai"])
        coordonnees = add(lieu, "coordonnees")
        nom = m.fit(site.get("nom"), m.LIMITS["coordonnees-nom"])
        if nom:
            add(coordonnees, "nom", nom)
        if _address_ok(site):
            add_adresse(coordonnees, site, denomination=site.get("nom"), geo=True)
        add_extras(
            lieu,
            m.X_SITE,
            [
                ("nom", site.get("nom")),
                ("accessible-pmr", site.get("accessible_pmr")),
                ("accessibilite", site.get("accessibilite")),
            ],
        )

    def _financeurs(self, element, dispositifs: list[dict]):
        by_code: dict[str, list[dict]] = {}
        for dispositif in dispositifs:
            by_code.setdefault(dispositif["financeur_code"], []).append(dispositif)
        for code, group in list(by_code.items())[:8]:
            financeur = add(element, "organisme-financeur")
            add(financeur, "code-financeur", code)
            add(financeur, "nb-places-financees", str(sum(d.get("nb_places") or 0 for d in group)))
            add_extras(financeur, "specificites", [("programme-financeur", d.get("libelle")) for d in group])

    # --- session -------------------------------------------------------------------------------

    def _session(self, action_element: Element, formation: dict, session: dict):
        """One ``<session>``: its FAS code and dates around what it shares with the formation's other sessions.

        Sessions of an action usually differ only by their identity and their places, so the rest is
        built once per formation for each distinct content (keyed by the snapshot without them).
        """
        key = {k: v for k, v in session.items() if k not in SESSION_IDENTITY}
        dispositifs = session["dispositifs"]
        key["dispositifs"] = [{k: v for k, v in d.items() if k not in DISPOSITIF_IDENTITY} for d in dispositifs]
        middle, extras_before, extras_after = self.cache.get(
            ("session", orjson.dumps(key)), lambda: self._session_shared(formation, session)
        )
        fas = session["fas_code"]
        periode = Element("periode")
        add(periode, "debut", m.lheo_date(session["date_debut"]))
        add(periode, "fin", m.lheo_date(session["date_fin"]))
        places = "".join(
            f'<extra info="places-restantes" numero="{escape_attribute(d["code"])}">'
            f"{escape_text(d['nb_places_restantes'])}</extra>"
            for d in dispositifs
            if d.get("nb_places_restantes") is not None
        )
        action_element.append(
            f'<session numero="{escape_attribute(fas)}">{periode.tostring()}{middle}<extras info="{m.X_SESSION}">'
            f"{''.join(extra_items([('code-fas', fas)]))}{extras_before}{places}{extras_after}</extras></session>"
        )
        self.stats.sessions += 1

    def _session_shared(self, formation: dict, session: dict) -> tuple[str, str, str]:
        """The elements of a session between ``periode`` and its extras; its extras before and after the places."""
        element = Element("session")
        site = session["site"]
        self.cache.append(element, ("inscription", site["id"]), lambda: self._inscription(site))
        periodes = session.get("periodes_inscription") or []
        if periodes:
            periode_inscription = add(add(element, "periode-inscription"), "periode")
            add(periode_inscription, "debut", m.lheo_date(periodes[0]["date_debut"]))
            add(periode_inscription, "fin", m.lheo_date(periodes[0]["date_fin"]) or "99999999")
        add(element, "etat-recrutement", session.get("etat_recrutement") or "1")
        informations = session.get("informations_collectives") or []
        for code in session.get("modalites_recrutement") or []:
            if code == "9" and informations:
                continue
            add(add(element, "recrutement"), "modalite-recrutement", code)
        for information in informations:
            recrutement = add(element, "recrutement")
            add(recrutement, "modalite-recrutement", "9")
            periode_info = add(recrutement, "periode")
            add(periode_info, "debut", m.lheo_date(information["date"]))
            add(periode_info, "fin", m.lheo_date(information["date"]))
            if debut := m.hour(information.get("heure_debut")):
                add(recrutement, "heure-debut", debut)
            if fin := m.hour(information.get("heure_fin")):
                add(recrutement, "heure-fin", fin)
            commentaire = " — ".join(p for p in (information.get("lieu"), information.get("commentaire")) if p)
            if commentaire:
                add(recrutement, "commentaire", m.fit(commentaire, m.LIMITS["commentaire-recrutement"]))
        self._contacts(element, session)
        self._blocs(element, formation)
        self._cycle(element, session)
        extras = Element("extras")
        extras.children.extend(
            extra_items(
                [
                    ("type-parcours", session.get("type_parcours")),
                    ("rythmes", session.get("rythmes")),
                    ("periodes", session.get("periodes")),
                    ("modalites-pedagogiques", session.get("modalites_pedagogiques")),
                    ("modalites-recrutement", session.get("modalites_recrutement")),
                    ("duree-hebdo", session.get("duree_hebdo")),
                    ("commentaire-duree", session.get("commentaire_duree")),
                ]
            )
        )
        extras_before = extras.inner()
        extras.children.clear()
        for information in informations:
            add_extras(
                extras,
                m.X_INFO_COLL,
                [
                    ("date", m.lheo_date(information["date"])),
                    ("heure-debut", information.get("heure_debut")),
                    ("heure-fin", information.get("heure_fin")),
                    ("lieu", information.get("lieu")),
                    ("commentaire", information.get("commentaire")),
                ],
            )
        for periode_item in periodes:
            add_extras(
                extras,
                m.X_PERIODE_INSCRIPTION,
                [
                    ("type", periode_item.get("type")),
                    ("debut", m.lheo_date(periode_item["date_debut"])),
                    ("fin", m.lheo_date(periode_item.get("date_fin"))),
                ],
            )
        return element.inner(), extras_before, extras.inner()

    @staticmethod
    def _inscription(site: dict):
        inscription = Element("adresse-inscription")
        if _address_ok(site):
            add_adresse(inscription, site)
        else:  # a site always has an address in SOFI; never emit an empty required block
            adresse = add(inscription, "adresse")
            add(adresse, "ligne", m.EMPTY_TEXT)
            add(adresse, "codepostal", site.get("code_postal") or "00000")
            add(adresse, "ville", m.EMPTY_TEXT)
        return inscription

    def _contacts(self, element, session: dict):
        contacts: dict[int, tuple[dict, list[str]]] = {}
        for field_name, role in m.CONTACT_ROLES:
            contact = session.get(field_name)
            if contact:
                contacts.setdefault(contact["id"], (contact, []))[1].append(role)
        for contact, roles in contacts.values():
            key = ("contact", orjson.dumps(contact, option=orjson.OPT_SORT_KEYS), tuple(roles))
            self.cache.append(element, key, lambda c=contact, r=roles: self._contact(c, r))

    @staticmethod
    def _contact(contact: dict, roles: list[str]):
        return add_contact(Element("holder"), "contact-session", contact, roles)

    def _blocs(self, element, formation: dict):
        self.cache.append(element, ("blocs",), lambda: self._blocs_element(formation))

    def _blocs_element(self, formation: dict):
        holder = Element("holder")
        self._blocs_into(holder, formation)
        return holder.children[0] if len(holder) else None

    def _blocs_into(self, element, formation: dict):
        blocs = [b for b in formation.get("blocs") or [] if 8 <= len(b["code"]) <= 40]
        rncp, rs = self._certification_codes(formation)
        if not blocs or not (rncp or rs):
            return
        validation = formation.get("validation_blocs") or ("0" if formation.get("individualisation_blocs") else "1")
        element_blocs = add(element, "blocs-competences")
        add(element_blocs, "validation-blocs", validation)
        reference = add(element_blocs, "reference-certification")
        if rncp:
            add(reference, "reference-code-RNCP", rncp)
        else:
            add(reference, "reference-code-RS", rs)
        for bloc in blocs:
            bloc_element = add(element_blocs, "bloc-competences")
            add(bloc_element, "libelle-bloc", m.required(bloc["libelle"], m.LIMITS["libelle-bloc"]))
            add(bloc_element, "code-bloc", bloc["code"])

    def _cycle(self, element, session: dict):
        with_cycle = next(
            (
                d
                for d in session["dispositifs"]
                if d.get("effectif_minimal") or d.get("capacite_simultanee") or d.get("annee_cycle")
            ),
            None,
        )
        rythme = all(
            session.get(k) is not None for k in ("cycle_unite", "cycle_unites_entreprise", "cycle_unites_centre")
        )
        if with_cycle is None and not rythme:
            return
        dispositifs = session["dispositifs"]
        apprentissage = any(d.get("contrat_apprentissage") for d in dispositifs)
        professionnalisation = any(d.get("contrat_professionnalisation") for d in dispositifs)
        cycle = add(element, "cycle")
        add(cycle, "type-cycle", m.bool01(apprentissage))
        if with_cycle is not None:
            for name in ("annee_cycle", "effectif_minimal", "capacite_simultanee"):
                if with_cycle.get(name) is not None:
                    add(cycle, name.replace("_", "-"), str(with_cycle[name]))
        if rythme:
            alternance = add(cycle, "alternance")
            add(alternance, "type-alternance", "1" if apprentissage else "2" if professionnalisation else "0")
            rythme_element = add(alternance, "rythme-alternance")
            add(rythme_element, "unite-rythme-alternance", session["cycle_unite"])
            add(rythme_element, "unites-entreprise", str(session["cycle_unites_entreprise"]))
            add(rythme_element, "unites-centre", str(session["cycle_unites_centre"]))

    # --- organisme responsable -----------------------------------------------------------------

    def _organisme(self, element, organisation: dict):
        organisme = add(element, "organisme-formation-responsable")
        nda = organisation.get("nda")
        add(organisme, "numero-activite", nda if nda and len(nda) == 11 else m.UNKNOWN_NDA)
        add(add(organisme, "SIRET-organisme-formation"), "SIRET", organisation["siret"])
        raison = m.required(organisation.get("raison_sociale"), m.LIMITS["raison-sociale"])
        add(organisme, "nom-organisme", m.fit(organisation.get("nom_usuel"), m.LIMITS["nom-organisme"]) or raison)
        add(organisme, "raison-sociale", raison)
        add_organisation_coordonnees(add(organisme, "coordonnees-organisme"), organisation, with_address=True)
        contact = add(organisme, "contact-organisme")
        add(contact, "type-contact", m.CONTACT_ACCUEIL)
        add_organisation_coordonnees(contact, organisation, with_address=False)


def _integer(value) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(Decimal(str(value)).to_integral_value())
    except (InvalidOperation, ValueError):
        return None


# --- reading the published versions -------------------------------------------------------------


def published_actions(
    since: datetime | None = None,
    siret: str | None = None,
    formation_id: int | None = None,
    batch_size: int = 500,
) -> Iterator[list[Published]]:
    """Published actions grouped by formation, streamed in batches (``yield_per``: a server-side cursor).

    The snapshot is read as text and decoded with orjson, several times faster than the standard
    ``json`` module the JSON type uses: decoding is most of the reading time. The query count is
    constant (one), whatever the volume.
    """
    query = sa.select(
        PublishedAction.formation_id,
        PublishedAction.action_id,
        PublishedAction.published_at,
        sa.cast(PublishedAction.data, sa.Text).label("data"),
    ).order_by(PublishedAction.formation_id, PublishedAction.action_id)
    if siret:
        query = query.where(PublishedAction.organisation_siret == siret)
    if formation_id is not None:
        query = query.where(PublishedAction.formation_id == formation_id)
    if since is not None:
        # Two index scans (published_at, then the sessions' updated_at), not an OR over the whole table.
        changed = sa.union(
            sa.select(PublishedAction.formation_id).where(PublishedAction.published_at >= since),
            sa.select(PublishedAction.formation_id)
            .join(PublishedSession, PublishedSession.action_id == PublishedAction.action_id)
            .where(PublishedSession.updated_at >= since),
        )
        query = query.where(PublishedAction.formation_id.in_(changed))
    rows = db.session.execute(query.execution_options(yield_per=batch_size))
    for _formation_id, group in groupby(rows, key=lambda row: row.formation_id):
        yield [Published(row.action_id, row.formation_id, row.published_at, orjson.loads(row.data)) for row in group]


# --- the document --------------------------------------------------------------------------------


CHUNK_PARTS = 20_000  # serialised pieces gathered before a chunk is yielded (about 1 MB)


def iter_document(
    groups: Iterable[list[Published]],
    stats: ExportStats | None = None,
    formacode_ref: Callable[[str], str] | None = None,
    exported_at: datetime | None = None,
) -> Iterator[bytes]:
    """The LHÉO 2.3 document of ``groups`` (published actions by formation), chunk by chunk (UTF-8)."""
    stats = stats if stats is not None else ExportStats()
    builder = FormationBuilder(formacode_ref or FormacodeVersions(), stats)
    exported_at = exported_at or datetime.now(UTC)
    root = attributes({"xmlns": NS23, "horodatage-export": exported_at.replace(microsecond=0).isoformat()})
    out: list[str] = [f"<?xml version='1.0' encoding='utf-8'?>\n<lheo{root}><offres>"]
    for group in groups:
        for formation in builder.build(group):
            formation.serialise(out)
        if len(out) >= CHUNK_PARTS:
            yield "".join(out).encode()
            out.clear()
    out.append("</offres></lheo>")
    yield "".join(out).encode()


@dataclass
class WrittenFile:
    path: Path
    stats: ExportStats
    sha256: str
    size: int


def write_file(
    path: Path | str,
    since: datetime | None = None,
    siret: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> WrittenFile:
    """Write the published offer to ``path`` atomically (temporary file + ``os.replace``)."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    stats = ExportStats()
    digest = hashlib.sha256()
    size = 0
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed below, then moved into place)
        dir=directory, prefix=f".{path.name}.", suffix=".tmp", delete=False
    )
    try:
        with handle:
            for chunk in iter_document(published_actions(since=since, siret=siret), stats):
                if chunk:
                    handle.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
                    if progress is not None:
                        progress(stats.sessions)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(handle.name, 0o644)
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return WrittenFile(path, stats, digest.hexdigest(), size)
