"""The organisations, communes, sites and contacts of an LHÉO import: found in SOFI, or created.

A part of :class:`sofi.services.lheo_import.Importer` (see its module), whose state it uses: the
report, the records created in the current savepoint (``organisations``, ``communes``,
``created_sites``, ``updated_sites``, ``_contacts``, ``_unflushed``), the reference communes
(``known_communes``), the organisation filter (``only_siret``) and ``_flush``.
"""

import re

import sqlalchemy as sa

from exporters.lheo import mapping as m
from models import Commune, CommuneCodePostal, Contact, ModelValidationError, Organisation, Site, db
from models.validation import check_nda
from sofi.services.lheo_import_report import CREATED, UNCHANGED, UPDATED
from sofi.services.lheo_import_values import (
    SkipRecord,
    assign,
    checked_siret,
    contact_key,
    fit_or_none,
    listed_code,
    plain_text,
)
from sofi.text import search_key

CIVILITES = {"monsieur": "M", "m": "M", "m.": "M", "mr": "M", "madame": "MME", "mme": "MME", "mlle": "MME"}


class PartiesImport:
    """Organisations (responsible and formateur), communes, sites and contacts of the imported records."""

    def organisation(self, data: dict, only_filter: bool = False) -> Organisation:
        try:
            siret = checked_siret(data.get("siret"))
        except ModelValidationError as error:
            raise SkipRecord(
                f"SIRET de l'organisme responsable « {data.get('siret')} » refusé : {error.message}"
            ) from error
        if siret is None:
            raise SkipRecord("SIRET de l'organisme responsable absent")
        if only_filter and self.only_siret and siret != self.only_siret:
            raise SkipRecord(f"organisme {siret} : hors du périmètre demandé (--organisation {self.only_siret})")
        organisation = self._organisation(siret)
        raison = fit_or_none(m.strip_tags(data.get("raison_sociale") or ""), 255)
        nom = fit_or_none(m.strip_tags(data.get("nom") or ""), 255)
        values = {"raison_sociale": raison or nom or f"Organisme {siret}"}
        if nom and nom != values["raison_sociale"]:
            values["nom_usuel"] = nom
        nda = (data.get("nda") or "").strip()
        if nda and nda not in m.PLACEHOLDER_NDAS:
            try:
                values["nda"] = check_nda("nda", nda)
            except ModelValidationError:
                self.report.warn(f"Organisme {siret} : numéro de déclaration d'activité « {nda} » invalide, ignoré.")
        coordonnees = data.get("coordonnees") or {}
        address = self._address(coordonnees.get("adresse"))
        if address is not None:
            values.update(address)
        if coordonnees.get("telephone"):
            values["telephone"] = m.fit(coordonnees["telephone"], 30)
        if coordonnees.get("email") and "@" in coordonnees["email"]:
            values["email"] = m.fit(coordonnees["email"], 255)
        if url := m.normalise_url(coordonnees.get("web")):
            values["site_web"] = url
        if organisation is None:
            organisation = Organisation(siret=siret, **values)
            db.session.add(organisation)
            self.organisations[siret] = organisation
            outcome, changes = CREATED, []
        else:
            if not raison and not nom:
                values.pop("raison_sociale")
            changes = assign(organisation, values)
            outcome = UPDATED if changes else UNCHANGED
        if only_filter:
            for contact in [*data.get("contacts", [])]:
                self.contact(organisation, contact)
        self._report_organisation(siret, values["raison_sociale"], outcome, changes)
        return organisation

    def _organisation(self, siret: str) -> Organisation | None:
        if siret in self.organisations:
            return self.organisations[siret]
        organisation = db.session.scalar(sa.select(Organisation).where(Organisation.siret == siret))
        if organisation is not None:
            self.organisations[siret] = organisation
        return organisation

    def _report_organisation(self, siret: str, label: str, outcome: str, changes: list[str]) -> None:
        previous = self.organisation_outcomes.get(siret)
        if previous is None:
            self.organisation_outcomes[siret] = outcome
            self.report.add("organisme", siret, label, outcome, ", ".join(changes) if outcome == UPDATED else "")
        elif previous == UNCHANGED and outcome == UPDATED:
            self.organisation_outcomes[siret] = outcome
            self.report.add("organisme", siret, label, outcome, ", ".join(changes))

    def formateur(self, data: dict | None, responsible: Organisation) -> Organisation:
        if not data or not data.get("siret") or data["siret"] == responsible.siret:
            return responsible
        try:
            siret = checked_siret(data["siret"])
        except ModelValidationError:
            self.report.warn(
                f"SIRET d'organisme formateur « {data['siret']} » invalide : "
                "l'action est rattachée à l'organisme responsable."
            )
            return responsible
        organisation = self._organisation(siret)
        if organisation is None:
            raison = fit_or_none(m.strip_tags(data.get("raison_sociale") or ""), 255) or f"Organisme {siret}"
            organisation = Organisation(siret=siret, raison_sociale=raison)
            db.session.add(organisation)
            self.organisations[siret] = organisation
            self._report_organisation(siret, raison, CREATED, [])
        else:
            self._report_organisation(siret, organisation.raison_sociale, UNCHANGED, [])
        return organisation

    def commune(self, address: dict) -> str | None:
        insee = address.get("insee")
        if insee and re.fullmatch(r"[0-9][0-9AB][0-9]{3}", insee):
            if (
                insee not in self.communes
                and insee not in self.known_communes
                and db.session.get(Commune, insee) is None
            ):
                departement = address.get("departement") or (insee[:3] if insee.startswith("97") else insee[:2])
                region = address.get("region") if address.get("region") and len(address["region"]) <= 3 else None
                commune = Commune(
                    code_insee=insee, nom=m.fit(address["ville"], 255), departement=departement[:3], region=region
                )
                if re.fullmatch(r"\d{5}", address["codepostal"]):
                    commune.codes_postaux = [CommuneCodePostal(code_postal=address["codepostal"])]
                db.session.add(commune)
                self.communes.add(insee)
                self._unflushed.add(("commune",))
                self.report.warn(
                    f"Commune {insee} {address['ville']} absente du référentiel : ajoutée depuis l'adresse."
                )
            return insee
        if ("commune",) in self._unflushed:
            self._flush()  # the postcodes of the communes just added
        rows = db.session.scalars(
            sa.select(CommuneCodePostal).where(CommuneCodePostal.code_postal == address["codepostal"])
        ).all()
        if len(rows) == 1:
            return rows[0].code_insee
        wanted = search_key(address["ville"])
        for row in rows:
            if search_key(row.commune.nom) == wanted:
                return row.code_insee
        return None

    def _address(self, address: dict | None) -> dict | None:
        """``adresse1/adresse2/code_postal/commune_code`` of an LHÉO address SOFI can store."""
        if not address or not re.fullmatch(r"\d{5}", address["codepostal"]):
            return None
        commune = self.commune(address)
        if commune is None:
            return None
        lignes = address["lignes"] or [address.get("denomination") or address["ville"]]
        return {
            "adresse1": m.fit(lignes[0], 255),
            "adresse2": m.fit(", ".join(lignes[1:]), 255) if len(lignes) > 1 else None,
            "code_postal": address["codepostal"],
            "commune_code": commune,
        }

    def site(self, organisation: Organisation, lieu: dict | None, fallbacks: list[dict | None]) -> Site:
        candidates = [(lieu or {}).get("adresse"), *fallbacks]
        address = None
        used = None
        for candidate in candidates:
            address = self._address(candidate)
            if address is not None:
                used = candidate
                break
        if address is None:
            raise SkipRecord("aucune adresse de lieu de formation exploitable (code postal et commune)")
        lieu = lieu or {}
        nom = lieu.get("nom") or (used or {}).get("denomination") or address["adresse1"]
        values = {
            "nom": m.fit(nom, 255),
            **address,
            "latitude": (used or {}).get("latitude") if used is (lieu.get("adresse")) else None,
            "longitude": (used or {}).get("longitude") if used is (lieu.get("adresse")) else None,
        }
        if values["latitude"] is not None and not -90 <= values["latitude"] <= 90:
            values["latitude"] = values["longitude"] = None
        if values["longitude"] is not None and not -180 <= values["longitude"] <= 180:
            values["latitude"] = values["longitude"] = None
        if lieu.get("siret"):
            try:
                values["siret"] = checked_siret(lieu["siret"])
            except ModelValidationError:
                self.report.warn(f"SIRET de lieu de formation « {lieu['siret']} » invalide : ignoré.")
        uai = (lieu.get("uai") or "").strip().upper()
        if uai:
            if re.fullmatch(r"\d{7}[A-Z]", uai):
                values["uai"] = uai
            else:
                self.report.warn(f"Code UAI « {uai} » invalide : ignoré.")
        if lieu.get("sofi"):
            values["accessible_pmr"] = bool(lieu.get("accessible_pmr"))
            values["accessibilite"] = lieu.get("accessibilite")
        site = next(
            (
                s
                for s in organisation.sites
                if s.code_postal == values["code_postal"]
                and s.commune_code == values["commune_code"]
                and (s.nom == values["nom"] or search_key(s.adresse1) == search_key(values["adresse1"]))
            ),
            None,
        )
        if site is None:
            site = Site(**values)
            organisation.sites.append(site)
            self.created_sites.add(id(site))
            self.report.add("site", "", f"{values['nom']} ({values['code_postal']})", CREATED)
        elif id(site) not in self.created_sites and site.id not in self.updated_sites:
            changes = assign(site, {k: v for k, v in values.items() if v is not None or k == "accessibilite"})
            self.updated_sites.add(site.id)
            outcome = UPDATED if changes else UNCHANGED
            self.report.add("site", "", f"{site.nom} ({site.code_postal})", outcome, ", ".join(changes))
        return site

    def contact(self, organisation: Organisation, data: dict) -> Contact | None:
        nom = m.fit(plain_text(data.get("nom") or ""), 100)
        if not nom:
            return None
        prenom = m.fit(plain_text(data.get("prenom") or ""), 100)
        email = data.get("email") if data.get("email") and "@" in data["email"] and len(data["email"]) <= 255 else None
        known = self._known_contacts(organisation)
        key = contact_key(nom, prenom, email)
        contact = known.get(key)
        if contact is None:
            contact = Contact(
                nom=nom,
                prenom=prenom,
                email=email,
                civilite=CIVILITES.get((data.get("civilite") or "").strip().lower()),
                type_contact=listed_code(data.get("type_contact"), "dict-type-contact"),
                telephone_fixe=m.fit(data.get("telephone"), 30),
                telephone_portable=m.fit(data.get("portable"), 30),
                fax=m.fit(data.get("fax"), 30),
                fonction=m.fit(data.get("fonction"), 255),
            )
            organisation.contacts.append(contact)
            known[key] = contact
        roles = set(data.get("roles") or [])
        if data.get("type_contact") == "1" and not data.get("roles"):
            roles.add("referent-pmr")
        for attribute, role in m.CONTACT_ROLES:
            if role in roles and not getattr(contact, attribute):
                setattr(contact, attribute, True)
        return contact

    def _known_contacts(self, organisation: Organisation) -> dict[tuple, Contact]:
        """The contacts of an organisation by name and e-mail (the first one of each), read once per savepoint."""
        known = self._contacts.get(organisation)
        if known is None:
            known = {}
            for contact in organisation.contacts:
                known.setdefault(contact_key(contact.nom, contact.prenom, contact.email or None), contact)
            self._contacts[organisation] = known
        return known
