"""HTML that users type (rich-text fields) reduced to a safe subset with nh3 (Ammonia)."""

import nh3

ALLOWED_TAGS = {"p", "br", "strong", "b", "em", "i", "u", "ul", "ol", "li", "a"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}


def clean_html(value: str | None) -> str | None:
    """Keep paragraphs, emphasis, lists and http(s)/mailto links; drop everything else."""
    if value is None:
        return None
    cleaned = nh3.clean(
        value,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    ).strip()
    return cleaned or None


def plain_text(value: str | None) -> str:
    """The text of a rich-text value, without tags (for exports and counters)."""
    return nh3.clean(value or "", tags=set()).strip()
