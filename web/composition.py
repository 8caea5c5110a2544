"""The one place that names every package: their migrations, their texts, their routes."""

from __future__ import annotations

# Each package keeps its own Alembic branch under <package>/migrations/versions; all heads are applied.
# A package without that folder yet is skipped.
MIGRATION_PACKAGES: tuple[str, ...] = ("supervision", "cameras", "risk", "complaints")
