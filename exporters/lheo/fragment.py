"""The LHÉO 2.3 rendering of one published action, stored with its snapshot (``PublishedAction.lheo``).

Rendering a snapshot costs several times more than writing it out, and a published snapshot only
changes when it is written again: so it is rendered once, when ``PublishedAction.data`` is set
(the ORM event in ``models.publication``; ``sofi.services.generate`` renders its bulk rows
itself), and the export (``writer``) streams the stored renderings. What an action's rendering
cannot know is left for the export to fill in:

* LHÉO groups the actions of a SOFI formation by organisme responsable (``<formation>`` =
  formation × SIRET): the sessions of a snapshot are split per SIRET into ``groupes``, each with
  its ``<action>`` elements (sessions sharing ``action_key`` are one LHÉO action, numbered by the
  FAS code of the first one) and what the envelope takes from the first action of the group
  (``contact-formation``, ``organisme-formation-responsable``, the type of parcours);
* the envelope (``<formation>`` header, extras) is built at export time from the ``formation``
  and ``action`` texts kept here: it takes the formation of the latest published action;
* the blocs de compétences of each session come from that latest formation too: ``BLOCS`` marks
  their place; ``DATEMAJ`` marks the action's publication date, read from its row.

Both marks are control characters that XML 1.0 forbids, which the rendering drops from every
value: they cannot occur otherwise. ``VERSION`` is bumped whenever the rendering changes; the
export renders rows of another version itself, and ``flask sofi lheo-fragments`` rewrites them.
"""

from collections.abc import Callable
from decimal import Decimal, InvalidOperation

import orjson

from exporters.lheo import mapping as m
from exporters.lheo.blocks import (
    add_adresse,
    add_contact,
    add_extras,
    add_organisation_coordonnees,
    address_ok,
    extra_items,
)
from exporters.lheo.xmlstring import Element, add, attributes, escape_attribute, escape_text
from models.codelists import label as code_label
from models.offer import SessionDispositif

VERSION = 1
BLOCS = "\x01"
DATEMAJ = "\x02"
NIVEAUX_OBLIGATOIRES = {"niveau-3", "niveau-4", "niveau-5"}
ACTION_TEXTS = ("objectifs", "resultats_attendus", "complement_programme", "niveau_entree")


def render(data: dict) -> dict:
    """The fragment of a published snapshot: its formation, the action texts the envelope may use, its groups."""
    per_siret: dict[str, list[dict]] = {}
    for session in data.get("sessions") or []:
        per_siret.setdefault(session["organisme_responsable"]["siret"], []).append(session)
    action = data["action"]
    renderer = _ActionRenderer(action)
    return {
        "formation": data["formation"],
        "action": {name: action.get(name) for name in ACTION_TEXTS},
        "groupes": [renderer.group(siret, sessions) for siret, sessions in per_siret.items()],
    }


def dumps(data: dict) -> str:
    """``render(data)`` as the JSON text stored in ``PublishedAction.lheo``."""
    return orjson.dumps(render(data)).decode()


class _Cache:
    """Subtrees repeated inside one snapshot (addresses, contacts, session contents): built and serialised once."""

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
# The dispositif terms written as extras after nb-places, in the shared order; places restantes change with
# recruitment, so they are written per session (see ``session``) rather than in the shared dispositif extras.
DISPOSITIF_EXTRA_TERMS = tuple(
    name for name in SessionDispositif.TERM_FIELDS if name not in ("nb_places", "nb_places_restantes")
)


def _integer(value) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(Decimal(str(value)).to_integral_value())
    except (InvalidOperation, ValueError):
        return None


class _ActionRenderer:
    """Renders the LHÉO actions of one published snapshot."""

    def __init__(self, action: dict):
        self.action = action
        self.cache = _Cache()

    def group(self, siret: str, sessions: list[dict]) -> dict:
        """The sessions of one organisme responsable: their ``<action>`` elements and envelope parts."""
        by_key: dict[bytes, list[dict]] = {}
        for session in sessions:
            by_key.setdefault(action_key(session), []).append(session)
        organisation = sessions[0]["organisme_responsable"]
        envelope = Element("holder")
        contact = add(envelope, "contact-formation")
        add(contact, "type-contact", m.CONTACT_ACCUEIL)
        add_organisation_coordonnees(contact, organisation, with_address=False)
        contact_formation = envelope.inner()
        envelope.children.clear()
        self._organisme(envelope, organisation)
        return {
            "siret": siret,
            "parcours": next((s["type_parcours"] for s in sessions if s.get("type_parcours")), None),
            "contact": contact_formation,
            "organisme": envelope.inner(),
            "actions": len(by_key),
            "sessions": len(sessions),
            "xml": "".join(self._action(siret, group) for group in by_key.values()),
        }

    def _action(self, siret: str, sessions: list[dict]) -> str:
        action = self.action
        first = sessions[0]
        dispositifs = first["dispositifs"]
        site = first["site"]
        element = Element("action", attributes({"numero": first["fas_code"]}) + f' datemaj="{DATEMAJ}"')
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
            self._session(element, session)
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
        if dispensateur["siret"] != siret:
            formateur = add(element, "organisme-formateur")
            add(add(formateur, "SIRET-formateur"), "SIRET", dispensateur["siret"])
            add(
                formateur,
                "raison-sociale-formateur",
                m.fit(dispensateur["raison_sociale"], m.LIMITS["raison-sociale-formateur"]) or "",
            )
        self._financeurs(element, dispositifs)
        extras = add(element, "extras", info=m.X_ACTION)
        extras.children.extend(extra_items([("identifiant", action["id"]), ("statut", "publiee")]))
        extras.append(f'<extra info="date-publication">{DATEMAJ}</extra>')  # the mark, not escaped away
        extras.children.extend(
            extra_items(
                [
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
                ]
            )
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
                    *((name.replace("_", "-"), dispositif.get(name)) for name in DISPOSITIF_EXTRA_TERMS),
                ],
                numero=str(dispositif["code"]),
            )
        return element.tostring()

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
        if address_ok(site):
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

    def _session(self, action_element: Element, session: dict):
        """One ``<session>``: its FAS code and dates around what it shares with the action's other sessions.

        Sessions of an action usually differ only by their identity and their places, so the rest is
        built once per snapshot for each distinct content (keyed by the snapshot without them).
        """
        key = {k: v for k, v in session.items() if k not in SESSION_IDENTITY}
        dispositifs = session["dispositifs"]
        key["dispositifs"] = [{k: v for k, v in d.items() if k not in DISPOSITIF_IDENTITY} for d in dispositifs]
        middle, extras_before, extras_after = self.cache.get(
            ("session", orjson.dumps(key)), lambda: self._session_shared(session)
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

    def _session_shared(self, session: dict) -> tuple[str, str, str]:
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
        element.append(BLOCS)  # the formation's blocs de compétences, written at export time
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
        if address_ok(site):
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
