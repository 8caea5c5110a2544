"""Our own errors. Services raise these; the web layer maps them to pages and JSON in one place."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from supervision.i18n import translate


@dataclass(frozen=True)
class FieldProblem:
    """One thing wrong with one field, optionally on one row of an import."""

    field: str
    key: str
    params: dict[str, Any] = dataclass_field(default_factory=dict)
    row: int | None = None
    sheet: str | None = None

    def message(self, locale: str) -> str:
        return translate(self.key, locale, **self.params)

    def as_dict(self, locale: str) -> dict[str, Any]:
        out: dict[str, Any] = {"field": self.field, "label": _field_label(self.field, locale),
                               "message": self.message(locale)}
        if self.row is not None:
            out["row"] = self.row
        if self.sheet is not None:
            out["sheet"] = self.sheet
        return out


class SupervisionError(Exception):
    """Base of every error a user may see; `code` is stable for API clients."""

    code = "error"
    status = 400

    def __init__(self, key: str = "error.generic", /, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params
        self.problems: list[FieldProblem] = []

    def message(self, locale: str = "zh-CN") -> str:
        return translate(self.key, locale, **self.params)

    def __str__(self) -> str:
        text = self.message("en")
        if self.problems:
            text += ": " + "; ".join(
                (f"row {p.row} " if p.row else "") + f"{p.field}: {p.message('en')}" for p in self.problems
            )
        return text


class NotFound(SupervisionError):
    code = "not_found"
    status = 404


class Conflict(SupervisionError):
    code = "conflict"
    status = 409


class Forbidden(SupervisionError):
    code = "forbidden"
    status = 403


class Unauthorized(SupervisionError):
    code = "unauthorized"
    status = 401


class TooManyAttempts(SupervisionError):
    code = "too_many_attempts"
    status = 429


class DeviceError(SupervisionError):
    code = "device_error"
    status = 502


class CalendarNotCovered(SupervisionError):
    code = "calendar_not_covered"
    status = 422

    def __init__(self, year: int) -> None:
        super().__init__("error.calendar_not_covered", year=year)
        self.year = year


class InvalidInput(SupervisionError):
    """Bad input; carries one or more field problems (with rows for imports)."""

    code = "invalid_input"
    status = 422

    def __init__(
        self,
        field_name: str | None = None,
        key: str = "error.invalid",
        /,
        *,
        problems: list[FieldProblem] | None = None,
        **params: Any,
    ) -> None:
        super().__init__("error.invalid_input")
        if problems:
            self.problems = list(problems)
        elif field_name is not None:
            self.problems = [FieldProblem(field_name, key, params)]

    def message(self, locale: str = "zh-CN") -> str:
        if len(self.problems) == 1 and self.problems[0].row is None:
            p = self.problems[0]
            return translate("error.field", locale, field=_field_label(p.field, locale), message=p.message(locale))
        return translate("error.invalid_input", locale, count=len(self.problems))


def _field_label(name: str, locale: str) -> str:
    from supervision.i18n import has_message

    key = f"field.{name}"
    return translate(key, locale) if has_message(key) else name
