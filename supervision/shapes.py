"""The shared base of every partial-update input shape (`XUpdate`)."""

from __future__ import annotations

from functools import cache
from typing import Any, ClassVar

from pydantic import ValidationInfo, field_validator
from pydantic_core import PydanticCustomError
from sqlmodel import SQLModel

NULL_NOT_ALLOWED = "null_not_allowed"


class UpdateModel(SQLModel):
    """Every field optional (only the fields sent are applied), but `null` only where the column may be NULL.

    `X | None = None` is how a partial update says "may be left out"; it also let an explicit `null` through to a
    NOT NULL column, which failed at the database as a 500. Which fields may be cleared is read from `columns_of`'s
    columns, so a new field follows its column without a list to keep in step.
    """

    columns_of: ClassVar[type[SQLModel] | None] = None

    @field_validator("*", mode="before")
    @classmethod
    def _refuse_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in clearable_fields(cls):
            raise PydanticCustomError(NULL_NOT_ALLOWED, "may not be null")
        return value


@cache
def clearable_fields(shape: type[UpdateModel]) -> frozenset[str]:
    """Name the fields of `shape` that an update may set to NULL: its table's nullable columns, nothing else."""
    if shape.columns_of is None:
        return frozenset()
    columns = shape.columns_of.__table__.columns  # type: ignore[attr-defined]
    return frozenset(name for name in shape.model_fields if name in columns and columns[name].nullable
                     and not columns[name].primary_key)


def without_refused_nulls(shape: type[UpdateModel], data: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Split `data` into what `shape` may validate and the fields whose null it refuses.

    For a service that reports every problem of a form at once: it validates the rest and adds a "required"
    problem for each of these beside its own checks, instead of stopping at the first.
    """
    clearable = clearable_fields(shape)
    refused = [name for name, value in data.items()
               if value is None and name in shape.model_fields and name not in clearable]
    return {k: v for k, v in data.items() if k not in refused}, refused


__all__ = ["NULL_NOT_ALLOWED", "UpdateModel", "clearable_fields", "without_refused_nulls"]
