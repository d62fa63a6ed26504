"""``flask sofi backup | restore``: the whole database to a file and back (see ``sofi.services.backup``)."""

import click

from sofi.cli import reports_errors, sofi_cli


@sofi_cli.command("backup")
@click.argument("output")
@reports_errors
def backup_command(output):
    """Sauvegarde toute la base dans OUTPUT (SQLite : copie en ligne ; PostgreSQL : pg_dump, format custom)."""
    from sofi.services.backup import backup

    path = backup(output)
    click.echo(f"Sauvegarde écrite : {path} ({path.stat().st_size} octets).")


@sofi_cli.command("restore")
@click.argument("input_file", metavar="INPUT")
@click.option("--force", is_flag=True, help="Remplace une base qui contient déjà des données.")
@reports_errors
def restore_command(input_file, force):
    """Restaure la sauvegarde INPUT dans la base configurée (tout ou rien)."""
    from sofi.services.backup import restore

    restore(input_file, force=force)
    click.echo(f"Sauvegarde « {input_file} » restaurée.")
