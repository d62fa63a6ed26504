"""Field-level differences between two snapshots of an F-A-S-D tree (for the review page)."""

from dataclasses import dataclass

# Snapshot keys that change without being an edit of the offer.
IGNORED = {"id", "fas_code"}


@dataclass(frozen=True)
class Change:
    path: str
    before: object
    after: object


def _flatten(value, prefix: str, out: dict) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if key not in IGNORED:
                _flatten(item, f"{prefix}.{key}" if prefix else key, out)
    elif isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        for index, item in enumerate(value):
            label = item.get("fas_code") or item.get("code") or item.get("id") or index
            _flatten(item, f"{prefix}[{label}]", out)
    else:
        out[prefix] = value


def changes(before: dict | None, after: dict | None) -> list[Change]:
    """Every leaf that differs, as ``formation.intitule`` / ``sessions[F-A-S].date_debut`` paths."""
    old, new = {}, {}
    _flatten(before or {}, "", old)
    _flatten(after or {}, "", new)
    return [
        Change(path, old.get(path), new.get(path))
        for path in sorted(old.keys() | new.keys())
        if old.get(path) != new.get(path)
    ]
