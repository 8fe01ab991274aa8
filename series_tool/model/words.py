"""Whole-word matching of C identifiers in text, with `git grep -w`'s boundaries.

One definition for the three places that need it (git grep's Python twin for files
that differ from HEAD, locating occurrences for classification, checking grep lines):
a word is bounded by characters outside [A-Za-z0-9_].
"""

from __future__ import annotations

import re
from collections.abc import Collection
from functools import lru_cache


def _alternatives(symbols: Collection[str]) -> list[str]:
    # Longest first, so "foo_bar" is tried before its prefix "foo" (the lookarounds would
    # reject the prefix anyway; this only saves backtracking).
    return sorted(set(symbols), key=lambda s: (-len(s), s))


def alternation(symbols: Collection[str]) -> str:
    """`sym1|sym2|...`, escaped, longest first (also what git grep -P gets)."""
    return "|".join(re.escape(s) for s in _alternatives(symbols))


# The boundary before a word is checked by a lookbehind placed after the literal
# (`sym(?<![A-Za-z0-9_]sym)`), not before it: a pattern that starts with a literal is
# scanned for at C speed, one that starts with a lookbehind is tried at every byte (25x
# slower on 40 MB of kernel C). Same matches: the lookbehind still looks at the byte
# before the word, and a word can never overlap a match that starts inside another word.


def word_pattern(symbols: Collection[str]) -> re.Pattern[str]:
    """A regex matching any of `symbols` as a whole word in text."""
    alts = "|".join(
        f"{re.escape(s)}(?<![A-Za-z0-9_]{re.escape(s)})" for s in _alternatives(symbols)
    )
    return re.compile(rf"(?:{alts})(?![A-Za-z0-9_])")


def word_pattern_bytes(symbols: Collection[str]) -> re.Pattern[bytes]:
    """The same for bytes (file contents encoded with surrogateescape)."""
    return _word_pattern_as_given(tuple(symbols))


@lru_cache(maxsize=256)
def _word_pattern_as_given(symbols: tuple[str, ...]) -> re.Pattern[bytes]:
    # Asked tens of thousands of times with the same few names (every window and small
    # source of a tree-wide API's callers): not even the longest-first sort is redone.
    return _word_pattern_bytes(tuple(_alternatives(symbols)))


@lru_cache(maxsize=256)
def _word_pattern_bytes(alternatives: tuple[str, ...]) -> re.Pattern[bytes]:
    # Built once per symbol set: it is asked for every file and every window of a
    # tree-wide API's callers, and building the pattern costs more than a small search.
    escaped = [re.escape(s.encode("utf-8", "surrogateescape")) for s in alternatives]
    alts = b"|".join(e + rb"(?<![A-Za-z0-9_]" + e + rb")" for e in escaped)
    return re.compile(rb"(?:" + alts + rb")(?![A-Za-z0-9_])")


@lru_cache(maxsize=1024)
def _one_word(symbol: str) -> re.Pattern[str]:
    # Compiled once per symbol: has_word is asked per grep line (kzalloc: 60,000 times),
    # and building the pattern text costs ten times the search.
    return word_pattern([symbol])


def has_word(symbol: str, text: str) -> bool:
    """Whether `symbol` occurs in `text` as a whole word."""
    return symbol in text and _one_word(symbol).search(text) is not None
