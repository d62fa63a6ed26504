"""Lists filtered by a dashboard preset (``?preset=…``), with the dashboard's own clause."""

from datetime import date

from flask import request


class PresetMixin:
    """Applies the preset named in the URL to both the list query and its count."""

    presets: dict = {}

    def _preset(self):
        return self.presets.get(request.args.get("preset", ""))

    def preset_label(self) -> str | None:
        preset = self._preset()
        return preset.label if preset else None

    def get_query(self):
        preset = self._preset()
        query = super().get_query()
        return query.filter(preset.clause(date.today())) if preset else query

    def get_count_query(self):
        preset = self._preset()
        query = super().get_count_query()
        return query.filter(preset.clause(date.today())) if preset else query
