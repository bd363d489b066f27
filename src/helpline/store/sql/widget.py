"""The web widget's settings per SDK inbox (``widget_settings``). ``uow.widget``."""

from __future__ import annotations

import builtins
import json

from helpline.core.widget import WidgetSettings
from helpline.store.rows import Row, dumps
from helpline.store.statements import Db
from helpline.store.statements import every as _all
from helpline.store.statements import one as _one

_COLUMNS = "department_id, allowed_origins, greeting, color, prechat"


def _settings(row: Row) -> WidgetSettings:
    return WidgetSettings(
        department_id=row["department_id"],
        allowed_origins=list(json.loads(row["allowed_origins"] or "[]")),
        greeting=row["greeting"],
        color=row["color"],
        prechat=row["prechat"],
    )


class WidgetRepository:
    def __init__(self, db: Db) -> None:
        self.db = db

    def get(self, department_id: int) -> WidgetSettings | None:
        sql = f"SELECT {_COLUMNS} FROM widget_settings WHERE department_id = ?"  # noqa: S608
        row = _one(self.db, sql, [department_id])
        return _settings(row) if row else None

    def all(self) -> builtins.list[WidgetSettings]:
        return [_settings(r) for r in _all(self.db, f"SELECT {_COLUMNS} FROM widget_settings")]  # noqa: S608

    def put(self, settings: WidgetSettings, now: float) -> None:
        values = [dumps(settings.allowed_origins), settings.greeting, settings.color, settings.prechat, now]
        updated = self.db.execute(
            "UPDATE widget_settings SET allowed_origins = ?, greeting = ?, color = ?, prechat = ?, "
            "updated_at = ? WHERE department_id = ?",
            [*values, settings.department_id],
        )
        if updated.rowcount == 0:
            self.db.execute(
                "INSERT INTO widget_settings (allowed_origins, greeting, color, prechat, updated_at, "
                "department_id) VALUES (?, ?, ?, ?, ?, ?)",
                [*values, settings.department_id],
            )
