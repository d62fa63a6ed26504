"""Column sizes of the reference tables, checked before writing (PostgreSQL refuses longer strings)."""

from sofi.services.errors import ImportFileError


def check_lengths(model, values: dict, where: str) -> None:
    """Refuse, in French, a value longer than the column of ``model`` it is written to."""
    for name, value in values.items():
        length = getattr(model.__table__.columns[name].type, "length", None)
        if isinstance(value, str) and length and len(value) > length:
            raise ImportFileError(
                f"{where} : la valeur de « {name} » dépasse {length} caractères ({len(value)}) ; rien n'a été importé."
            )
