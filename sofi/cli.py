"""The ``flask --app app sofi …`` command group: thin wrappers around ``sofi.services``.

Every command prints a French summary, reports bad input in French on standard error and
exits with status 1 without having changed anything.
"""

import functools
import sys
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from models import ModelValidationError
from sofi import db_unavailable
from sofi.audit import acting_as
from sofi.services.errors import DomainError

sofi_cli = AppGroup("sofi", help="Commandes d'administration de SOFI.")


def reports_errors(command):
    """Turn domain errors and database outages into a French message on stderr and exit status 1."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            with acting_as(f"flask sofi {click.get_current_context().info_name}", "cli"):
                return command(*args, **kwargs)
        except DomainError as error:
            raise click.ClickException(error.message) from error
        except ModelValidationError as error:
            raise click.ClickException(f"Donnée refusée ({error.field}) : {error.message}") from error
        except sa.exc.DBAPIError as error:
            if not db_unavailable.is_database_unavailable(error):
                raise
            db_unavailable.rollback_quietly()
            detail = db_unavailable.driver_message(error)
            raise click.ClickException(f"{db_unavailable.COMMAND_MESSAGE} (Détail : {detail})") from error

    return wrapper


class FrenchClickException(click.ClickException):
    def show(self, file=None):
        click.echo(f"Erreur : {self.format_message()}", err=True)


click.ClickException.show = FrenchClickException.show


def _with_progress(label: str, path: Path, run):
    with click.progressbar(length=path.stat().st_size, label=label, file=sys.stderr) as bar:
        return run(bar.update)


def _existing_file(value: str) -> Path:
    path = Path(value)
    if not path.is_file():
        raise click.ClickException(f"Le fichier « {value} » n'existe pas.")
    return path


@sofi_cli.command("load-referentials")
@reports_errors
def load_referentials_command():
    """Charge les données de référence livrées avec SOFI (codes LHÉO, Formacode, communes…)."""
    from sofi.services.referentials.shipped import load_referentials

    summary = load_referentials(step=lambda name: click.echo(f"… {name}", err=True))
    for name, count in summary.counts.items():
        click.echo(f"{name} : {count}")
    click.echo("Données de référence chargées.")


@sofi_cli.command("import-rncp")
@click.argument("file")
@reports_errors
def import_rncp_command(file):
    """Importe un export XML RNCP ou RS de France compétences (flux V4.1)."""
    from sofi.services.referentials.rncp import import_rncp

    path = _existing_file(file)
    summary = _with_progress("Lecture des fiches", path, lambda progress: import_rncp(path, progress))
    click.echo(
        f"{summary.fiches} fiches importées ({summary.created} créées, {summary.updated} mises à jour), "
        f"{summary.blocs} blocs de compétences, {summary.habilitations} habilitations ajoutées."
    )


@sofi_cli.command("import-certifinfo")
@click.argument("file")
@reports_errors
def import_certifinfo_command(file):
    """Importe l'export CSV Certif Info."""
    from sofi.services.referentials.certifinfo import import_certifinfo

    path = _existing_file(file)
    summary = _with_progress("Lecture de Certif Info", path, lambda progress: import_certifinfo(path, progress))
    click.echo(
        f"{summary.rows} entrées Certif Info importées ({summary.created} créées, {summary.updated} mises à jour)."
    )


@sofi_cli.command("import-communes")
@click.argument("file")
@reports_errors
def import_communes_command(file):
    """Importe les communes et leurs codes postaux (communes.json de decoupage-administratif)."""
    from sofi.services.referentials.communes import import_communes

    summary = import_communes(_existing_file(file))
    click.echo(f"{summary.communes} communes importées ({summary.created} créées, {summary.updated} mises à jour).")


@sofi_cli.command("import-programme")
@click.argument("file")
@click.option("--dry-run", is_flag=True, help="Vérifie le fichier et affiche ce qui changerait, sans rien enregistrer.")
@reports_errors
def import_programme_command(file, dry_run):
    """Importe le fichier annuel du programme régional (CSV ou XLSX, voir docs/programme-file.md)."""
    from sofi.services.programmes import import_programme_file

    path = _existing_file(file)
    report = import_programme_file(path.read_bytes(), path.name, dry_run=dry_run)
    for line in report.lines:
        click.echo(f"Ligne {line.number} : lot {line.lot}, {line.role} {line.siret} — {line.text}.")
    for removed in report.removed:
        click.echo(removed)
    click.echo(report.summary)


@sofi_cli.command("create-user")
@click.option("--email", required=True, help="Adresse e-mail (identifiant de connexion).")
@click.option("--password", required=True, help="Mot de passe (10 caractères au moins).")
@click.option("--role", required=True, help="organisation, validator, administrator, funder ou region.")
@click.option("--organisation", "organisations", multiple=True, help="SIRET d'un organisme de rattachement.")
@click.option("--nom", default=None)
@click.option("--prenom", default=None)
@click.option("--financeur", default=None, help="Pour un compte financeur : son code financeur LHÉO (4, 7…).")
@reports_errors
def create_user_command(email, password, role, organisations, nom, prenom, financeur):
    """Crée un compte utilisateur."""
    from sofi.services.users import create_user

    user = create_user(email, password, role, list(organisations), nom=nom, prenom=prenom, financeur_code=financeur)
    click.echo(f"Compte créé : {user.email} ({user.role.label}).")


@sofi_cli.command("issue-key")
@click.option("--organisation", "organisations", multiple=True, required=True, help="SIRET de l'établissement.")
@click.option("--email", required=True, help="Adresse e-mail à laquelle envoyer la clé.")
@click.option("--days", default=14, show_default=True, type=int, help="Durée de validité de la clé, en jours.")
@reports_errors
def issue_key_command(organisations, email, days):
    """Émet une clé d'activation pour un ou plusieurs établissements et l'envoie par e-mail."""
    from sofi.services.accounts import issue_activation_key

    key, secret = issue_activation_key(list(organisations), email, valid_days=days)
    click.echo(f"Clé d'activation : {secret}")
    click.echo(
        f"Envoyée à {key.email}, valable jusqu'au {key.expires_at:%d/%m/%Y}, pour "
        + ", ".join(organisation.siret for organisation in key.organisations)
        + "."
    )


@sofi_cli.command("demo")
@reports_errors
def demo_command():
    """Charge le jeu de démonstration (idempotent)."""
    from sofi.services.demo import load_demo

    summary = load_demo()
    click.echo(summary)


@sofi_cli.command("setup")
@reports_errors
def setup_command():
    """Charge les référentiels et la démonstration si la base est vide (utilisé par ``make run``)."""
    from sofi.services.demo import database_is_empty, load_demo
    from sofi.services.referentials.shipped import (
        load_referentials,
        referentials_loaded,
    )

    if not referentials_loaded():
        load_referentials(step=lambda name: click.echo(f"… {name}", err=True))
        click.echo("Données de référence chargées.")
    if database_is_empty():
        click.echo(load_demo())
    else:
        click.echo("La base contient déjà des données : la démonstration n'est pas rechargée.")


from sofi import (  # noqa: E402, F401  (register their commands)
    backup_cli,  # backup, restore
    lheo_cli,  # export-lheo, import-lheo, archive, diffuse
)


@sofi_cli.command("generate")
@click.option("--organisations", type=click.IntRange(min=1), required=True, help="Nombre d'organismes créés.")
@click.option("--formations", type=click.IntRange(min=0), required=True, help="Nombre total de formations.")
@click.option("--actions-per-formation", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--sessions-per-action", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--published-ratio", type=click.FloatRange(0, 1), default=0.6, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Graine du générateur (jeu reproductible).")
@reports_errors
def generate_command(organisations, formations, actions_per_formation, sessions_per_action, published_ratio, seed):
    """Génère un jeu de données synthétique réaliste (insertions en masse), pour les mesures de performance."""
    from sofi.services.generate import generate

    total = formations * actions_per_formation * sessions_per_action
    with click.progressbar(length=total, label="Génération des sessions", file=sys.stderr) as bar:
        summary = generate(
            organisations,
            formations,
            actions_per_formation,
            sessions_per_action,
            published_ratio=published_ratio,
            seed=seed,
            progress=bar.update,
        )
    click.echo(summary.message())
