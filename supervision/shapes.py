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


__all__ = ["NULL_NOT_ALLOWED", "UpdateModel", "clearable_fields"]
