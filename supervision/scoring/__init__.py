"""Scoring rules as versioned data (rule sets in force from a month); the monthly scoring reads the ledger."""

from supervision.scoring import messages as _messages  # noqa: F401  (registers the texts)
from supervision.scoring.models import (
    RuleSetCreate,
    RuleSetPublic,
    ScoringItem,
    ScoringItemBase,
    ScoringItemPublic,
    ScoringRuleSet,
)
from supervision.scoring.rules import (
    DEFAULT_ITEMS,
    SHORT_MINUTES,
    create_rule_set,
    items_in_force,
    points,
    rule_set,
    rule_sets,
)

__all__ = [
    "DEFAULT_ITEMS", "SHORT_MINUTES", "RuleSetCreate", "RuleSetPublic", "ScoringItem", "ScoringItemBase",
    "ScoringItemPublic", "ScoringRuleSet", "create_rule_set", "items_in_force", "points",
    "rule_set", "rule_sets",
]
