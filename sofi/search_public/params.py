"""The parameters of a public search, read from a query string (catalogue URL or API call).

The catalogue and the API use the same names, so that a search URL of one can be replayed
on the other. Invalid values are reported (parameter, French message), never guessed.
"""

from dataclasses import dataclass, field, fields
from datetime import date

from models.codelists import codelist

SORTS = ("pertinence", "date", "distance")
MAX_RADIUS_KM = 200
MAX_QUERY_LENGTH = 200
TRUE_VALUES = {"1", "true", "oui", "on", "yes"}
FALSE_VALUES = {"0", "false", "non", "off", "no"}


@dataclass
class SearchParams:
    q: str = ""
    domaine: str | None = None  # a Formacode code: the domain and everything under it
    commune: str | None = None  # INSEE code
    rayon: int | None = None  # km around ``commune``
    departement: list[str] = field(default_factory=list)
    debut_apres: date | None = None  # sessions starting on or after
    debut_avant: date | None = None  # sessions starting on or before
    dispositif: list[int] = field(default_factory=list)
    financeur: list[str] = field(default_factory=list)
    public: list[str] = field(default_factory=list)
    certifiante: bool | None = None
    cpf: bool | None = None
    niveau: list[str] = field(default_factory=list)
    modalite: list[str] = field(default_factory=list)
    entrees_permanentes: bool | None = None
    recrutement_ouvert: bool | None = None
    tri: str = ""

    def effective_sort(self) -> str:
        """The sort asked for, else relevance when there are keywords, else the start date."""
        if self.tri in SORTS:
            return self.tri
        return "pertinence" if self.q.strip() else "date"

    def to_query(self) -> list[tuple[str, str]]:
        """The (name, value) pairs of a URL that reproduces this search."""
        pairs = []
        for spec in fields(self):
            value = getattr(self, spec.name)
            if value in (None, "", []):
                continue
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, bool):
                    item = "oui" if item else "non"
                elif isinstance(item, date):
                    item = item.isoformat()
                pairs.append((spec.name, str(item)))
        return pairs

    def is_empty(self) -> bool:
        return not [pair for pair in self.to_query() if pair[0] != "tri"]


@dataclass
class ParamError:
    field: str
    message: str


def _bool(raw: str, name: str, errors: list[ParamError]) -> bool | None:
    value = raw.strip().lower()
    if value == "":
        return None
    if value in TRUE_VALUES:
        return True
    if value in FALSE_VALUES:
        return False
    errors.append(ParamError(name, f"« {raw} » n'est pas une valeur acceptée (oui ou non)."))
    return None


def _date(raw: str, name: str, errors: list[ParamError]) -> date | None:
    value = raw.strip()
    if not value:
        return None
    try:
        if "/" in value:  # dd/mm/yyyy as typed on screen
            day, month, year = value.split("/")
            return date(int(year), int(month), int(day))
        return date.fromisoformat(value)
    except ValueError:
        errors.append(ParamError(name, f"« {raw} » n'est pas une date (jj/mm/aaaa ou aaaa-mm-jj)."))
        return None


def _codes(values: list[str], name: str, allowed: set[str] | None, errors: list[ParamError]) -> list[str]:
    result = []
    for raw in values:
        for value in (part.strip() for part in raw.split(",")):
            if not value:
                continue
            if allowed is not None and value not in allowed:
                errors.append(ParamError(name, f"« {value} » n'est pas un code accepté."))
            elif value not in result:
                result.append(value)
    return result


def parse_params(args) -> tuple[SearchParams, list[ParamError]]:
    """Read a ``MultiDict`` (``request.args``) into search parameters and the errors found."""
    errors: list[ParamError] = []
    params = SearchParams()
    params.q = (args.get("q") or "").strip()[:MAX_QUERY_LENGTH]
    domaine = (args.get("domaine") or "").strip()
    if domaine:
        if domaine.isdigit() and len(domaine) == 5:
            params.domaine = domaine
        else:
            errors.append(ParamError("domaine", "Le domaine est un code Formacode à 5 chiffres."))
    commune = (args.get("commune") or "").strip().upper()
    if commune:
        if len(commune) == 5 and commune.isalnum():
            params.commune = commune
        else:
            errors.append(ParamError("commune", "La commune est un code INSEE à 5 caractères."))
    rayon = (args.get("rayon") or "").strip()
    if rayon:
        if rayon.isdigit() and 0 < int(rayon) <= MAX_RADIUS_KM:
            params.rayon = int(rayon)
        else:
            errors.append(ParamError("rayon", f"La distance est un nombre de kilomètres entre 1 et {MAX_RADIUS_KM}."))
    params.departement = _codes(args.getlist("departement"), "departement", None, errors)
    for value in params.departement:
        if not (len(value) in (2, 3) and value.isalnum()):
            errors.append(ParamError("departement", f"« {value} » n'est pas un numéro de département."))
    params.debut_apres = _date(args.get("debut_apres") or "", "debut_apres", errors)
    params.debut_avant = _date(args.get("debut_avant") or "", "debut_avant", errors)
    if params.debut_apres and params.debut_avant and params.debut_avant < params.debut_apres:
        errors.append(ParamError("debut_avant", "La fin de la période de début doit suivre son commencement."))
    dispositifs = _codes(args.getlist("dispositif"), "dispositif", None, errors)
    for value in dispositifs:
        if value.isdigit():
            params.dispositif.append(int(value))
        else:
            errors.append(ParamError("dispositif", f"« {value} » n'est pas un code de dispositif."))
    params.financeur = _codes(args.getlist("financeur"), "financeur", set(codelist("dict-financeurs")), errors)
    params.public = _codes(args.getlist("public"), "public", None, errors)
    params.niveau = _codes(args.getlist("niveau"), "niveau", set(codelist("dict-niveaux")), errors)
    params.modalite = _codes(args.getlist("modalite"), "modalite", set(codelist("dict-modalites-enseignement")), errors)
    for name in ("certifiante", "cpf", "entrees_permanentes", "recrutement_ouvert"):
        setattr(params, name, _bool(args.get(name) or "", name, errors))
    tri = (args.get("tri") or "").strip()
    if tri and tri not in SORTS:
        errors.append(ParamError("tri", "Le tri est « pertinence », « date » ou « distance »."))
    else:
        params.tri = tri
    if params.rayon and not params.commune:
        errors.append(ParamError("rayon", "Choisissez la commune autour de laquelle chercher."))
    if params.tri == "distance" and not params.commune:
        errors.append(ParamError("tri", "Le tri par distance demande une commune."))
    return params, errors
