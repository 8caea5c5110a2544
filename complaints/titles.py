"""An order's title derived from what the caller said: pure, no I/O."""

from __future__ import annotations

TITLE_LIMIT = 60
SENTENCE_ENDS = "。！？；.!?;"
CLAUSE_BREAKS = "，、,：:"
ELLIPSIS = "…"


def derive_title(text: str, limit: int = TITLE_LIMIT) -> str:
    """The first words of `text`, never cut in the middle of a sentence.

    Within the limit, cut after the last sentence end (。！？；.!?;); failing that, at the last clause
    comma (the comma dropped, an ellipsis added); failing that, at the limit with an ellipsis.
    """
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    head = text[:limit]
    end = max((i for i, ch in enumerate(head) if _ends_sentence(text, i, ch)), default=-1)
    if end > 0:
        return head[: end + 1]
    clause = max(head.rfind(mark) for mark in CLAUSE_BREAKS)
    if clause > 0:
        return head[:clause].rstrip() + ELLIPSIS
    return text[: limit - 1] + ELLIPSIS


def _ends_sentence(text: str, i: int, ch: str) -> bool:
    if ch not in SENTENCE_ENDS:
        return False
    # A full-width mark always ends a sentence; an ASCII one only before a space ("3.5 天" is one sentence).
    return not ch.isascii() or i + 1 >= len(text) or text[i + 1].isspace()
