"""The F-A-S-D → LHÉO 2.3 mapping: one explicit table, and the value rules of both directions.

LHÉO has three levels (formation → action → session), SOFI four (F → A → S → D), and the
levels do not hold the same things: LHÉO puts the place, the public, the funders, the
entries/exits mode and the hours on the *action*, where SOFI has them on the session and its
dispositifs; LHÉO puts the organisme responsable on the *formation*, where SOFI has it on the
session. The choices (written down in ``docs/lheo-mapping.md``):

1. **One LHÉO formation per SOFI formation × organisme responsable** (SIRET of the sessions'
   organisme responsable). ``numero`` = ``<formation id>-<SIRET>``.
2. **One LHÉO action per group of sessions of a SOFI action that share every action-level
   value** (site, entrées/sorties, modalité d'enseignement, rythmes, périodes, modalités
   pédagogiques, durations, dispositifs with their publics, places and prices). Sessions at two
   sites, or with different dispositifs, give two LHÉO actions. ``numero`` = FAS code of the
   group's first session.
3. **One LHÉO session per SOFI session**, ``numero`` = its FAS code ``F-A-S``.
4. **Dispositifs are flattened on the action**: one ``organisme-financeur`` per funder code (places
   summed), the union of their publics in ``code-public-vise``; every SOFI dispositif is kept
   whole in an ``extras info="sofi-dispositif"`` block (name, prices HT/TTC, lot, places…).
5. **SOFI-only data travels in ``extras``** (``info="sofi-formation|sofi-action|sofi-dispositif|
   sofi-session|sofi-site|sofi-contact"``), so that SOFI → LHÉO → SOFI keeps every field; a
   third-party reader ignores them.

``MAPPING`` below lists every LHÉO element the writer emits with its SOFI source; the reader
inverts the same rows (``import`` column). A test checks that every element written for the
demo data is in this table and that ``docs/lheo-mapping.md`` lists every row.
"""

import html
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

# --- the table -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    lheo: str  # path below lheo/offres, "/"-separated
    sofi: str  # where the value comes from in the published snapshot (PublishedAction.data)
    rule: str  # how it is written (export) and read back (import)


F = "formation"
A = "formation/action"
S = "formation/action/session"
O = "formation/organisme-formation-responsable"  # noqa: E741

MAPPING: tuple[Row, ...] = (
    # --- formation ---------------------------------------------------------------------------
    Row(F, "formation × session.organisme_responsable", "one per SOFI formation and SIRET of organisme responsable"),
    Row(f"{F}/domaine-formation", "formation", "always written (its children are optional)"),
    Row(
        f"{F}/domaine-formation/code-FORMACODE",
        "formation.formacodes, formacode_principal",
        '≤ 5, principal first with tag="principal"; ref = edition of the code in the Formacode table '
        "(V8 for the 2003 edition shipped; V14 for codes added from current sources: seeds, Certif Info, "
        "RNCP; the file's ref for imported codes). Import: unknown codes are added to the Formacode table "
        "(label to complete) with a warning",
    ),
    Row(f"{F}/domaine-formation/code-NSF", "formation.nsf_code", "first 3 characters; import: unknown code skipped"),
    Row(f"{F}/domaine-formation/code-ROME", "formation.rome_codes", "≤ 5; import: codes absent from ROME skipped"),
    Row(f"{F}/intitule-formation", "formation.intitule", "plain text, 1..255"),
    Row(
        f"{F}/objectif-formation",
        "formation.objectifs, else action.objectifs",
        'escaped HTML ≤ 3000 (plain text then cut if longer), "-" when empty',
    ),
    Row(f"{F}/resultats-attendus", "formation.resultats, else action.resultats_attendus", "as objectif-formation"),
    Row(f"{F}/contenu-formation", "formation.programme, else action.complement_programme", "as objectif-formation"),
    Row(f"{F}/certifiante", "formation.certifiante", "0/1; import: 0 when the certification is unknown here"),
    Row(f"{F}/contact-formation", "organisme responsable", "type-contact 4 (Accueil): phone, e-mail, web site"),
    Row(f"{F}/contact-formation/type-contact", "—", "4"),
    Row(f"{F}/contact-formation/coordonnees", "organisation.telephone, email, site_web", "COORDONNEES block"),
    Row(
        f"{F}/parcours-de-formation",
        "session.type_parcours (first session)",
        "1 when not given; each session's own value in sofi-session extras",
    ),
    Row(f"{F}/code-niveau-entree", "action.niveau_entree (first action)", "dict-niveaux; exact value in sofi-action"),
    Row(f"{F}/objectif-general-formation", "formation.objectif_general", "dict-AIS; import default 6 or 7"),
    Row(f"{F}/certification", "formation.certification, certifinfo_code", "one block when certifying"),
    Row(f"{F}/certification/code-RNCP", "certification.numero_fiche (RNCPnnnn)", "import: digits or RNCP+digits"),
    Row(f"{F}/certification/code-CERTIFINFO", "formation.certifinfo_code", ""),
    Row(f"{F}/certification/code-RS", "certification.numero_fiche (RSnnnn)", ""),
    Row(f"{F}/code-niveau-sortie", "formation.niveau_sortie", "dict-niveaux"),
    Row(f"{F}/extras[sofi-formation]", "formation", "identifiant, type-certification, blocs, textes-action"),
    # --- action ------------------------------------------------------------------------------
    Row(A, "action × group of sessions with the same action-level values", "numero = FAS code of its 1st session"),
    Row(f"{A}/rythme-formation", "session.rythmes, periodes (labels)", '"-" when empty; import: labels recognised'),
    Row(
        f"{A}/code-public-vise",
        "dispositifs[].publics[].formacode",
        'ref="V10", ≤ 10, union over the dispositifs; 83056 (Tout public) when none',
    ),
    Row(f"{A}/niveau-entree-obligatoire", "action.prerequis", "1 when a « niveau … validé » pre-requisite is set"),
    Row(f"{A}/modalites-alternance", "session.duree_centre, duree_entreprise", '"-" without hours in entreprise'),
    Row(f"{A}/modalites-enseignement", "session.modalite_enseignement", "dict-modalites-enseignement"),
    Row(
        f"{A}/conditions-specifiques",
        "action.prerequis (labels), commentaire_prerequis",
        '"Aucune" when empty; import: text → commentaire_prerequis',
    ),
    Row(f"{A}/prise-en-charge-frais-possible", "dispositifs[].prise_en_charge_frais", "1 when any dispositif has it"),
    Row(f"{A}/lieu-de-formation", "session.site", "one; SOFI has no session-level place in LHÉO"),
    Row(f"{A}/lieu-de-formation/SIRET-lieu-formation", "site.siret", ""),
    Row(f"{A}/lieu-de-formation/SIRET-lieu-formation/SIRET", "site.siret", ""),
    Row(f"{A}/lieu-de-formation/code-UAI-lieu-formation", "site.uai", ""),
    Row(f"{A}/lieu-de-formation/code-UAI-lieu-formation/code-UAI", "site.uai", ""),
    Row(f"{A}/lieu-de-formation/coordonnees", "site.nom, adresse, latitude/longitude", "COORDONNEES block"),
    Row(f"{A}/lieu-de-formation/extras[sofi-site]", "site.nom, accessible_pmr, accessibilite", ""),
    Row(f"{A}/modalites-entrees-sorties", "session.entrees_sorties", "0 dates fixes, 1 permanentes"),
    Row(f"{A}/url-action", "action.url_action", ""),
    Row(f"{A}/url-action/urlweb", "action.url_action", "import: http:// added when the scheme is missing"),
    Row(f"{A}/acces-handicapes", "site.accessible_pmr, accessibilite", "≤ 250"),
    Row(f"{A}/modalites-pedagogiques", "session.modalites_pedagogiques (labels)", "≤ 200"),
    Row(
        f"{A}/code-modalite-pedagogique",
        "session.modalites_pedagogiques, periodes (Formacode codes)",
        'ref="V10", ≤ 5; SOFI-OF/SOFI-ENT are not Formacodes (kept in sofi-session)',
    ),
    Row(f"{A}/equipement", "action.equipement_type, equipement_cout, equipement_commentaire", ""),
    Row(f"{A}/equipement/type-equipement", "action.equipement_type", ""),
    Row(f"{A}/equipement/cout-indicatif-equipement", "action.equipement_cout", "rounded to the euro"),
    Row(f"{A}/equipement/commentaire", "action.equipement_commentaire", "≤ 500"),
    Row(f"{A}/prix-total-TTC", "dispositifs[].frais_ttc", "when all dispositifs give the same TTC price"),
    Row(f"{A}/nombre-heures-centre", "session.duree_centre", ""),
    Row(f"{A}/nombre-heures-entreprise", "session.duree_entreprise", ""),
    Row(f"{A}/nombre-heures-total", "duree_centre + duree_entreprise", "import: centre = total − entreprise if absent"),
    Row(f"{A}/conventionnement", "dispositifs[].programme_regional / conventionnement_financeur", "0/1"),
    Row(f"{A}/organisme-formateur", "action.organisation", "only when it is not the organisme responsable"),
    Row(f"{A}/organisme-formateur/SIRET-formateur", "action.organisation.siret", ""),
    Row(f"{A}/organisme-formateur/SIRET-formateur/SIRET", "action.organisation.siret", ""),
    Row(f"{A}/organisme-formateur/raison-sociale-formateur", "action.organisation.raison_sociale", "≤ 250"),
    Row(
        f"{A}/organisme-financeur",
        "dispositifs[] grouped by dispositif.financeur_code",
        "≤ 8; import (third-party files): one SOFI dispositif « LHÉO – <financeur> » per code",
    ),
    Row(f"{A}/organisme-financeur/code-financeur", "dispositif.financeur_code", "dict-financeurs"),
    Row(f"{A}/organisme-financeur/nb-places-financees", "sum of dispositifs[].nb_places", ""),
    Row(f"{A}/organisme-financeur/extras[specificites]", "dispositifs[].libelle", "programme-financeur (Carif usage)"),
    Row(f"{A}/extras[sofi-action]", "action", "identifiant, statut, complements, prerequis, urls…"),
    Row(f"{A}/extras[sofi-dispositif]", "session.dispositifs[]", "every SOFI field of each dispositif"),
    # --- session -----------------------------------------------------------------------------
    Row(S, "session", "numero = FAS code"),
    Row(f"{S}/periode", "session.date_debut, date_fin", "AAAAMMJJ; import: 00000000/99999999 refused, AAAAMM00 ok"),
    Row(f"{S}/periode/debut", "session.date_debut", ""),
    Row(f"{S}/periode/fin", "session.date_fin", ""),
    Row(f"{S}/adresse-inscription", "session.site", "ADRESSE block"),
    Row(f"{S}/adresse-inscription/adresse", "session.site", ""),
    Row(f"{S}/periode-inscription", "session.periodes_inscription[0]", "fin 99999999 when open-ended"),
    Row(f"{S}/periode-inscription/periode", "session.periodes_inscription[0]", ""),
    Row(f"{S}/periode-inscription/periode/debut", "periode_inscription.date_debut", ""),
    Row(f"{S}/periode-inscription/periode/fin", "periode_inscription.date_fin", ""),
    Row(f"{S}/etat-recrutement", "session.etat_recrutement", "1 ouvert, 2 fermé, 3 suspendu"),
    Row(
        f"{S}/recrutement",
        "session.modalites_recrutement, informations_collectives",
        "one per modalité; one modalité 9 per information collective (date, heures, lieu in commentaire)",
    ),
    Row(f"{S}/recrutement/modalite-recrutement", "session.modalites_recrutement", "dict-modalite-recrutement"),
    Row(f"{S}/recrutement/periode", "information_collective.date", ""),
    Row(f"{S}/recrutement/periode/debut", "information_collective.date", ""),
    Row(f"{S}/recrutement/periode/fin", "information_collective.date", ""),
    Row(f"{S}/recrutement/heure-debut", "information_collective.heure_debut", "HHhMM"),
    Row(f"{S}/recrutement/heure-fin", "information_collective.heure_fin", "HHhMM"),
    Row(f"{S}/recrutement/commentaire", "information_collective.lieu, commentaire", "≤ 500"),
    Row(
        f"{S}/contact-session",
        "session.referent_pmr, referent_prf, mail_liaison, referent_mobilite",
        "one per distinct contact; roles in sofi-contact",
    ),
    Row(f"{S}/contact-session/type-contact", "contact.type_contact", ""),
    Row(f"{S}/contact-session/coordonnees", "contact", "civilité, nom, prénom, téléphones, courriel"),
    Row(f"{S}/contact-session/extras[sofi-contact]", "contact", "roles, fonction"),
    Row(f"{S}/blocs-competences", "formation.blocs, validation_blocs", "when the formation has blocs"),
    Row(f"{S}/blocs-competences/validation-blocs", "formation.validation_blocs", "0 partielle, 1 totale, 2 mixte"),
    Row(f"{S}/blocs-competences/reference-certification", "formation.certification", ""),
    Row(f"{S}/blocs-competences/reference-certification/reference-code-RNCP", "certification.numero_fiche", ""),
    Row(f"{S}/blocs-competences/reference-certification/reference-code-RS", "certification.numero_fiche", ""),
    Row(f"{S}/blocs-competences/bloc-competences", "formation.blocs[]", ""),
    Row(f"{S}/blocs-competences/bloc-competences/libelle-bloc", "bloc.libelle", "≤ 500"),
    Row(f"{S}/blocs-competences/bloc-competences/code-bloc", "bloc.code", "RNCPxBCy"),
    Row(
        f"{S}/cycle",
        "session.cycle_*, dispositif effectif_minimal, capacite_simultanee, annee_cycle",
        "type-cycle 1 (CA) for an apprenticeship dispositif, else 0",
    ),
    Row(f"{S}/cycle/type-cycle", "dispositif.contrat_apprentissage", ""),
    Row(f"{S}/cycle/annee-cycle", "dispositif.annee_cycle", ""),
    Row(f"{S}/cycle/effectif-minimal", "dispositif.effectif_minimal", ""),
    Row(f"{S}/cycle/capacite-simultanee", "dispositif.capacite_simultanee", ""),
    Row(f"{S}/cycle/alternance", "session.cycle_unite…", "type-alternance 1 CA / 2 CP / 0"),
    Row(f"{S}/cycle/alternance/type-alternance", "dispositif.contrat_*", ""),
    Row(f"{S}/cycle/alternance/rythme-alternance", "session.cycle_unite, cycle_unites_*", ""),
    Row(f"{S}/cycle/alternance/rythme-alternance/unite-rythme-alternance", "session.cycle_unite", ""),
    Row(f"{S}/cycle/alternance/rythme-alternance/unites-entreprise", "session.cycle_unites_entreprise", ""),
    Row(f"{S}/cycle/alternance/rythme-alternance/unites-centre", "session.cycle_unites_centre", ""),
    Row(f"{S}/extras[sofi-session]", "session", "code-fas, type-parcours, rythmes, places restantes, infos coll."),
    # --- organisme responsable ---------------------------------------------------------------
    Row(O, "session.organisme_responsable", ""),
    Row(f"{O}/numero-activite", "organisation.nda", "00000000000 when unknown; import: 0…0 / 9…9 → none"),
    Row(f"{O}/SIRET-organisme-formation", "organisation.siret", ""),
    Row(f"{O}/SIRET-organisme-formation/SIRET", "organisation.siret", "import: Luhn-checked, matching key"),
    Row(f"{O}/nom-organisme", "organisation.nom_usuel or raison_sociale", "≤ 250"),
    Row(f"{O}/raison-sociale", "organisation.raison_sociale", '≤ 250; import: "-" → nom-organisme'),
    Row(f"{O}/coordonnees-organisme", "organisation", ""),
    Row(f"{O}/coordonnees-organisme/coordonnees", "organisation adresse, telephone, email, site_web", ""),
    Row(f"{O}/contact-organisme", "organisation", "type-contact 4 (Accueil)"),
    Row(f"{O}/contact-organisme/type-contact", "—", "4"),
    Row(f"{O}/contact-organisme/coordonnees", "organisation.telephone, email", ""),
    # --- shared blocks -----------------------------------------------------------------------
    Row("COORDONNEES/civilite", "contact.civilite (label)", "Monsieur/Madame"),
    Row("COORDONNEES/nom", "contact.nom / site.nom", "≤ 50"),
    Row("COORDONNEES/prenom", "contact.prenom", "≤ 50"),
    Row("COORDONNEES/adresse", "adresse1, adresse2, code_postal, commune", "ADRESSE block"),
    Row("COORDONNEES/telfixe", "telephone / telephone_fixe", ""),
    Row("COORDONNEES/telfixe/numtel", "telephone / telephone_fixe", "≤ 25"),
    Row("COORDONNEES/portable", "contact.telephone_portable", ""),
    Row("COORDONNEES/portable/numtel", "contact.telephone_portable", "≤ 25"),
    Row("COORDONNEES/courriel", "email", "3..160"),
    Row("COORDONNEES/web", "organisation.site_web", ""),
    Row("COORDONNEES/web/urlweb", "organisation.site_web", ""),
    Row("ADRESSE/denomination", "site.nom", "≤ 255"),
    Row("ADRESSE/ligne", "adresse1, adresse2", "split into lines of ≤ 50 characters, ≤ 4 lines"),
    Row("ADRESSE/codepostal", "code_postal", "5 digits; import: 00000 = no address"),
    Row("ADRESSE/ville", "commune.nom", "≤ 50"),
    Row("ADRESSE/departement", "commune.departement", ""),
    Row("ADRESSE/code-INSEE-commune", "commune.code_insee", "import: missing communes added from the address"),
    Row("ADRESSE/region", "commune.region", "2 characters"),
    Row("ADRESSE/pays", "—", "FR"),
    Row("ADRESSE/geolocalisation", "site.latitude, longitude", ""),
    Row("ADRESSE/geolocalisation/latitude", "site.latitude", ""),
    Row("ADRESSE/geolocalisation/longitude", "site.longitude", ""),
)

BLOCKS = {"coordonnees": "COORDONNEES", "adresse": "ADRESSE"}


def mapped_path(path: str) -> str:
    """The MAPPING row path of an element path (``formation/…/adresse/ligne`` → ``ADRESSE/ligne``)."""
    parts = path.split("/")
    for index in range(len(parts) - 1, -1, -1):
        block = BLOCKS.get(parts[index].split("[")[0])
        if block is not None and index < len(parts) - 1:
            # the innermost shared block that is not the element itself
            return "/".join([block, *parts[index + 1 :]])
    return path


def mapped_paths() -> set[str]:
    return {row.lheo for row in MAPPING}


# --- SOFI extras groups (info="…") and keys ---------------------------------------------------

X_FORMATION = "sofi-formation"
X_ACTION = "sofi-action"
X_DISPOSITIF = "sofi-dispositif"
X_SESSION = "sofi-session"
X_SITE = "sofi-site"
X_CONTACT = "sofi-contact"
X_INFO_COLL = "information-collective"
X_PERIODE_INSCRIPTION = "periode-inscription"
SOFI_GROUPS = (X_FORMATION, X_ACTION, X_DISPOSITIF, X_SESSION, X_SITE, X_CONTACT)

# Keys of the SOFI extras that identify records of the exporting database (not offer content).
IDENTITY_KEYS = ("identifiant", "code-fas", "date-publication")

# session referent roles ↔ sofi-contact "roles" words
CONTACT_ROLES = (
    ("referent_pmr", "referent-pmr"),
    ("referent_prf", "referent-prf"),
    ("mail_liaison", "mail-liaison"),
    ("referent_mobilite", "referent-mobilite"),
)

# --- constants of the mapping ------------------------------------------------------------------

PUBLIC_VISE_REF = "V10"  # publics.csv = Formacode V10 "public visé" list
MODALITE_PEDAGOGIQUE_REF = "V10"  # Formacode V10 modalités pédagogiques (961xx / 964xx)
FORMACODE_REF_CURRENT = "V14"  # codes added from current sources (seeds, Certif Info, RNCP)
FORMACODE_REF_IMPORTED = "V12"  # imported code without a usable ref (Carif flows of the 2.2 era)
TOUT_PUBLIC = "83056"
CONTACT_ACCUEIL = "4"
UNKNOWN_NDA = "00000000000"
PLACEHOLDER_NDAS = {"00000000000", "99999999999"}
EMPTY_TEXT = "-"
NO_CONDITION = "Aucune"
PAYS = "FR"
# Dispositifs created for third-party funders: code = base + LHÉO code-financeur.
IMPORTED_DISPOSITIF_BASE = 9000

LIMITS = {
    "intitule-formation": 255,
    "objectif-formation": 3000,
    "resultats-attendus": 3000,
    "contenu-formation": 3000,
    "rythme-formation": 3000,
    "modalites-alternance": 3000,
    "conditions-specifiques": 3000,
    "acces-handicapes": 250,
    "modalites-pedagogiques": 200,
    "commentaire-equipement": 500,
    "commentaire-recrutement": 500,
    "libelle-bloc": 500,
    "nom-organisme": 250,
    "raison-sociale": 250,
    "raison-sociale-formateur": 250,
    "coordonnees-nom": 50,
    "ligne": 50,
    "ville": 50,
    "denomination": 255,
    "numtel": 25,
    "courriel": 160,
    "urlweb": 400,
    "prix-total-TTC": 10,
}

# --- value rules -------------------------------------------------------------------------------

XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_TAG = re.compile(r"<[^>]*>")
_BLOCK_TAG = re.compile(r"<\s*(br|/p|/li|/h\d|/div)\b[^>]*>", re.IGNORECASE)


def xml_text(value) -> str:
    """``value`` as XML-safe text (characters XML 1.0 forbids are dropped)."""
    return XML_INVALID.sub("", str(value))


def strip_tags(value: str | None) -> str:
    """Plain text of an HTML fragment or of escaped HTML: tags removed, entities decoded."""
    if not value:
        return ""
    text = _BLOCK_TAG.sub("\n", value)
    text = html.unescape(_TAG.sub("", text))
    text = re.sub(r"[ \t\r\f\v]+", " ", text)
    return re.sub(r"\s*\n\s*", "\n", text).strip()


def excerpt(text: str, limit: int) -> str:
    """``text`` cut at a word boundary to fit ``limit`` characters, ending with "…"."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:") + "…"


def fit(value: str | None, limit: int, *, rich: bool = False) -> str | None:
    """Text that fits the LHÉO length ``limit`` (characters), or None when empty.

    Rich text (HTML typed in SOFI) is kept as HTML when it fits, and written escaped by lxml;
    when it is too long it is reduced to plain text, then cut at a word boundary.
    """
    if value is None:
        return None
    text = xml_text(value).strip()
    if not rich:
        text = strip_tags(text) if "<" in text or "&" in text else text
    if len(text) > limit and rich:
        text = strip_tags(text)
    text = excerpt(text, limit)
    return text or None


def required(value: str | None, limit: int, *, rich: bool = False, default: str = EMPTY_TEXT) -> str:
    """A required LHÉO text: never empty ("-" as the real Carif flows do)."""
    return fit(value, limit, rich=rich) or default


def lheo_date(value: date | str | None) -> str | None:
    """ISO date (or date) → ``AAAAMMJJ``."""
    if value is None:
        return None
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return value.strftime("%Y%m%d")


def lheo_datetime_attr(value: datetime | str | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.strftime("%Y%m%d")


def parse_lheo_date(value: str | None, *, end: bool = False) -> date | None:
    """``AAAAMMJJ`` → date. Unknown (``00000000``, ``99999999``, nonsense) → None.

    Month precision ``AAAAMM00`` gives the first day of the month (or the last one for an
    end date), year precision ``AAAA0000`` the first (last) day of the year.
    """
    if not value:
        return None
    value = value.strip()
    if not re.fullmatch(r"\d{8}", value) or value in ("00000000", "99999999"):
        return None
    year, month, day = int(value[:4]), int(value[4:6]), int(value[6:])
    if year == 0 or year >= 9999:
        return None
    try:
        if month == 0:
            return date(year, 12, 31) if end else date(year, 1, 1)
        if day == 0:
            first = date(year, month, 1)
            if not end:
                return first
            return (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        return date(year, month, day)
    except ValueError:
        return None


def bool01(value) -> str:
    return "1" if value else "0"


def split_lines(*parts: str | None, limit: int = 50, max_lines: int = 4) -> list[str]:
    """Address lines of ≤ ``limit`` characters (LHÉO ``ligne``), split at word boundaries."""
    lines: list[str] = []
    for part in parts:
        text = re.sub(r"\s+", " ", xml_text(part or "")).strip()
        while text:
            if len(text) <= limit:
                lines.append(text)
                break
            cut = text[:limit]
            if " " in cut:
                cut = cut.rsplit(" ", 1)[0]
            lines.append(cut)
            text = text[len(cut) :].strip()
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], excerpt(" ".join(lines[max_lines - 1 :]), limit)]
    return lines


def hour(value: str | None) -> str | None:
    """``14:00:00`` → ``14h00`` (LHÉO heure-debut/heure-fin)."""
    if not value:
        return None
    hours, minutes = value.split(":")[:2]
    return f"{int(hours)}h{minutes}"


def parse_hour(value: str | None):
    """``14h15`` / ``9h`` / ``14:15`` → time, or None."""
    from datetime import time

    if not value:
        return None
    match = re.fullmatch(r"\s*(\d{1,2})\s*[hH:]\s*(\d{2})?(?::\d{2})?\s*", value)
    if not match:
        return None
    hours, minutes = int(match.group(1)), int(match.group(2) or 0)
    if hours > 23 or minutes > 59:
        return None
    return time(hours, minutes)


def formacode_ref(version: str | None) -> str:
    """The ``ref`` written on a Formacode: the edition stored with the code."""
    if version and re.fullmatch(r"V\d+", version):
        return version
    return FORMACODE_REF_CURRENT


def normalise_url(value: str | None) -> str | None:
    """A web address as SOFI stores it (``http://`` added to a bare domain, as in real files)."""
    if not value:
        return None
    value = value.strip()
    if not value or " " in value:
        return None
    if not re.match(r"^https?://", value, re.IGNORECASE):
        value = "http://" + value
    return value if len(value) <= 400 else None


def markdown_table() -> str:
    """The mapping table in Markdown (``python -m exporters.lheo.mapping`` regenerates the doc's table)."""
    lines = ["| LHÉO 2.3 element | SOFI source | rule (export / import) |", "|---|---|---|"]
    for row in MAPPING:
        rule = row.rule.replace("|", "\\|")
        lines.append(f"| `{row.lheo}` | {row.sofi} | {rule} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
