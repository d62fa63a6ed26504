"""List pages that stay fast on large tables: no COUNT(*), and keyset cursors between pages.

Flask-Admin counts every row of a list (``SELECT count(*)``) and reaches page N with
``OFFSET N × page size``: both read the whole table on a large one. :class:`KeysetListMixin`
switches to the "simple" pager (previous / next, no count) and gives the previous and next
links a cursor — the sort value and id of the first or last row shown — so that the next
page is read with ``WHERE (sort, id) > (value, id)`` from an index, at any depth. A page
reached by its number alone (typed URL, page size change) first finds the row before it with a
narrow scan of the two sort columns (``_boundary``), then is read like a "next" page: the
wide rows of the list are never skipped by ``OFFSET``.
"""

import base64
import binascii
import json
from datetime import date, datetime

import sqlalchemy as sa
from flask import g, request

from models import db

AFTER, BEFORE = "apres", "avant"


def _encode(value):
    return value.isoformat() if isinstance(value, date | datetime) else value


def _decode(column, value):
    if value is None:
        raise ValueError("no value")
    python_type = column.type.python_type
    if python_type is datetime:
        return datetime.fromisoformat(value)
    if python_type is date:
        return date.fromisoformat(value)
    if python_type is int and not isinstance(value, bool):
        return int(value)
    raise ValueError("unsupported sort type")


class KeysetListMixin:
    """For ``SofiModelView`` lists sorted on columns of their own model (dates, ids)."""

    simple_list_pager = True

    # What the list is sorted on --------------------------------------------------------------
    def _plain_column(self, field):
        """The column of this model's table behind a sort field (None for relations and expressions)."""
        columns = getattr(getattr(field, "property", None), "columns", None)
        if not columns or len(columns) != 1:
            return None
        column = columns[0]
        return column if isinstance(column, sa.Column) and column.table is self.model.__table__ else None

    def _keyset_sort(self, sort_column, sort_desc):
        """(column, descending) of the sort, or None when it is not a plain column of the model."""
        if sort_column is not None:
            field, joins = self._sortable_columns.get(sort_column), self._sortable_joins.get(sort_column)
        else:
            default = next(iter(self._get_default_order()), None)
            field, joins, sort_desc = default if default is not None else (None, None, False)
        column = None if joins or isinstance(field, list) else self._plain_column(field)
        return (column, bool(sort_desc)) if column is not None else None

    def _apply_sorting(self, query, joins, sort_column, sort_desc):
        query, joins = super()._apply_sorting(query, joins, sort_column, sort_desc)
        keyset = self._keyset_sort(sort_column, sort_desc)
        g.sofi_keyset = keyset
        if keyset is not None:
            column, descending = keyset
            primary = self.model.__table__.c.id
            if column is not primary:  # a total order: ties broken by id
                query = query.order_by(primary.desc() if descending else primary.asc())
        return query, joins

    # Cursors ---------------------------------------------------------------------------------
    def _cursor(self, name: str):
        """(value, id) of the cursor ``name`` of the request, when it fits the current sort."""
        raw, keyset = request.args.get(name), getattr(g, "sofi_keyset", None)
        if not raw or keyset is None:
            return None
        column, descending = keyset
        try:
            data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
            if data["c"] != column.key or data["d"] != descending:
                return None
            return _decode(column, data["v"]), int(data["i"])
        except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
            return None

    def _make_cursor(self, row) -> str | None:
        keyset = getattr(g, "sofi_keyset", None)
        if keyset is None or row is None:
            return None
        column, descending = keyset
        value = getattr(row, column.key)
        if value is None:
            return None
        raw = json.dumps({"c": column.key, "d": descending, "v": _encode(value), "i": row.id})
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def _nulls_follow(self, ascending: bool) -> bool:
        """Whether NULL sort values come after the others in a scan in this direction."""
        postgresql = db.engine.dialect.name == "postgresql"
        return ascending if postgresql else not ascending  # PostgreSQL: NULLS LAST; SQLite: NULL smallest

    def _beyond(self, column, descending: bool, value, identity: int, forward: bool):
        """Rows strictly after (forward) or before (value, identity) in the list's order."""
        primary = self.model.__table__.c.id
        smaller = descending == forward  # the rows wanted have smaller keys
        if column is primary:
            return primary < identity if smaller else primary > identity
        if smaller:
            clause = sa.and_(column <= value, sa.or_(column < value, primary < identity))
        else:
            clause = sa.and_(column >= value, sa.or_(column > value, primary > identity))
        if column.nullable and self._nulls_follow(ascending=not smaller):
            clause = sa.or_(clause, column.is_(None))
        return clause

    def _get_list_extra_args(self):
        """The cursors are not carried by the search and filter forms (a new search starts at the top)."""
        view_args = super()._get_list_extra_args()
        view_args.extra_args = {k: v for k, v in view_args.extra_args.items() if k not in (AFTER, BEFORE)}
        return view_args

    def _boundary(self, query, column, rows_before: int):
        """(value, id) of the last row before a page reached by its number, or None (no such row,
        or no sort value to start from): only the sort value and the id are read to skip the rows
        before it, from the index when there is one."""
        row = (
            query.enable_eagerloads(False)
            .with_entities(column, self.model.__table__.c.id)
            .offset(rows_before - 1)
            .limit(1)
            .first()
        )
        return (row[0], row[1]) if row is not None and row[0] is not None else None

    def _apply_pagination(self, query, page, page_size):
        keyset = getattr(g, "sofi_keyset", None)
        after, before = self._cursor(AFTER), self._cursor(BEFORE)
        g.sofi_keyset_reversed = False
        if keyset is None or not page_size or not page:
            return super()._apply_pagination(query, page, page_size)
        column, descending = keyset
        if after is None and before is None:
            after = self._boundary(query, column, page * page_size)
            if after is None:
                return super()._apply_pagination(query, page, page_size)
        primary = self.model.__table__.c.id
        if after is not None:
            return query.filter(self._beyond(column, descending, *after, forward=True)).limit(page_size)
        # Previous page: read backwards from the first row shown, then put the rows back in order.
        g.sofi_keyset_reversed = True
        order = [column.asc() if descending else column.desc()]
        if column is not primary:
            order.append(primary.asc() if descending else primary.desc())
        query = query.order_by(None).order_by(*order)
        return query.filter(self._beyond(column, descending, *before, forward=False)).limit(page_size)

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        count, data = super().get_list(
            page, sort_column, sort_desc, search, filters, execute=execute, page_size=page_size
        )
        if execute:
            data = list(data)
            if getattr(g, "sofi_keyset_reversed", False):
                data.reverse()
            g.sofi_keyset_page = (
                request.args.get("page", 0, type=int),
                self._make_cursor(data[0]) if data else None,
                self._make_cursor(data[-1]) if data else None,
            )
        return count, data

    def _get_list_url(self, view_args):
        """Pager links to the page before or after the current one carry its cursor."""
        extra = {k: v for k, v in view_args.extra_args.items() if k not in (AFTER, BEFORE)}
        current = getattr(g, "sofi_keyset_page", None)
        if current is not None and view_args.page:
            page, first, last = current
            if view_args.page == page + 1 and last:
                extra[AFTER] = last
            elif view_args.page == page - 1 and first and page - 1 > 0:
                extra[BEFORE] = first
            elif view_args.page == page:
                for name in (AFTER, BEFORE):
                    if request.args.get(name):
                        extra[name] = request.args[name]
        return super()._get_list_url(view_args.clone(extra_args=extra))
