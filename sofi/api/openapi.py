"""The OpenAPI 3.1 document of ``/api/v1`` (served at ``/api/v1/openapi.json``).

Built here in Python so that the value lists come from the same code tables as the
application. The test suite validates every endpoint's answers against it.
"""

from flask import jsonify

from models.codelists import codelist
from sofi.api.blueprint import api
from sofi.search_public.params import MAX_RADIUS_KM, SORTS


def _t(kind: str, nullable: bool = False, **extra) -> dict:
    return {"type": [kind, "null"] if nullable else kind, **extra}


STR, INT, NUM, BOOL = _t("string"), _t("integer"), _t("number"), _t("boolean")
NSTR, NINT, NNUM = _t("string", True), _t("integer", True), _t("number", True)
DATE = _t("string", format="date")
NDATE = _t("string", True, format="date")


def _ref(name: str, nullable: bool = False) -> dict:
    ref = {"$ref": f"#/components/schemas/{name}"}
    return {"oneOf": [ref, {"type": "null"}]} if nullable else ref


def _array(items: dict) -> dict:
    return {"type": "array", "items": items}


def _obj(properties: dict, required: list[str] | None = None, additional: bool = True) -> dict:
    schema = {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
    }
    if not additional:
        schema["additionalProperties"] = False
    return schema


def _enum(list_name: str, nullable: bool = False) -> dict:
    values = list(codelist(list_name))
    return _t("string", nullable, enum=[*values, None] if nullable else values)


SCHEMAS = {
    "Error": _obj(
        {
            "error": _obj(
                {"code": STR, "field": NSTR, "message": STR, "details": _array(_ref("Detail"))}, additional=False
            )
        },
        additional=False,
    ),
    "Detail": _obj({"code": STR, "field": NSTR, "message": STR}, additional=False),
    "FacetValue": _obj(
        {"value": STR, "label": STR, "count": _t("integer", minimum=0), "selected": BOOL}, additional=False
    ),
    "SessionSummary": _obj(
        {
            "session_id": INT,
            "fas_code": STR,
            "action_id": INT,
            "formation_id": INT,
            "intitule": STR,
            "organisation": _obj({"siret": STR, "raison_sociale": STR, "nom_usuel": NSTR}),
            "date_debut": DATE,
            "date_fin": DATE,
            "commune": NSTR,
            "code_postal": NSTR,
            "commune_code": NSTR,
            "departement": NSTR,
            "latitude": NNUM,
            "longitude": NNUM,
            "distance_km": NNUM,
            "etat_recrutement": _enum("dict-etat-recrutement"),
            "modalite_enseignement": _enum("dict-modalites-enseignement"),
            "entrees_sorties": _enum("dict-modalites-es"),
            "places_restantes": NINT,
            "certifiante": BOOL,
            "niveau_sortie": _enum("dict-niveaux", True),
            "dispositifs": _array(_obj({"code": INT, "libelle": STR})),
        }
    ),
    "SearchResponse": _obj(
        {
            "total": _t("integer", minimum=0),
            "tri": _t("string", enum=list(SORTS)),
            "items": _array(_ref("SessionSummary")),
            "facets": {"type": "object", "additionalProperties": _array(_ref("FacetValue"))},
            "next_cursor": NSTR,
            "links": _obj({"next": NSTR, "html": STR}),
            "warnings": _array(_ref("Detail")),
        }
    ),
    "CommuneRef": _obj({"code_insee": STR, "nom": STR, "departement": STR, "region": NSTR}),
    "Organisation": _obj(
        {
            "id": INT,
            "siret": STR,
            "siren": STR,
            "nda": NSTR,
            "raison_sociale": STR,
            "nom_usuel": NSTR,
            "code_sofi": NINT,
            "adresse1": NSTR,
            "adresse2": NSTR,
            "code_postal": NSTR,
            "commune": _ref("CommuneRef", True),
            "telephone": NSTR,
            "email": NSTR,
            "site_web": NSTR,
        }
    ),
    "Site": _obj(
        {
            "id": INT,
            "nom": STR,
            "adresse1": STR,
            "adresse2": NSTR,
            "code_postal": STR,
            "commune": _ref("CommuneRef", True),
            "siret": NSTR,
            "uai": NSTR,
            "accessible_pmr": BOOL,
            "accessibilite": NSTR,
            "latitude": NNUM,
            "longitude": NNUM,
        }
    ),
    "Contact": _obj(
        {
            "id": INT,
            "civilite": NSTR,
            "nom": STR,
            "prenom": NSTR,
            "fonction": NSTR,
            "type_contact": NSTR,
            "email": NSTR,
            "telephone_fixe": NSTR,
            "telephone_portable": NSTR,
        }
    ),
    "PublishedDispositif": _obj(
        {
            "id": INT,
            "code": INT,
            "libelle": STR,
            "financeur_code": STR,
            "financeur": STR,
            "publics": _array(_obj({"code": STR, "libelle": STR, "formacode": NSTR})),
            "nb_places": _t("integer", minimum=1),
            "nb_places_restantes": _t("integer", True, minimum=0),
            "frais_ht": NSTR,
            "taux_tva": NSTR,
            "frais_ttc": NSTR,
            "frais_certification": BOOL,
            "prise_en_charge_frais": BOOL,
            "numero_lot_cr": NSTR,
            "id_action_cr": NSTR,
            "of_mandataire_cr": NSTR,
        }
    ),
    "PublishedSession": _obj(
        {
            "id": INT,
            "fas_code": STR,
            "date_debut": DATE,
            "date_fin": DATE,
            "entrees_sorties": _enum("dict-modalites-es"),
            "rythmes": _array(STR),
            "periodes": _array(STR),
            "modalites_pedagogiques": _array(STR),
            "modalite_enseignement": _enum("dict-modalites-enseignement"),
            "duree_centre": NINT,
            "duree_entreprise": NINT,
            "duree_hebdo": NSTR,
            "etat_recrutement": _enum("dict-etat-recrutement"),
            "modalites_recrutement": _array(STR),
            "site": _ref("Site"),
            "organisme_responsable": _ref("Organisation"),
            "referent_pmr": _ref("Contact", True),
            "referent_prf": _ref("Contact", True),
            "mail_liaison": _ref("Contact", True),
            "referent_mobilite": _ref("Contact", True),
            "informations_collectives": _array(
                _obj({"date": DATE, "heure_debut": NSTR, "heure_fin": NSTR, "lieu": STR, "commentaire": NSTR})
            ),
            "periodes_inscription": _array(_obj({"type": STR, "date_debut": DATE, "date_fin": NDATE})),
            "dispositifs": _array(_ref("PublishedDispositif")),
        }
    ),
    "FormationContent": _obj(
        {
            "id": INT,
            "intitule": STR,
            "objectif_general": STR,
            "certifiante": BOOL,
            "certifinfo_code": NINT,
            "certification": {
                "oneOf": [
                    _obj(
                        {
                            "numero_fiche": STR,
                            "intitule": STR,
                            "date_fin_enregistrement": NDATE,
                            "niveau_europeen": NSTR,
                        }
                    ),
                    {"type": "null"},
                ]
            },
            "niveau_sortie": _enum("dict-niveaux", True),
            "formacodes": _array(_obj({"code": STR, "libelle": NSTR})),
            "formacode_principal": NSTR,
            "rome_codes": _array(STR),
            "blocs": _array(_obj({"code": STR, "libelle": STR})),
            "objectifs": NSTR,
            "programme": NSTR,
            "resultats": NSTR,
        }
    ),
    "PublishedAction": _obj(
        {
            "action_id": INT,
            "version": INT,
            "published_at": _t("string", format="date-time"),
            "id": INT,
            "intitule": STR,
            "complement_intitule": NSTR,
            "complement_programme": NSTR,
            "objectifs": NSTR,
            "resultats_attendus": NSTR,
            "plus_formation": NSTR,
            "url_video": NSTR,
            "url_pdf": NSTR,
            "url_action": NSTR,
            "niveau_entree": _enum("dict-niveaux"),
            "prerequis": _array(STR),
            "commentaire_prerequis": NSTR,
            "organisation": _ref("Organisation"),
            "site": _ref("Site"),
            "sessions": _array(_ref("PublishedSession")),
        }
    ),
    "FormationResponse": _obj(
        {
            "id": INT,
            "formation": _ref("FormationContent"),
            "published_at": _t("string", format="date-time"),
            "actions": _array(_ref("PublishedAction")),
            "links": _obj({"html": STR, "lheo": STR}),
        }
    ),
    "SessionResponse": _obj(
        {
            "session": _ref("PublishedSession"),
            "action_id": INT,
            "formation_id": INT,
            "intitule": STR,
            "formation": _ref("FormationContent"),
            "action": _obj({"id": INT, "intitule": STR, "organisation": _ref("Organisation"), "site": _ref("Site")}),
            "links": _obj({"formation": STR}),
        }
    ),
    "OrganisationResponse": _obj(
        {
            "organisation": _ref("Organisation"),
            "offer": _array(
                _obj(
                    {
                        "action_id": INT,
                        "formation_id": INT,
                        "intitule": STR,
                        "certifiante": BOOL,
                        "niveau_sortie": _enum("dict-niveaux", True),
                        "sessions": _array(_ref("PublishedSession")),
                    }
                )
            ),
            "links": _obj({"html": STR}),
        }
    ),
    "FormacodeList": _obj(
        {
            "items": _array(
                _obj({"code": STR, "libelle": STR, "parent_code": NSTR, "champ_code": NSTR, "champ_libelle": NSTR})
            ),
            "next_cursor": NSTR,
        }
    ),
    "DispositifList": _obj(
        {
            "items": _array(
                _obj(
                    {
                        "code": INT,
                        "libelle": STR,
                        "financeur_code": STR,
                        "financeur": STR,
                        "programme_regional": BOOL,
                        "actif": BOOL,
                        "publics_par_defaut": _array(STR),
                    }
                )
            )
        }
    ),
    "PublicList": _obj({"items": _array(_obj({"code": STR, "libelle": STR, "formacode": NSTR}))}),
    "NiveauList": _obj({"items": _array(_obj({"code": STR, "libelle": STR}))}),
    "CommuneList": _obj(
        {
            "items": _array(
                _obj(
                    {
                        "code_insee": STR,
                        "nom": STR,
                        "departement": STR,
                        "type": STR,
                        "codes_postaux": _array(STR),
                        "latitude": NNUM,
                        "longitude": NNUM,
                    }
                )
            ),
            "next_cursor": NSTR,
        }
    ),
    # Write side ---------------------------------------------------------------------------------
    "Action": _obj(
        {
            "id": NINT,
            "version": INT,
            "formation_id": INT,
            "organisation_siret": STR,
            "intitule": STR,
            "status": _t(
                "string",
                enum=[
                    "en_cours_de_saisie",
                    "en_attente_validation",
                    "en_attente_reponses",
                    "publiee",
                    "refusee",
                    "archivee",
                ],
            ),
            "status_label": STR,
            "site_id": INT,
            "niveau_entree": _enum("dict-niveaux"),
            "prerequis": _array(STR),
            "complement_intitule": NSTR,
            "objectifs": NSTR,
            "equipement_cout": NNUM,
            "sessions": _array(_obj({"id": INT, "fas_code": STR, "version": INT})),
        }
    ),
    "Session": _obj(
        {
            "id": NINT,
            "version": INT,
            "action_id": INT,
            "fas_code": NSTR,
            "site_id": INT,
            "date_debut": DATE,
            "date_fin": DATE,
            "etat_recrutement": _enum("dict-etat-recrutement"),
            "modalite_enseignement": _enum("dict-modalites-enseignement"),
            "entrees_sorties": _enum("dict-modalites-es"),
            "duree_hebdo": NNUM,
            "organisme_responsable_id": INT,
            "dispositifs": _array(_obj({"id": INT, "dispositif_code": INT, "version": INT})),
        }
    ),
    "SessionRecruitment": {
        "allOf": [_ref("Session"), _obj({"publiee": BOOL})],
    },
    "Dispositif": _obj(
        {
            "id": NINT,
            "version": INT,
            "session_id": INT,
            "dispositif_code": INT,
            "nb_places": _t("integer", minimum=1),
            "nb_places_restantes": NINT,
            "frais_ht": NNUM,
            "publics": _array(STR),
        }
    ),
    "ActionList": _obj({"items": _array(_ref("Action"))}),
    "ActionInput": _obj(
        {
            "formation_id": INT,
            "site_id": INT,
            "complement_intitule": NSTR,
            "complement_programme": NSTR,
            "objectifs": NSTR,
            "resultats_attendus": NSTR,
            "plus_formation": NSTR,
            "url_video": NSTR,
            "url_pdf": NSTR,
            "url_action": NSTR,
            "equipement_type": NSTR,
            "equipement_cout": NNUM,
            "equipement_commentaire": NSTR,
            "niveau_entree": _enum("dict-niveaux"),
            "prerequis": _array(STR),
            "commentaire_prerequis": NSTR,
        },
        required=[],
        additional=False,
    ),
    "SessionInput": _obj(
        {
            "site_id": INT,
            "date_debut": DATE,
            "date_fin": DATE,
            "entrees_sorties": _enum("dict-modalites-es"),
            "rythmes": _array(STR),
            "periodes": _array(STR),
            "type_parcours": NSTR,
            "modalites_pedagogiques": _array(STR),
            "modalite_enseignement": _enum("dict-modalites-enseignement"),
            "duree_centre": NINT,
            "duree_entreprise": NINT,
            "duree_hebdo": NNUM,
            "commentaire_duree": NSTR,
            "cycle_unite": NSTR,
            "cycle_unites_entreprise": NINT,
            "cycle_unites_centre": NINT,
            "organisme_responsable_id": INT,
            "etat_recrutement": _enum("dict-etat-recrutement"),
            "modalites_recrutement": _array(STR),
            "referent_pmr_id": NINT,
            "referent_prf_id": NINT,
            "mail_liaison_id": NINT,
            "referent_mobilite_id": NINT,
        },
        required=[],
        additional=False,
    ),
    "DispositifInput": _obj(
        {
            "dispositif_code": INT,
            "nb_places": _t("integer", minimum=1),
            "nb_places_restantes": NINT,
            "effectif_minimal": NINT,
            "capacite_simultanee": NINT,
            "annee_cycle": NINT,
            "frais_ht": NNUM,
            "taux_tva": NNUM,
            "frais_ttc": NNUM,
            "frais_additionnels_montant": NNUM,
            "frais_additionnels_details": NSTR,
            "frais_certification": BOOL,
            "prise_en_charge_frais": BOOL,
            "numero_lot_cr": NSTR,
            "id_action_cr": NSTR,
            "of_mandataire_cr": NSTR,
            "reference_marche": NSTR,
            "publics": _array(STR),
        },
        required=[],
        additional=False,
    ),
    "RecruitmentInput": _obj(
        {
            "etat_recrutement": _enum("dict-etat-recrutement"),
            "places_restantes": {
                "oneOf": [
                    _t("integer", minimum=0),
                    {"type": "object", "additionalProperties": _t("integer", True, minimum=0)},
                    {"type": "null"},
                ]
            },
        },
        required=[],
        additional=False,
    ),
    "DryRun": _obj({"dry_run": {"const": True}, "record": {"type": "object"}}, additional=False),
    "SubmitDryRun": _obj(
        {"dry_run": {"const": True}, "would_submit": BOOL, "status": STR, "problems": _array(_ref("Detail"))},
        additional=False,
    ),
}


def _json(schema_name: str) -> dict:
    return {"application/json": {"schema": _ref(schema_name)}}


def _response(description: str, schema_name: str, headers: dict | None = None) -> dict:
    response = {"description": description, "content": _json(schema_name)}
    if headers:
        response["headers"] = headers
    return response


ERRORS = {
    "400": _response("Paramètres invalides", "Error"),
    "404": _response("Introuvable", "Error"),
    "429": _response("Trop de requêtes", "Error"),
}
AUTH_ERRORS = {
    "401": _response("Jeton absent, inconnu, révoqué ou expiré", "Error"),
    "404": _response("Introuvable pour l'établissement du jeton", "Error"),
    "422": _response("Donnée ou règle métier refusée", "Error"),
    "429": _response("Trop de requêtes", "Error"),
}
ETAG = {"ETag": {"description": "Version de l'enregistrement, pour If-Match", "schema": STR}}


def _param(name: str, description: str, schema: dict | None = None, where: str = "query", required=False) -> dict:
    return {"name": name, "in": where, "description": description, "required": required, "schema": schema or STR}


SEARCH_PARAMETERS = [
    _param("q", "Mots-clés (intitulé, objectifs, programme, organisme, domaines)"),
    _param("domaine", "Code Formacode : le domaine et tout ce qu'il contient", _t("string", pattern="^[0-9]{5}$")),
    _param("commune", "Code INSEE de la commune", _t("string", pattern="^[0-9A-Z]{5}$")),
    _param("rayon", "Distance en km autour de la commune", _t("integer", minimum=1, maximum=MAX_RADIUS_KM)),
    _param("departement", "Département (répétable)", _array(STR)),
    _param("debut_apres", "Sessions commençant à partir de cette date", DATE),
    _param("debut_avant", "Sessions commençant au plus tard à cette date", DATE),
    _param("dispositif", "Code de dispositif (répétable)", _array(INT)),
    _param("financeur", "Code financeur LHÉO (répétable)", _array(_enum("dict-financeurs"))),
    _param("public", "Code de public (répétable)", _array(STR)),
    _param("certifiante", "oui / non", _t("string", enum=["oui", "non"])),
    _param("cpf", "Éligible au CPF : oui / non", _t("string", enum=["oui", "non"])),
    _param("niveau", "Niveau de sortie (répétable)", _array(_enum("dict-niveaux"))),
    _param("modalite", "Modalité d'enseignement (répétable)", _array(_enum("dict-modalites-enseignement"))),
    _param("entrees_permanentes", "oui / non", _t("string", enum=["oui", "non"])),
    _param("recrutement_ouvert", "oui / non", _t("string", enum=["oui", "non"])),
    _param("tri", "pertinence, date ou distance", _t("string", enum=list(SORTS))),
    _param("apres", "Curseur de la page suivante (next_cursor)"),
    _param("limite", "Nombre de résultats (1 à 100)", _t("integer", minimum=1, maximum=100)),
    _param("facettes", "non : sans les comptes par filtre", _t("string", enum=["oui", "non"])),
]
DRY_RUN = _param("dry_run", "1 : vérifier sans enregistrer", _t("string", enum=["1", "0", "true", "false"]))
IF_MATCH = _param("If-Match", "Version lue (ETag)", where="header", required=True)
TAGS_READ, TAGS_WRITE, TAGS_REF = ["Offre publiée"], ["Saisie par jeton"], ["Référentiels"]


def _get(summary: str, schema: str, tags, parameters=(), errors=ERRORS, headers=None) -> dict:
    return {
        "get": {
            "summary": summary,
            "tags": tags,
            "parameters": list(parameters),
            "responses": {"200": _response("Succès", schema, headers), **errors},
        }
    }


def _write(method: str, summary: str, body: str, schema: str, status: str, parameters=(), dry_schema="DryRun") -> dict:
    """A write operation: ``status`` on success, 200 with ``dry_schema`` when only checked."""
    return {
        method: {
            "summary": summary,
            "tags": TAGS_WRITE,
            "security": [{"jeton": []}],
            "parameters": [*parameters, DRY_RUN],
            "requestBody": {"required": True, "content": _json(body)},
            "responses": {
                status: {
                    "description": "Succès (ou vérification, avec dry_run)",
                    "headers": ETAG,
                    "content": {"application/json": {"schema": {"oneOf": [_ref(schema), _ref(dry_schema)]}}},
                },
                **(
                    {"200": {"description": "Vérification seulement (dry_run)", "content": _json(dry_schema)}}
                    if status == "201"
                    else {}
                ),
                **AUTH_ERRORS,
                "412": _response("Version périmée", "Error"),
                "428": _response("En-tête If-Match manquant", "Error"),
            },
        }
    }


def _id(name: str) -> dict:
    return _param(name, "Identifiant", INT, where="path", required=True)


def document() -> dict:
    auth_get = {**AUTH_ERRORS}
    paths = {
        "/formations": _get("Rechercher des sessions publiées", "SearchResponse", TAGS_READ, SEARCH_PARAMETERS),
        "/formations/{id}": _get("Une formation publiée", "FormationResponse", TAGS_READ, [_id("id")]),
        "/sessions/{fas}": _get(
            "Une session publiée par son code FAS",
            "SessionResponse",
            TAGS_READ,
            [_param("fas", "Code FAS F-A-S", where="path", required=True)],
        ),
        "/organisations/{siret}": _get(
            "Un organisme et son offre publiée",
            "OrganisationResponse",
            TAGS_READ,
            [_param("siret", "SIRET", _t("string", pattern="^[0-9]{14}$"), where="path", required=True)],
        ),
        "/formacodes": _get(
            "Formacode",
            "FormacodeList",
            TAGS_REF,
            [
                _param("q", "Mots"),
                _param("parent", "Code du terme générique"),
                _param("racines", "oui : les champs sémantiques"),
                _param("apres", "Curseur"),
                _param("limite", "Nombre", INT),
            ],
        ),
        "/dispositifs": _get("Base Dispositif", "DispositifList", TAGS_REF),
        "/publics": _get("Publics", "PublicList", TAGS_REF),
        "/niveaux": _get("Niveaux", "NiveauList", TAGS_REF),
        "/communes": _get(
            "Communes des Pays de la Loire",
            "CommuneList",
            TAGS_REF,
            [
                _param("q", "Nom"),
                _param("departement", "Département"),
                _param("code_postal", "Code postal"),
                _param("apres", "Curseur"),
                _param("limite", "Nombre", INT),
            ],
        ),
        "/formations/{id}.lheo": {
            "get": {
                "summary": "Le document LHÉO 2.3 d'une formation publiée",
                "tags": ["LHÉO"],
                "parameters": [_id("id")],
                "responses": {
                    "200": {"description": "Document LHÉO", "content": {"application/xml": {"schema": STR}}},
                    "404": {
                        "description": "Aucune action publiée",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                },
            }
        },
        "/lheo": {
            "get": {
                "summary": "Toute l'offre publiée en LHÉO 2.3 (ou ce qui a changé depuis « since »)",
                "tags": ["LHÉO"],
                "parameters": [_param("since", "Date ISO 8601", _t("string", format="date-time"))],
                "responses": {
                    "200": {"description": "Document LHÉO (flux)", "content": {"application/xml": {"schema": STR}}},
                    "400": {
                        "description": "since invalide",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                },
            }
        },
        "/offre/actions": {
            **_get("Les actions de l'établissement du jeton", "ActionList", TAGS_WRITE, errors=auth_get),
            **_write("post", "Créer une action (brouillon)", "ActionInput", "Action", "201"),
        },
        "/offre/actions/{id}": {
            **_get("Une action (saisie)", "Action", TAGS_WRITE, [_id("id")], auth_get, ETAG),
            **_write("patch", "Modifier une action", "ActionInput", "Action", "200", [_id("id"), IF_MATCH]),
        },
        "/offre/actions/{id}/soumission": {
            "post": {
                "summary": "Envoyer l'action en validation",
                "tags": TAGS_WRITE,
                "security": [{"jeton": []}],
                "parameters": [_id("id"), IF_MATCH, DRY_RUN],
                "responses": {
                    "200": {
                        "description": "Envoyée (ou vérification, avec dry_run)",
                        "content": {"application/json": {"schema": {"oneOf": [_ref("Action"), _ref("SubmitDryRun")]}}},
                    },
                    **AUTH_ERRORS,
                    "412": _response("Version périmée", "Error"),
                    "428": _response("En-tête If-Match manquant", "Error"),
                },
            }
        },
        "/offre/actions/{id}/sessions": _write(
            "post", "Ajouter une session à une action", "SessionInput", "Session", "201", [_id("id")]
        ),
        "/offre/sessions/{id}": {
            **_get("Une session (saisie)", "Session", TAGS_WRITE, [_id("id")], auth_get, ETAG),
            **_write("patch", "Modifier une session", "SessionInput", "Session", "200", [_id("id"), IF_MATCH]),
        },
        "/offre/sessions/{id}/recrutement": _write(
            "put",
            "État du recrutement et places restantes (mis à jour aussi dans la version publiée)",
            "RecruitmentInput",
            "SessionRecruitment",
            "200",
            [_id("id"), IF_MATCH],
        ),
        "/offre/sessions/{id}/dispositifs": _write(
            "post", "Ajouter un dispositif à une session", "DispositifInput", "Dispositif", "201", [_id("id")]
        ),
        "/offre/dispositifs/{id}": {
            **_get("Un dispositif de session (saisie)", "Dispositif", TAGS_WRITE, [_id("id")], auth_get, ETAG),
            **_write("patch", "Modifier un dispositif", "DispositifInput", "Dispositif", "200", [_id("id"), IF_MATCH]),
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "SOFI — API de l'offre de formation des Pays de la Loire",
            "version": "1.0.0",
            "description": (
                "Lecture publique de l'offre publiée (sans jeton, CORS ouvert, limitée en débit) et saisie "
                "par les systèmes des organismes de formation avec un jeton API créé dans leur espace. "
                "Les erreurs sont en JSON : code stable, champ concerné et message en français."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "jeton": {"type": "http", "scheme": "bearer", "description": "Jeton API de l'organisme"}
            },
        },
    }


@api.get("/openapi.json")
def openapi_json():
    return jsonify(document())
