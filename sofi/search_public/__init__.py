"""The public search shared by the catalogue and the API: parameters, filters, facets, sorts."""

from sofi.search_public.engine import (
    FacetValue,
    SearchError,
    SearchResult,
    formacode_descendants,
    keywords,
    niveau_label,
    search,
    session_items,
)
from sofi.search_public.params import ParamError, SearchParams, parse_params

__all__ = [
    "FacetValue",
    "ParamError",
    "SearchError",
    "SearchParams",
    "SearchResult",
    "formacode_descendants",
    "keywords",
    "niveau_label",
    "parse_params",
    "search",
    "session_items",
]
