"""Scoring rules as versioned data (rule sets in force from a month); the monthly scoring reads the ledger."""

from supervision.scoring import messages as _messages  # noqa: F401  (registers the texts)
from supervision.scoring.models import (
    MonthClose,
    MonthlyScore,
    RuleSetCreate,
    RuleSetPublic,
    ScoringItem,
    ScoringItemBase,
    ScoringItemPublic,
    ScoringRuleSet,
)
from supervision.scoring.monthly import (
    ItemLine,
    MonthView,
    ScoreRow,
    close_month,
    closes,
    closing_for,
    compute_month,
    explain,
    month_end,
    month_text,
    month_view,
    parse_month,
    publish_month,
    refreeze,
    register_close_check,
    reopen_month,
    row_of,
    score_history,
    trend,
)
from supervision.scoring.rules import (
    DEFAULT_ITEMS,
    ITEM_OF_KIND,
    ITEM_SPECS,
    SHORT_MINUTES,
    SUBJECT_KINDS,
    ItemSpec,
    check_item,
    create_rule_set,
    item_label,
    item_of_entry,
    items_in_force,
    points,
    rule_set,
    rule_set_in_force,
    rule_sets,
)

__all__ = [
    "DEFAULT_ITEMS", "ITEM_OF_KIND", "ITEM_SPECS", "SHORT_MINUTES", "SUBJECT_KINDS", "ItemLine", "ItemSpec",
    "MonthClose", "MonthView", "MonthlyScore", "RuleSetCreate", "RuleSetPublic", "ScoreRow", "ScoringItem",
    "ScoringItemBase", "ScoringItemPublic", "ScoringRuleSet", "check_item", "close_month", "closes", "closing_for",
    "compute_month", "create_rule_set", "explain", "item_label", "item_of_entry", "items_in_force", "month_end",
    "month_text", "month_view", "parse_month", "points", "publish_month", "refreeze", "register_close_check",
    "reopen_month", "row_of", "rule_set", "rule_set_in_force", "rule_sets", "score_history", "trend",
]
