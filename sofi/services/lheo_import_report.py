"""The report of an LHÉO import: one line per record in file order (created, updated, unchanged or
skipped, with the reason), the warnings, and a French summary with the agreements of gender and number."""

from collections import Counter
from dataclasses import dataclass, field

CREATED, UPDATED, UNCHANGED, SKIPPED = "créé", "mis à jour", "inchangé", "ignoré"
OUTCOMES = (CREATED, UPDATED, UNCHANGED, SKIPPED)
FEMININE = {"formation", "action", "session"}
AGREEMENT = {  # (feminine, plural) forms
    CREATED: ("créée", "créés", "créées"),
    UPDATED: ("mise à jour", "mis à jour", "mises à jour"),
    UNCHANGED: ("inchangée", "inchangés", "inchangées"),
    SKIPPED: ("ignorée", "ignorés", "ignorées"),
}
KINDS = ("organisme", "site", "formation", "action", "session")
PLURALS = {
    "organisme": "organismes",
    "site": "sites",
    "formation": "formations",
    "action": "actions",
    "session": "sessions",
}


def outcome_label(kind: str, outcome: str, count: int = 1) -> str:
    """French agreement: « 1 formation créée », « 2 organismes mis à jour »."""
    feminine, masculine_plural, feminine_plural = AGREEMENT[outcome]
    if kind in FEMININE:
        return feminine_plural if count > 1 else feminine
    return masculine_plural if count > 1 else outcome


@dataclass
class Entry:
    kind: str
    numero: str
    label: str
    outcome: str
    detail: str = ""

    def __str__(self) -> str:
        name = f"{self.kind.capitalize()} {self.numero}".strip()
        label = f" « {self.label} »" if self.label else ""
        detail = f" — {self.detail}" if self.detail else ""
        return f"{name}{label} : {outcome_label(self.kind, self.outcome)}{detail}"


@dataclass
class ImportReport:
    path: str
    version: str = ""
    dry_run: bool = False
    entries: list[Entry] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(self, kind: str, numero, label: str, outcome: str, detail: str = "") -> Entry:
        entry = Entry(kind, str(numero or ""), (label or "")[:80], outcome, detail)
        self.entries.append(entry)
        return entry

    def open(self, kind: str, numero, label: str) -> Entry:
        """An entry whose outcome is set once the record is done (keeps the report in file order)."""
        return self.add(kind, numero, label, "")

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def lines(self) -> list[str]:
        return [str(entry) for entry in self.entries if entry.outcome] + [f"Avertissement : {w}" for w in self.warnings]

    def summary(self) -> str:
        parts = []
        # entries by (kind, outcome), in one pass: an import of 100,000 sessions reports 140,000
        counts = Counter((entry.kind, entry.outcome) for entry in self.entries if entry.outcome)
        for kind in KINDS:
            total = sum(counts[kind, outcome] for outcome in OUTCOMES)
            if total:
                detail = ", ".join(
                    f"{n} {outcome_label(kind, outcome, n)}" for outcome in OUTCOMES if (n := counts[kind, outcome])
                )
                parts.append(f"{total} {PLURALS[kind] if total > 1 else kind} ({detail})")
        head = "Simulation d'import LHÉO (rien n'a été enregistré)" if self.dry_run else "Import LHÉO"
        body = " ; ".join(parts) if parts else "aucun enregistrement"
        return f"{head} {self.version} : {body} ; {len(self.warnings)} avertissement(s)."
