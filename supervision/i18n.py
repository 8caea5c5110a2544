"""The translation layer: every user-visible text has zh-CN first and English second."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

logger = logging.getLogger(__name__)

LOCALES = ("zh-CN", "en")
_catalog: dict[str, tuple[str, str]] = {}


def add_messages(messages: Mapping[str, tuple[str, str]]) -> None:
    """Register `key -> (zh-CN, English)` texts; packages call this at import."""
    for key, pair in messages.items():
        if key in _catalog and _catalog[key] != pair:
            raise ValueError(f"message {key!r} registered twice with different texts")
        _catalog[key] = pair


def has_message(key: str) -> bool:
    return key in _catalog


def translate(key: str, locale: str = "zh-CN", /, **params: Any) -> str:
    """Return the text for `key` in `locale`, formatted with `params`."""
    pair = _catalog.get(key)
    if pair is None:
        logger.warning("untranslated message key %s", key)
        text = key
    else:
        text = pair[1] if locale == "en" else pair[0]
    if params:
        try:
            return text.format(**{k: _localise(v, locale) for k, v in params.items()})
        except (KeyError, IndexError):
            logger.warning("message %s lacks a parameter in %s", key, params)
    return text


def _localise(value: Any, locale: str) -> Any:
    if isinstance(value, str) and value in _catalog:
        return translate(value, locale)
    return value


def catalog_keys() -> list[str]:
    return sorted(_catalog)
