"""Quarterly awards (文明服务窗口 / 服务标兵) and the yearly appraisal (年度考核), from the monthly scores.

A core subpackage with its own migrations (supervision/awards/migrations, branch 'awards'). It reads the
ledger (eligibility), the frozen monthly scores (supervision.scoring), the duty roster (who the duty leaders
are), attendance days and leave; the rating pads' counts are handed in by the web layer (`RatingCounts`).
"""

from supervision.awards import messages as _messages  # noqa: F401  (registers the texts)
from supervision.awards.appraisal import (
    AppraisalRow,
    ConfirmIn,
    Figures,
    YearView,
    confirm,
    excellent_quota,
    export_workbook,
    suggest,
    year_view,
)
from supervision.awards.eligibility import BARRING_KINDS, Bar, bars
from supervision.awards.models import (
    Appraisal,
    AwardSelection,
    CitizenVote,
    Grade,
    LeaderBallot,
    LeaderBallotCast,
    SubjectKind,
)
from supervision.awards.quarters import (
    Parts,
    Weights,
    last_complete_quarter,
    parse_quarter,
    quarter_bounds,
    quarter_key,
    weighted_score,
)
from supervision.awards.ranking import Candidate, QuarterRanking, RatingCounts, ranking
from supervision.awards.selection import SelectionIn, certificate_pdf, get_selection, select_award, selections
from supervision.awards.settings import AwardsSettings, get_awards_settings
from supervision.awards.votes import (
    BallotIn,
    ImportResult,
    Leader,
    Tick,
    ballot_of,
    cast_ballot,
    import_citizen_votes,
    leaders,
)

__all__ = [
    "BARRING_KINDS", "Appraisal", "AppraisalRow", "AwardSelection", "AwardsSettings", "BallotIn", "Bar",
    "Candidate", "CitizenVote", "ConfirmIn", "Figures", "Grade", "ImportResult", "Leader", "LeaderBallot",
    "LeaderBallotCast", "Parts", "QuarterRanking", "RatingCounts", "SelectionIn", "SubjectKind", "Tick",
    "Weights", "YearView", "ballot_of", "bars", "cast_ballot", "certificate_pdf", "confirm", "excellent_quota",
    "export_workbook", "get_awards_settings", "get_selection", "import_citizen_votes", "last_complete_quarter",
    "leaders", "parse_quarter", "quarter_bounds", "quarter_key", "ranking", "select_award", "selections",
    "suggest", "weighted_score", "year_view",
]
