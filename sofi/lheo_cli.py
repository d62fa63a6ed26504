"""``flask sofi export-lheo | lheo-fragments | import-lheo | archive | diffuse``: LHÉO 2.3 flows and the daily cycle.

Registered on the ``sofi`` group by ``sofi.cli``; same conventions as the other commands
(French summary, French error on stderr and exit status 1, one transaction per command).
"""

import click

from sofi.cli import _existing_file, reports_errors, sofi_cli


@sofi_cli.command("export-lheo")
@click.option("--output", required=True, help="Fichier XML à écrire (remplacé atomiquement).")
@click.option("--since", default=None, help="Seulement les formations dont une publication date d'après (ISO 8601).")
@click.option("--organisation", "siret", default=None, help="SIRET de l'établissement dont exporter les actions.")
@click.option("--validate", is_flag=True, help="Valide le fichier écrit avec le schéma officiel LHÉO 2.3.")
@reports_errors
def export_lheo_command(output, since, siret, validate):
    """Exporte l'offre publiée au format LHÉO 2.3."""
    from sofi.services.diffusion import check_siret_option, export_lheo, parse_since, validate_export

    written = export_lheo(output, since=parse_since(since), siret=check_siret_option(siret))
    stats = written.stats
    click.echo(
        f"Export LHÉO 2.3 : {stats.formations} formation(s), {stats.actions} action(s), {stats.sessions} session(s) "
        f"({stats.published_actions} action(s) publiée(s)) → {written.path} ({written.size} octets, "
        f"sha256 {written.sha256})."
    )
    for message in stats.skipped:
        click.echo(f"Avertissement : {message}")
    if stats.formations == 0:
        click.echo(
            "Avertissement : aucune formation à exporter ; le document est vide (le schéma LHÉO exige au moins "
            "une formation)."
        )
    if validate:
        errors, count = validate_export(written.path)
        if count:
            for error in errors:
                click.echo(f"  - {error}", err=True)
            raise click.ClickException(f"Le fichier écrit n'est pas conforme au schéma LHÉO 2.3 : {count} erreur(s).")
        click.echo("Fichier conforme au schéma officiel LHÉO 2.3.")


@sofi_cli.command("lheo-fragments")
@reports_errors
def lheo_fragments_command():
    """Rend au format LHÉO les actions publiées dont le rendu stocké manque ou est périmé."""
    from sofi.services.lheo_fragments import refresh_fragments

    count = refresh_fragments(progress=lambda done: click.echo(f"{done} action(s) publiée(s) rendue(s)…", err=True))
    click.echo(f"Rendu LHÉO mis à jour : {count} action(s) publiée(s).")


@sofi_cli.command("import-lheo")
@click.argument("file")
@click.option("--organisation", "siret", default=None, help="N'importer que l'offre de cet organisme (SIRET).")
@click.option("--dry-run", is_flag=True, help="Simule l'import et affiche le compte rendu sans rien enregistrer.")
@reports_errors
def import_lheo_command(file, siret, dry_run):
    """Importe un document LHÉO 2.3 ou 2.2 (offre de formation)."""
    from sofi.services.lheo_import import import_lheo

    report = import_lheo(_existing_file(file), organisation_siret=siret, dry_run=dry_run)
    for line in report.lines():
        click.echo(line)
    click.echo(report.summary())


@sofi_cli.command("archive")
@click.option("--today", default=None, help="Date de référence AAAA-MM-JJ (par défaut : aujourd'hui).")
@reports_errors
def archive_command(today):
    """Archive les actions publiées qui ne remplissent plus les règles de consultation."""
    from sofi.services.archiving import archive_expired
    from sofi.services.diffusion import parse_day

    result = archive_expired(parse_day(today))
    for action_id, intitule in result.archived:
        click.echo(f"Action {action_id} « {intitule} » archivée.")
    click.echo(result.summary())


@sofi_cli.command("diffuse")
@click.option("--output-dir", required=True, help="Répertoire des fichiers de diffusion (les précédents sont gardés).")
@click.option("--today", default=None, help="Date de référence de l'archivage AAAA-MM-JJ (par défaut : aujourd'hui).")
@reports_errors
def diffuse_command(output_dir, today):
    """Cycle quotidien : archivage, export LHÉO complet et incrémental, manifeste."""
    from sofi.services.diffusion import diffuse, parse_day

    manifest = diffuse(output_dir, today=parse_day(today))
    click.echo(f"Archivage : {manifest['archivage']['archivees']} action(s) archivée(s).")
    for item in manifest["fichiers"]:
        if item["fichier"] is None:
            click.echo(f"{item['type'].capitalize()} : aucun fichier ({item['remarque']} depuis {item['depuis']}).")
            continue
        click.echo(
            f"{item['type'].capitalize()} : {item['fichier']} — {item['formations']} formation(s), "
            f"{item['actions']} action(s), {item['sessions']} session(s), sha256 {item['sha256']}."
        )
    click.echo(f"Manifeste : {manifest['manifeste']}.")
