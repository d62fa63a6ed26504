"""The demo data set: the seeds' own examples plus two other organisations' offer.

Built with get-or-create on natural keys (SIRET, e-mail, explicit ids of the seed's FAS
code, titles), so that running it twice leaves the same data. The seed's session
``19482-89393-143842`` keeps its real FAS code: its formation, action and session are
created with those ids, and PostgreSQL sequences are moved past them afterwards.
"""

from datetime import date, time
from decimal import Decimal

import sqlalchemy as sa

from models import (
    Action,
    ActionStatus,
    Certification,
    CertifInfo,
    Contact,
    Conventionnement,
    Dispositif,
    Formation,
    InformationCollective,
    Membership,
    Organisation,
    PeriodeInscription,
    PorteOuverte,
    Public,
    PublishedAction,
    Role,
    SessionDispositif,
    SessionFormation,
    Site,
    User,
    db,
)
from sofi.search_public import kept_counts
from sofi.services import programmes, publication
from sofi.services.certifications import apply_certification
from sofi.services.errors import DomainError

DEMO_PASSWORD = "demo-sofi-2026"

ORGANISATIONS = [
    {
        "siret": "13000511900032",
        "code_sofi": 36364,
        "raison_sociale": "CARIFOREF DES PAYS DE LA LOIRE",
        "nom_usuel": "Cariforef Pays de la Loire",
        "nda": "52440869944",
        "adresse1": "12 rue de Strasbourg",
        "code_postal": "44000",
        "commune_code": "44109",
        "telephone": "02 40 20 40 20",
        "email": "offre@cariforef-pdl.org",
        "conventionnements": ["2"],
        "habilitations": ["RNCP35030", "RNCP35830"],
        "sites": [
            {
                "nom": "Principal",
                "adresse1": "12 rue de Strasbourg",
                "code_postal": "44000",
                "commune_code": "44109",
                "siret": "13000511900032",
                "accessible_pmr": True,
                "latitude": 47.2173,
                "longitude": -1.5534,
            }
        ],
        "contacts": [
            {
                "id": 1902,
                "nom": "Saisie",
                "prenom": "Auto",
                "fonction": "Service Offre",
                "email": "offre@cariforef-pdl.org",
                "telephone_fixe": "02 40 20 40 20",
                "referent_pmr": True,
                "referent_mobilite": True,
                "referent_prf": True,
                "mail_liaison": True,
            }
        ],
    },
    {
        "siret": "44123456400017",
        "code_sofi": 41002,
        "raison_sociale": "ATLANTIQUE COMPETENCES FORMATION",
        "nom_usuel": "Atlantique Compétences - Nantes",
        "nda": "52440712344",
        "adresse1": "8 quai de Versailles",
        "code_postal": "44000",
        "commune_code": "44109",
        "telephone": "02 51 00 10 20",
        "email": "contact@atlantique-competences.example",
        "conventionnements": ["2", "7"],
        "habilitations": ["RNCP37674", "RNCP37873", "RS5719"],
        "sites": [
            {
                "nom": "Principal",
                "adresse1": "8 quai de Versailles",
                "code_postal": "44000",
                "commune_code": "44109",
                "siret": "44123456400017",
                "accessible_pmr": True,
                "latitude": 47.2249,
                "longitude": -1.5536,
            }
        ],
        "contacts": [
            {
                "civilite": "MME",
                "nom": "Le Goff",
                "prenom": "Annaïg",
                "fonction": "Responsable pédagogique",
                "email": "a.legoff@atlantique-competences.example",
                "telephone_fixe": "02 51 00 10 21",
                "type_contact": "3",
                "referent_pmr": True,
                "referent_mobilite": True,
                "mail_liaison": True,
            },
            {
                "civilite": "M",
                "nom": "Bernard",
                "prenom": "Yann",
                "fonction": "Référent handicap",
                "email": "y.bernard@atlantique-competences.example",
                "type_contact": "1",
                "referent_pmr": True,
            },
        ],
    },
    {
        "siret": "44123456400025",
        "code_sofi": 41003,
        "raison_sociale": "ATLANTIQUE COMPETENCES FORMATION",
        "nom_usuel": "Atlantique Compétences - Saint-Nazaire",
        "nda": "52440712344",
        "adresse1": "3 boulevard de Verdun",
        "code_postal": "44600",
        "commune_code": "44184",
        "telephone": "02 40 00 30 40",
        "email": "saint-nazaire@atlantique-competences.example",
        "conventionnements": ["2"],
        "habilitations": ["RNCP37674"],
        "sites": [
            {
                "nom": "Principal",
                "adresse1": "3 boulevard de Verdun",
                "code_postal": "44600",
                "commune_code": "44184",
                "siret": "44123456400025",
                "accessible_pmr": False,
                "accessibilite": "Accès par ascenseur en cours de travaux ; nous contacter.",
                "latitude": 47.2735,
                "longitude": -2.2138,
            }
        ],
        "contacts": [
            {
                "civilite": "M",
                "nom": "Morvan",
                "prenom": "Erwan",
                "fonction": "Responsable de site",
                "email": "e.morvan@atlantique-competences.example",
                "type_contact": "4",
                "referent_pmr": True,
                "referent_mobilite": True,
            }
        ],
    },
    {
        "siret": "72198765900019",
        "code_sofi": 52017,
        "raison_sociale": "MAINE SANTE FORMATION",
        "nom_usuel": "Maine Santé Formation",
        "nda": "52720455872",
        "adresse1": "41 avenue Bollée",
        "code_postal": "72000",
        "commune_code": "72181",
        "telephone": "02 43 00 50 60",
        "email": "accueil@maine-sante-formation.example",
        "conventionnements": [],
        "habilitations": ["RNCP36612", "RNCP40344"],
        "sites": [
            {
                "nom": "Principal",
                "adresse1": "41 avenue Bollée",
                "code_postal": "72000",
                "commune_code": "72181",
                "siret": "72198765900019",
                "uai": "0721234A",
                "accessible_pmr": True,
                "latitude": 48.0018,
                "longitude": 0.2066,
            },
            {
                "nom": "Antenne d'Angers",
                "adresse1": "5 rue Bressigny",
                "code_postal": "49100",
                "commune_code": "49007",
                "accessible_pmr": True,
                "latitude": 47.4663,
                "longitude": -0.5472,
            },
        ],
        "contacts": [
            {
                "civilite": "MME",
                "nom": "Rousseau",
                "prenom": "Claire",
                "fonction": "Directrice",
                "email": "c.rousseau@maine-sante-formation.example",
                "type_contact": "5",
                "referent_pmr": True,
                "referent_mobilite": True,
                "referent_prf": True,
                "mail_liaison": True,
            }
        ],
    },
]

USERS = [
    {
        "email": "cariforef@demo.sofi.fr",
        "role": Role.ORGANISATION,
        "prenom": "Auto",
        "nom": "Saisie",
        "sirets": ["13000511900032"],
    },
    {
        "email": "atlantique@demo.sofi.fr",
        "role": Role.ORGANISATION,
        "prenom": "Annaïg",
        "nom": "Le Goff",
        "sirets": ["44123456400017", "44123456400025"],
    },
    {
        "email": "maine@demo.sofi.fr",
        "role": Role.ORGANISATION,
        "prenom": "Claire",
        "nom": "Rousseau",
        "sirets": ["72198765900019"],
    },
    {"email": "valideur@demo.sofi.fr", "role": Role.VALIDATOR, "prenom": "Service", "nom": "Offre", "sirets": []},
    {"email": "admin@demo.sofi.fr", "role": Role.ADMINISTRATOR, "prenom": "Admin", "nom": "Cariforef", "sirets": []},
    {
        "email": "france-travail@demo.sofi.fr",
        "role": Role.FUNDER,
        "prenom": "Conseiller",
        "nom": "France Travail",
        "sirets": [],
        "financeur_code": "4",
    },
    {
        "email": "region@demo.sofi.fr",
        "role": Role.REGION,
        "prenom": "Service",
        "nom": "Formation continue",
        "sirets": [],
    },
]

AUTRES_FINANCEMENTS = 8
PUBLICS_AUTRES_FINANCEMENTS = ["INTERIM", "80006", "81050", "82038", "82044", "82055"]

PREPA_TEXTS = {
    "complement_programme": (
        "Modules obligatoires qui pourront varier et être adaptés : la découverte de plusieurs secteurs "
        "professionnels et métiers qui recrutent, la connaissance de soi, le travail sur les compétences "
        "générales dont numérique (réseaux sociaux professionnels), les techniques de recherche d'emploi "
        "(dont plateforme régionale pour l'emploi), le lien à l'entreprise (rencontre de professionnels, "
        "visites d'entreprise, forum, porte-ouverte), la formalisation du projet professionnel en lien avec "
        "les métiers qui recrutent. Des stages en entreprise permettant de vérifier un projet professionnel "
        "déjà existant ou d'explorer diverses possibilités d'orientation. Modules optionnels à préciser."
    ),
    "objectifs": (
        "Ce parcours doit permettre à un public de niveau supérieur à 4 temporairement éloigné du marché du "
        "travail de se préparer à accéder à un emploi, à une formation qualifiante ou à un contrat en alternance."
    ),
    "resultats_attendus": (
        "A l'issue de la formation, le stagiaire aura renforcé ses compétences générales et les savoirs-être "
        "indispensables à la concrétisation de son projet professionnel. Possibilité de passer des "
        "certifications inscrites à l'inventaire telles que TOEIC, TOEFL, TOSA, PIX..."
    ),
    "commentaire_prerequis": (
        "Être volontaire et motivé pour s'inscrire dans un parcours de formation visant à terme l'insertion "
        "professionnelle ; avoir levé les freins à l'entrée en formation (logement, garde d'enfant, transport, "
        "santé etc.) ; pour les personnes étrangères, avoir un titre de séjour les autorisant à travailler et "
        "leur permettant le suivi de la totalité de la formation."
    ),
}


def _session(start, end, **extra):
    base = {
        "date_debut": start,
        "date_fin": end,
        "rythmes": ["temps-plein"],
        "periodes": ["96414"],
        "type_parcours": "1",
        "modalites_pedagogiques": ["SOFI-OF"],
        "modalite_enseignement": "0",
        "duree_centre": 200,
        "etat_recrutement": "1",
        "modalites_recrutement": ["3", "8"],
    }
    base.update(extra)
    return base


def _dispositif(code, places, publics=None, **extra):
    return {"dispositif_code": code, "nb_places": places, "publics": publics, **extra}


# Each formation: organisation SIRET, fields, and its actions with their sessions and dispositifs.
FORMATIONS = [
    {  # Seed 000: certifying formation, total validation; FAS 19482-89393-143842.
        "id": 19482,
        "siret": "13000511900032",
        "certifinfo": 109049,
        "fiche": "RNCP35030",
        "intitule": "Titre professionnel assistant ressources humaines",
        "objectif_general": "6",
        "individualisation_blocs": False,
        "validation_blocs": "1",
        "blocs": ["RNCP35030BC01", "RNCP35030BC02"],
        "actions": [
            {
                "id": 89393,
                "status": ActionStatus.ARCHIVEE,
                "complement_intitule": "Titre professionnel assistant ressources humaines",
                "sessions": [
                    {
                        "id": 143842,
                        **_session(date(2021, 9, 1), date(2021, 12, 31)),
                        "dispositifs": [
                            _dispositif(
                                AUTRES_FINANCEMENTS,
                                12,
                                frais_ht=Decimal("4800.00"),
                                taux_tva=Decimal("20.00"),
                                frais_ttc=Decimal("5760.00"),
                            )
                        ],
                    }
                ],
            }
        ],
    },
    {  # Seed 000: same certification, partial validation (bloc BC01 only).
        "siret": "13000511900032",
        "certifinfo": 109049,
        "fiche": "RNCP35030",
        "intitule": "Titre professionnel assistant ressources humaines - bloc 1",
        "objectif_general": "6",
        "individualisation_blocs": True,
        "validation_blocs": "0",
        "blocs": ["RNCP35030BC01"],
        "actions": [
            {
                "status": ActionStatus.EN_COURS_DE_SAISIE,
                "complement_intitule": "Bloc de compétences 1",
                "plus_formation": "Un parcours court centré sur la gestion administrative du personnel et la paie.",
                "sessions": [
                    {
                        **_session(date(2027, 2, 1), date(2027, 4, 30), type_parcours="2", duree_centre=245),
                        "dispositifs": [_dispositif(AUTRES_FINANCEMENTS, 10, frais_ht=Decimal("2100.00"))],
                    }
                ],
            }
        ],
    },
    {  # Seed 001: DEAS, one session carrying two dispositifs.
        "siret": "13000511900032",
        "certifinfo": 111669,
        "fiche": "RNCP35830",
        "intitule": "Diplôme d'État d'aide-soignant - DEAS",
        "objectif_general": "6",
        "individualisation_blocs": False,
        "validation_blocs": "1",
        "blocs": ["RNCP35830BC01", "RNCP35830BC02", "RNCP35830BC03", "RNCP35830BC04"],
        "actions": [
            {
                "status": ActionStatus.PUBLIEE,
                "sessions": [
                    {
                        **_session(
                            date(2027, 1, 4),
                            date(2027, 12, 17),
                            duree_centre=770,
                            duree_entreprise=770,
                            modalites_pedagogiques=["SOFI-OF", "SOFI-ENT"],
                        ),
                        "dispositifs": [
                            _dispositif(1, 40, ["80006"], prise_en_charge_frais=True, nb_places_restantes=12),
                            _dispositif(AUTRES_FINANCEMENTS, 5, frais_ht=Decimal("6500.00"), frais_certification=False),
                        ],
                        "informations_collectives": [
                            {
                                "date": date(2026, 12, 10),
                                "heure_debut": time(14, 0),
                                "heure_fin": time(16, 0),
                                "lieu": "12 rue de Strasbourg, 44000 Nantes",
                                "commentaire": "Sur inscription.",
                            }
                        ],
                        "periodes_inscription": [
                            {"type": "candidature", "date_debut": date(2026, 9, 1), "date_fin": date(2026, 12, 15)}
                        ],
                    }
                ],
            }
        ],
    },
    {  # Seed 000: non-certifying formation on Formacode 15052.
        "siret": "13000511900032",
        "intitule": "Bureautique : Word, Excel et outils collaboratifs",
        "objectif_general": "7",
        "formacodes": ["15052"],
        "niveau_sortie": "0",
        "objectifs": "Utiliser un traitement de texte, un tableur et les outils collaboratifs au quotidien.",
        "actions": [
            {
                "status": ActionStatus.EN_ATTENTE_VALIDATION,
                "sessions": [
                    {
                        **_session(
                            date(2027, 1, 11),
                            date(2027, 2, 5),
                            duree_centre=105,
                            rythmes=["temps-partiel", "discontinu"],
                            periodes=["96411"],
                        ),
                        "dispositifs": [_dispositif(AUTRES_FINANCEMENTS, 8, frais_ht=Decimal("950.00"))],
                    }
                ],
            }
        ],
    },
    {  # Seed 002: PREPA Avenir Sup, regional programme lot PAS2025_4.
        "siret": "13000511900032",
        "intitule": "PREPA Avenir Sup",
        "objectif_general": "9",
        "niveau_sortie": "0",
        "formacodes": ["15084", "15061"],
        "formacode_principal": "15061",
        "actions": [
            {
                "status": ActionStatus.PUBLIEE,
                "niveau_entree": "14",
                "prerequis": ["fle-a2", "motivation", "sortie-fi"],
                **PREPA_TEXTS,
                "sessions": [
                    {
                        **_session(
                            date(2025, 12, 1),
                            date(2026, 12, 18),
                            type_parcours="4",
                            duree_centre=420,
                            duree_entreprise=140,
                            modalites_recrutement=["9", "8"],
                        ),
                        "dispositifs": [
                            _dispositif(
                                2,
                                15,
                                ["80006", "80008", "82038", "82044", "82055"],
                                numero_lot_cr="PAS2025_4",
                                id_action_cr="2872",
                                of_mandataire_cr="75",
                                prise_en_charge_frais=True,
                            )
                        ],
                        "informations_collectives": [
                            {
                                "date": date(2025, 11, 18),
                                "heure_debut": time(9, 30),
                                "heure_fin": time(11, 30),
                                "lieu": "12 rue de Strasbourg, 44000 Nantes",
                            }
                        ],
                    }
                ],
            }
        ],
    },
    {  # Atlantique Compétences: published certifying offer on two establishments.
        "siret": "44123456400017",
        "certifinfo": 114920,
        "fiche": "RNCP37674",
        "intitule": "Titre professionnel développeur web et web mobile",
        "objectif_general": "6",
        "individualisation_blocs": False,
        "validation_blocs": "1",
        "actions": [
            {
                "status": ActionStatus.PUBLIEE,
                "plus_formation": "Projet réel en entreprise et entraînement au titre en conditions d'examen.",
                "url_action": "https://atlantique-competences.example/formations/dwwm",
                "sessions": [
                    {
                        **_session(
                            date(2027, 1, 18),
                            date(2027, 9, 24),
                            duree_centre=805,
                            duree_entreprise=210,
                            modalite_enseignement="1",
                            modalites_pedagogiques=["SOFI-OF", "96128"],
                        ),
                        "dispositifs": [
                            _dispositif(4, 14, ["80006"], prise_en_charge_frais=True),
                            _dispositif(12, 4, ["80006", "82044"], frais_ht=Decimal("8900.00")),
                        ],
                    },
                    {
                        **_session(date(2026, 3, 2), date(2026, 11, 27), duree_centre=805, duree_entreprise=210),
                        "dispositifs": [
                            _dispositif(4, 14, ["80006"], prise_en_charge_frais=True, nb_places_restantes=0)
                        ],
                        "etat_recrutement": "2",
                    },
                ],
            },
            {
                "siret": "44123456400025",
                "status": ActionStatus.EN_ATTENTE_REPONSES,
                "sessions": [
                    {
                        **_session(date(2027, 3, 8), date(2027, 11, 19), duree_centre=805),
                        "dispositifs": [_dispositif(6, 12, ["82027"], effectif_minimal=6, capacite_simultanee=12)],
                        "cycle_unite": "3",
                        "cycle_unites_entreprise": 2,
                        "cycle_unites_centre": 1,
                    }
                ],
            },
        ],
    },
    {
        "siret": "44123456400017",
        "certifinfo": 114919,
        "fiche": "RNCP37873",
        "intitule": "Titre professionnel concepteur développeur d'applications",
        "objectif_general": "6",
        "individualisation_blocs": False,
        "validation_blocs": "1",
        "actions": [
            {
                "status": ActionStatus.EN_ATTENTE_VALIDATION,
                "sessions": [
                    {
                        **_session(date(2027, 9, 6), date(2028, 9, 1), duree_centre=1000, duree_entreprise=600),
                        "dispositifs": [_dispositif(7, 10, ["82029"], effectif_minimal=5, capacite_simultanee=10)],
                        "cycle_unite": "3",
                        "cycle_unites_entreprise": 3,
                        "cycle_unites_centre": 1,
                    }
                ],
            }
        ],
    },
    {
        "siret": "44123456400017",
        "certifinfo": 55521,
        "fiche": "RS5719",
        "intitule": "Premiers secours en équipe de niveau 1 (PSE1)",
        "objectif_general": "6",
        "actions": [
            {
                "status": ActionStatus.REFUSEE,
                "sessions": [
                    {
                        **_session(date(2027, 1, 25), date(2027, 1, 29), duree_centre=35),
                        "dispositifs": [_dispositif(AUTRES_FINANCEMENTS, 12, frais_ht=Decimal("390.00"))],
                    }
                ],
            }
        ],
    },
    {  # Maine Santé Formation: Certif Info code replaced by Cariforef, archived and draft offer.
        "siret": "72198765900019",
        "certifinfo": 113613,
        "fiche": "RNCP36612",
        "intitule": "Assistant en ressources humaines",
        "objectif_general": "6",
        "individualisation_blocs": False,
        "validation_blocs": "1",
        "actions": [
            {
                "status": ActionStatus.PUBLIEE,
                "certifinfo_replaced": True,
                "sessions": [
                    {
                        **_session(date(2026, 10, 5), date(2027, 6, 25), duree_centre=700, duree_entreprise=280),
                        "dispositifs": [
                            _dispositif(11, 6, ["80006"], prise_en_charge_frais=True),
                            _dispositif(14, 4, ["82045"]),
                        ],
                    }
                ],
            }
        ],
    },
    {
        "siret": "72198765900019",
        "fiche": "RNCP40344",
        "certifiante": True,
        "intitule": "Auxiliaire spécialisé vétérinaire",
        "objectif_general": "6",
        "actions": [
            {
                "status": ActionStatus.ARCHIVEE,
                "site": "Antenne d'Angers",
                "sessions": [
                    {
                        **_session(date(2024, 9, 2), date(2025, 6, 27), duree_centre=600),
                        "dispositifs": [_dispositif(6, 10, ["82027"], effectif_minimal=4, capacite_simultanee=10)],
                        "cycle_unite": "3",
                        "cycle_unites_entreprise": 3,
                        "cycle_unites_centre": 1,
                    }
                ],
            }
        ],
    },
    {
        "siret": "72198765900019",
        "intitule": "Gestes et postures : prévenir les troubles musculo-squelettiques",
        "objectif_general": "2",
        "formacodes": ["42829"],
        "actions": [
            {
                "status": ActionStatus.EN_COURS_DE_SAISIE,
                "sessions": [
                    {
                        **_session(date(2027, 2, 15), date(2027, 2, 16), duree_centre=14),
                        "dispositifs": [_dispositif(16, 10, ["82044"], frais_ht=Decimal("420.00"))],
                    }
                ],
            }
        ],
    },
]


def _one(model, **criteria):
    return db.session.scalar(sa.select(model).filter_by(**criteria))


def _organisations() -> dict[str, Organisation]:
    organisations = {}
    for data in ORGANISATIONS:
        organisation = _one(Organisation, siret=data["siret"])
        if organisation is None:
            fields = {
                k: v for k, v in data.items() if k not in ("conventionnements", "habilitations", "sites", "contacts")
            }
            organisation = Organisation(**fields)
            organisation.conventionnements = [Conventionnement(financeur_code=c) for c in data["conventionnements"]]
            organisation.habilitations = [
                certification
                for numero in data["habilitations"]
                if (certification := _one(Certification, numero_fiche=numero)) is not None
            ]
            organisation.sites = [Site(**site) for site in data["sites"]]
            organisation.contacts = [Contact(**contact) for contact in data["contacts"]]
            db.session.add(organisation)
            db.session.flush()
        organisations[data["siret"]] = organisation
    for site in db.session.scalars(sa.select(Site).where(Site.nom == "Principal")):
        if site.organisation.siret == "13000511900032" and not site.portes_ouvertes:
            site.portes_ouvertes = [
                PorteOuverte(
                    date=date(2027, 3, 13),
                    heure_debut=time(9, 0),
                    heure_fin=time(13, 0),
                    commentaire="Présentation des formations sanitaires et sociales.",
                )
            ]
    return organisations


def _users() -> None:
    for data in USERS:
        if _one(User, email=data["email"]) is not None:
            continue
        user = User(
            email=data["email"],
            role=data["role"],
            prenom=data["prenom"],
            nom=data["nom"],
            financeur_code=data.get("financeur_code"),
        )
        user.set_password(DEMO_PASSWORD)
        user.memberships = [Membership(organisation=_one(Organisation, siret=siret)) for siret in data["sirets"]]
        db.session.add(user)


def _find_formation(organisation: Organisation, data: dict) -> Formation | None:
    if "id" in data:
        return db.session.get(Formation, data["id"])
    return _one(Formation, organisation_id=organisation.id, intitule=data["intitule"])


def _formation(organisation: Organisation, data: dict) -> Formation:
    certification = _one(Certification, numero_fiche=data["fiche"]) if "fiche" in data else None
    if "fiche" in data and certification is None:
        raise DomainError(f"La fiche {data['fiche']} manque : lancer d'abord « sofi load-referentials ».")
    formation = Formation(
        id=data.get("id"),
        organisation=organisation,
        intitule=data["intitule"],
        objectif_general=data["objectif_general"],
        individualisation_blocs=data.get("individualisation_blocs", False),
        validation_blocs=data.get("validation_blocs"),
        objectifs=data.get("objectifs"),
    )
    if certification is not None:
        certifinfo = db.session.get(CertifInfo, data["certifinfo"]) if data.get("certifinfo") else None
        apply_certification(formation, certification, certifinfo, data.get("blocs"))
    else:
        formation.niveau_sortie = data.get("niveau_sortie")
        formation.set_formacodes(data["formacodes"], data.get("formacode_principal"))
    db.session.add(formation)
    return formation


def _action(formation: Formation, organisation: Organisation, data: dict, organisations) -> None:
    dispensateur = organisations[data["siret"]] if "siret" in data else organisation
    site = next(s for s in dispensateur.sites if s.nom == data.get("site", "Principal"))
    if "id" in data:
        if db.session.get(Action, data["id"]) is not None:
            return
    elif any(a.organisation_id == dispensateur.id and a.site_id == site.id for a in formation.actions):
        return
    fields = {k: v for k, v in data.items() if k not in ("sessions", "siret", "site")}
    action = Action(formation=formation, organisation=dispensateur, site=site, **fields)
    db.session.add(action)
    referent = dispensateur.contacts[0]
    for session_data in data["sessions"]:
        session_fields = {
            k: v
            for k, v in session_data.items()
            if k not in ("dispositifs", "informations_collectives", "periodes_inscription")
        }
        session = SessionFormation(
            site=site,
            organisme_responsable=dispensateur,
            referent_pmr=referent,
            referent_mobilite=referent,
            referent_prf=referent if referent.referent_prf else None,
            mail_liaison=referent if referent.mail_liaison else None,
            **session_fields,
        )
        session.informations_collectives = [
            InformationCollective(**i) for i in session_data.get("informations_collectives", [])
        ]
        session.periodes_inscription = [PeriodeInscription(**p) for p in session_data.get("periodes_inscription", [])]
        with db.session.no_autoflush:
            for dispositif_data in session_data["dispositifs"]:
                dispositif = db.session.get(Dispositif, dispositif_data["dispositif_code"])
                codes = dispositif_data.get("publics") or [p.code for p in dispositif.default_publics]
                publics = list(db.session.scalars(sa.select(Public).where(Public.code.in_(codes))))
                fields = {k: v for k, v in dispositif_data.items() if k != "publics"}
                session.dispositifs.append(SessionDispositif(publics=publics, **fields))
        action.sessions.append(session)


def _advance_sequences() -> None:
    """Explicit ids leave PostgreSQL sequences behind; move them past the largest id."""
    if db.engine.dialect.name != "postgresql":
        return
    for table in ("formation", "action", "session_formation", "contact"):
        sequence = db.session.scalar(sa.text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": table})
        highest = f"(SELECT COALESCE(MAX(id), 1) FROM {table})"
        db.session.execute(
            sa.text(f"SELECT setval('{sequence}', GREATEST({highest}, (SELECT last_value FROM {sequence})))")
        )


def _publish_published_actions() -> None:
    """Demo actions in the "publiée" state get their published version, once."""
    published = set(db.session.scalars(sa.select(PublishedAction.action_id)))
    for action in db.session.scalars(sa.select(Action).where(Action.status == ActionStatus.PUBLIEE)):
        if action.id not in published:
            publication.publish(action)


def database_is_empty() -> bool:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Organisation)) == 0


def load_demo() -> str:
    """Load (or complete) the demo data set in one transaction; returns a French summary."""
    if _one(Certification, numero_fiche="RNCP35030") is None:
        raise DomainError(
            "Les données de référence manquent : lancer d'abord « flask --app app sofi load-referentials »."
        )
    try:
        organisations = _organisations()
        _users()
        for data in FORMATIONS:
            organisation = organisations[data["siret"]]
            formation = _find_formation(organisation, data) or _formation(organisation, data)
            for action_data in data["actions"]:
                _action(formation, organisation, action_data, organisations)
        db.session.flush()
        programmes.load_demo_programme()  # the Region's example file: PAS2025_4 and the other lots
        _publish_published_actions()
        _advance_sequences()
        kept_counts.rebuild()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    counts = {
        name: db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for name, model in (
            ("organismes", Organisation),
            ("formations", Formation),
            ("actions", Action),
            ("sessions", SessionFormation),
            ("comptes", User),
        )
    }
    return "Démonstration chargée : " + ", ".join(f"{count} {name}" for name, count in counts.items()) + "."
