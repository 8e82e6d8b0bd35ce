"""Globs as EMPIAR's file patterns use them: ``*`` and ``?`` never cross ``/``.

One engine for both directions: ``scan`` writes patterns (:mod:`empiar_validate.scan.patterns`)
and ``check`` matches the patterns a header gives against the files (:mod:`scan.drift`). A
pattern comes from an untrusted XML, so matching is linear-time whatever it holds.
"""

from __future__ import annotations

import functools
import re


def glob_escape(text: str) -> str:
    """Escape glob metacharacters so a literal name matches only itself."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)


MAX_REGEX_STARS = 2  # per component; more (a hostile XML) use the linear-time matcher


def glob_match(pattern: str, path: str) -> bool:
    """Match a relative path against a glob whose ``*`` and ``?`` never cross ``/``.

    Usual globs go through one compiled regex; a component with many stars could make a
    backtracking regex take exponential time, so those are matched in linear time instead."""
    if _regex_safe(pattern):
        return _glob_regex(pattern).match(path) is not None
    parts, names = pattern.split("/"), path.split("/")
    return len(parts) == len(names) and all(
        _linear_match(_tokens(p), n) for p, n in zip(parts, names, strict=True)
    )


@functools.lru_cache(maxsize=256)
def _regex_safe(pattern: str) -> bool:
    return all(part.count("*") <= MAX_REGEX_STARS for part in pattern.split("/"))


@functools.lru_cache(maxsize=64)
def _tokens(pattern: str) -> tuple[tuple[str, str], ...]:
    """A glob component as tokens: ("*", ""), ("?", ""), ("[", class regex) or ("=", char)."""
    out: list[tuple[str, str]] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        i += 1
        if c == "*":
            if not out or out[-1][0] != "*":
                out.append(("*", ""))
        elif c == "?":
            out.append(("?", ""))
        elif c == "[" and (end := pattern.find("]", i + 1 if i < n and pattern[i] in "!]"
                                               else i)) >= 0:
            out.append(("[", _glob_regex(pattern[i - 1:end + 1]).pattern[:-2]))
            i = end + 1
        else:
            out.append(("=", c))
    return tuple(out)


def _linear_match(tokens: tuple[tuple[str, str], ...], text: str) -> bool:
    """Wildcard matching in O(len(tokens) * len(text)): backtrack only to the last star."""
    t = s = 0
    star, mark = -1, 0
    while s < len(text):
        if t < len(tokens) and tokens[t][0] != "*" and _one(tokens[t], text[s]):
            t, s = t + 1, s + 1
        elif t < len(tokens) and tokens[t][0] == "*":
            star, mark, t = t, s, t + 1
        elif star >= 0:
            mark += 1
            t, s = star + 1, mark
        else:
            return False
    while t < len(tokens) and tokens[t][0] == "*":
        t += 1
    return t == len(tokens)


def _one(token: tuple[str, str], ch: str) -> bool:
    kind, value = token
    if kind == "?":
        return True
    if kind == "=":
        return ch == value
    return re.fullmatch(value, ch) is not None


@functools.lru_cache(maxsize=256)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """The glob as one regex: ``*`` -> ``[^/]*``, ``?`` -> ``[^/]``, ``[...]`` kept."""
    out, i, n = [], 0, len(pattern)
    while i < n:
        c = pattern[i]
        i += 1
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = pattern.find("]", i + 1 if i < n and pattern[i] in "!]" else i)
            if end < 0:
                out.append("\\[")
                continue
            body = pattern[i:end].replace("\\", "\\\\").replace("[", "\\[")
            if body.startswith("!"):
                body = "^" + body[1:]
            elif body.startswith("^"):
                body = "\\" + body
            out.append(f"[{body}]")
            i = end + 1
        else:
            out.append(re.escape(c))
    return re.compile("".join(out) + r"\Z", re.DOTALL)
