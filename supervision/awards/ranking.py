"""A quarter's candidates in a jurisdiction: eligibility with its reasons, the four parts, the score, the rank."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import date

from sqlmodel import Session, col, select

from supervision.access import Permission, Principal, check_site
from supervision.awards.eligibility import Bar, bars
from supervision.awards.models import AwardSelection, CitizenVote, LeaderBallot, LeaderBallotCast, SubjectKind
from supervision.awards.quarters import (
    Parts,
    Weights,
    clamp100,
    competition_ranks,
    parse_quarter,
    quarter_bounds,
    quarter_key,
    quarter_months,
    weighted_score,
)
from supervision.awards.scores import monthly_finals
from supervision.awards.settings import AwardsSettings, get_awards_settings
from supervision.errors import NotFound
from supervision.models import Site, Staff, Window

# What the rating pads say of the quarter: (satisfied or very satisfied, all ratings) by window and by person.
RatingCounts = Callable[[Session, date, date, Collection[int], Collection[int]],
                        tuple[dict[int, tuple[int, int]], dict[int, tuple[int, int]]]]


@dataclass(frozen=True)
class Candidate:
    subject_kind: str
    subject_id: int
    name: str
    site_id: int
    site_name: str
    window_id: int | None  # a person's window; a window's own id
    eligible: bool
    bars: tuple[Bar, ...]
    parts: Parts
    score: float | None  # None when not eligible
    rank: int | None
    leader_votes: int
    citizen_votes: int | None  # imported votes; None when the citizens' part came from the rating pads
    selection_id: int | None = None


@dataclass(frozen=True)
class QuarterRanking:
    quarter: str
    start: date
    end: date
    site_id: int
    site_name: str
    ended: bool
    weights: Weights
    ballots: int  # duty leaders' ballots cast in the jurisdiction
    citizen_source: str  # "import" | "ratings" | "none"
    windows: list[Candidate] = field(default_factory=list)
    staff: list[Candidate] = field(default_factory=list)


def weights_of(settings: AwardsSettings) -> Weights:
    return Weights(settings.weight_window, settings.weight_staff, settings.weight_leader, settings.weight_citizen)


def jurisdiction(session: Session, actor: Principal, site_id: int | None) -> Site:
    """The site a manager or officer asked for (their own when none), inside their jurisdiction."""
    if site_id is None and actor.site_id is None:  # the system: the top of the tree
        top = session.exec(select(Site).where(col(Site.depth) == 0).order_by(col(Site.id))).first()
        if top is None:
            raise NotFound("error.not_found_kind", kind="kind.site", id="-")
        return top
    return check_site(session, actor, site_id if site_id is not None else actor.site_id)


def _mean(values: list[float]) -> float | None:
    return clamp100(sum(values) / len(values)) if values else None


def _share(counts: tuple[int, int] | None) -> float | None:
    if counts is None or counts[1] <= 0:
        return None
    return 100.0 * counts[0] / counts[1]


def ranking(session: Session, *, actor: Principal, quarter: str, site_id: int | None = None,
            today: date, rating_counts: RatingCounts | None = None,
            settings: AwardsSettings | None = None) -> QuarterRanking:
    """Every window and person of the jurisdiction for the quarter, eligible ones ranked by weighted score."""
    actor.require(Permission.SCORING_READ)
    settings = settings or get_awards_settings()
    year, number = parse_quarter(quarter)
    key = quarter_key(year, number)
    start, end = quarter_bounds(year, number)
    site = jurisdiction(session, actor, site_id)
    sites = {s.id: s for s in session.exec(select(Site).where(col(Site.path).startswith(site.path, autoescape=True)))}
    site_ids = [i for i in sites if i is not None]
    windows = session.exec(select(Window).where(col(Window.site_id).in_(site_ids)).order_by(col(Window.id))).all()
    people = session.exec(select(Staff).where(col(Staff.site_id).in_(site_ids), col(Staff.active).is_(True),
                                              col(Staff.window_id).is_not(None)).order_by(col(Staff.id))).all()
    window_ids = [w.id for w in windows if w.id is not None]
    staff_ids = [p.id for p in people if p.id is not None]
    staff_bars, window_bars = bars(session, start=start, end=end, staff_ids=staff_ids, window_ids=window_ids,
                                   settings=settings)
    at_window: dict[int, list[int]] = defaultdict(list)
    for person in people:
        assert person.id is not None and person.window_id is not None
        at_window[person.window_id].append(person.id)
    finals = monthly_finals(session, months=quarter_months(year, number), site_path=site.path, site_ids=site_ids)
    # Duty leaders' ballots of the jurisdiction: the leader part is the share of them that ticked a candidate.
    cast = session.exec(select(LeaderBallotCast.leader_id).where(
        col(LeaderBallotCast.quarter) == key, col(LeaderBallotCast.site_id).in_(site_ids))).all()
    ballots = len(set(cast))
    ticks: dict[tuple[str, int], int] = defaultdict(int)
    if ballots:
        for kind, subject in session.exec(select(LeaderBallot.subject_kind, LeaderBallot.subject_id).where(
                col(LeaderBallot.quarter) == key, col(LeaderBallot.leader_id).in_(list(set(cast))))).all():
            ticks[(kind, subject)] += 1
    imported = {(v.subject_kind, v.subject_id): v.votes for v in session.exec(select(CitizenVote).where(
        col(CitizenVote.quarter) == key, col(CitizenVote.site_id).in_(site_ids))).all()}
    top_votes = {kind: max((n for (k, _), n in imported.items() if k == kind), default=0) for kind in SubjectKind}
    window_ratings: dict[int, tuple[int, int]] = {}
    staff_ratings: dict[int, tuple[int, int]] = {}
    source = "import" if imported else "none"
    if not imported and rating_counts is not None:
        window_ratings, staff_ratings = rating_counts(session, start, end, window_ids, staff_ids)
        source = "ratings"
    selected = {(s.subject_kind, s.subject_id): s.id for s in session.exec(select(AwardSelection).where(
        col(AwardSelection.quarter) == key, col(AwardSelection.site_id).in_(site_ids))).all()}
    weights = weights_of(settings)

    def citizen(kind: str, subject: int, ratings: dict[int, tuple[int, int]]) -> tuple[float | None, int | None]:
        if source == "import":
            votes = imported.get((kind, subject), 0)
            return (100.0 * votes / top_votes[SubjectKind(kind)] if top_votes[SubjectKind(kind)] else 0.0), votes
        return _share(ratings.get(subject)), None

    def leader(kind: str, subject: int) -> float | None:
        return 100.0 * ticks[(kind, subject)] / ballots if ballots else None

    def candidate(kind: str, subject: int, name: str, site_id: int, window_id: int | None, barred: list[Bar],
                  parts: Parts, citizen_votes: int | None) -> Candidate:
        eligible = not barred
        return Candidate(kind, subject, name, site_id, sites[site_id].name if site_id in sites else "", window_id,
                         eligible, tuple(barred), parts, weighted_score(parts, weights) if eligible else None, None,
                         ticks[(kind, subject)], citizen_votes, selected.get((kind, subject)))

    window_rows: list[Candidate] = []
    for window in windows:
        assert window.id is not None
        own = finals.get(("window", window.id), [])
        theirs = [v for person in at_window[window.id] for v in finals.get(("staff", person), [])]
        barred = sorted(window_bars.get(window.id, []) + [b for person in at_window[window.id]
                                                           for b in staff_bars.get(person, [])],
                        key=lambda b: (b.day, b.entry_id))
        unique = list({b.entry_id: b for b in barred}.values())
        share, votes = citizen("window", window.id, window_ratings)
        window_rows.append(candidate("window", window.id, window.name, window.site_id, window.id, unique,
                                     Parts(_mean(own), _mean(theirs), leader("window", window.id), share), votes))
    staff_rows: list[Candidate] = []
    for person in people:
        assert person.id is not None
        share, votes = citizen("staff", person.id, staff_ratings)
        window_scores = finals.get(("window", person.window_id or 0), [])
        staff_rows.append(candidate("staff", person.id, person.name, person.site_id, person.window_id,
                                    staff_bars.get(person.id, []),
                                    Parts(_mean(window_scores), _mean(finals.get(("staff", person.id), [])),
                                          leader("staff", person.id), share), votes))
    return QuarterRanking(key, start, end, site.id or 0, site.name, end < today, weights, ballots, source,
                          _ranked(window_rows), _ranked(staff_rows))


def _ranked(rows: list[Candidate]) -> list[Candidate]:
    ranks = competition_ranks([r.score for r in rows])
    ranked = [replace(row, rank=rank) for row, rank in zip(rows, ranks, strict=True)]
    return sorted(ranked, key=lambda r: (r.rank is None, r.rank or 0, r.name, r.subject_id))
