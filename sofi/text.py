"""Text helpers: accent- and case-insensitive search keys."""

import re
import unicodedata


def search_key(*parts: str | None) -> str:
    """Lower-case, accent-free, single-spaced text for ``LIKE`` searches ("Diplôme d'État" → "diplome d'etat")."""
    text = " ".join(part for part in parts if part)
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return re.sub(r"\s+", " ", stripped.replace("’", "'")).strip().lower()


def search_words(query: str) -> list[str]:
    return [word for word in search_key(query).split(" ") if word]
