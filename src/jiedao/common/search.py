"""One search for everything people look up by typing everyday words: categories at intake and
classification, the service hall's catalogue, the responsibility list.

Chinese has no spaces, so text is compared by character pairs (bigrams). A query becomes
*concepts*: each typed segment, and each word of the search vocabulary (同义词, edited by an
administrator) found in the query together with the formal terms it stands for (垃圾 → 环境卫生,
固体污染). A document (a category, a catalogue item, a duty) scores, for each concept, the best
match of any of its alternatives in any of its fields, weighted by the field; the concepts' scores
are averaged. A pair counts by how rare it is among the documents (IDF), and pairs no document
holds ("有人", "了没") say nothing. The same on SQLite and PostgreSQL: all in Python, over at most
a few thousand short documents.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# Weight of a vocabulary word's formal terms against the word itself.
SYNONYM_WEIGHT = 0.9
# Weight of a partial match (some of a term's pairs) against the whole term found.
PARTIAL_WEIGHT = 0.8
# A document below this score is not a match, nor one below this share of the best score (a
# document found only through a formal term's weak echo, beside one named by the very word).
THRESHOLD = 0.3
RELATIVE = 0.5

_SPLIT = re.compile(r"[\s,，、;；。.!！?？/／|｜:：()（）\[\]【】\"'“”‘’<>《》]+")


def normalize(text: str | None) -> str:
    """Full-width letters and digits to half-width, lower case, spaces trimmed."""
    return unicodedata.normalize("NFKC", text or "").lower().strip()


def segments(text: str | None) -> list[str]:
    """The pieces of a query between spaces and punctuation."""
    return [s for s in _SPLIT.split(normalize(text)) if s]


def pairs(text: str) -> set[str]:
    """Character pairs of a text (a one-character text is its own pair)."""
    if len(text) <= 1:
        return {text} if text else set()
    return {text[i : i + 2] for i in range(len(text) - 1)}


@dataclass(frozen=True)
class Doc:
    """Something to be found: ``fields`` are (text, weight) pairs, the name weighing most."""

    key: Any
    fields: tuple[tuple[str, float], ...]
    payload: Any = None

    @property
    def text(self) -> str:
        return " ".join(text for text, _w in self.fields)


def doc(key: Any, fields: Iterable[tuple[str | None, float]], payload: Any = None) -> Doc:
    """A document with its fields normalized; empty fields dropped."""
    return Doc(key, tuple((normalize(t), w) for t, w in fields if t and normalize(t)), payload)


@dataclass
class Query:
    """A typed query and the concepts it stands for, given the vocabulary."""

    text: str
    concepts: list[tuple[tuple[str, float], ...]] = field(default_factory=list)
    words: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.concepts


def parse(text: str | None, vocabulary: Mapping[str, Sequence[str]] | None = None) -> Query:
    """The concepts of ``text``: each segment (with the formal terms of the vocabulary word it
    equals), then each vocabulary word found inside a longer segment, with its terms."""
    vocabulary = vocabulary or {}
    query = Query(normalize(text))
    seen: set[str] = set()
    for segment in segments(text):
        alternatives = [(segment, 1.0), *((t, SYNONYM_WEIGHT) for t in vocabulary.get(segment, ()))]
        query.concepts.append(tuple(alternatives))
        if segment in vocabulary:
            seen.add(segment)
            query.words.append(segment)
    # Longest words first, so that 违章建筑 is used rather than 建筑 inside it.
    for word in sorted(vocabulary, key=len, reverse=True):
        if word in seen or word not in query.text:
            continue
        if any(word in other for other in seen):
            continue
        seen.add(word)
        query.words.append(word)
        query.concepts.append(((word, 1.0), *((t, SYNONYM_WEIGHT) for t in vocabulary[word])))
    return query


def _match(term: str, text: str, weights: Mapping[str, float]) -> float:
    """How well ``term`` is found in a field: whole (1), with the field the term itself (1.2),
    the field's whole text inside the term (0.9), or by the share of its informative pairs."""
    if not term or not text:
        return 0.0
    if term == text:
        return 1.2
    if term in text:
        return 1.0
    if len(text) >= 2 and text in term:
        return 0.9
    grams = [g for g in pairs(term) if g in weights]
    total = sum(weights[g] for g in grams)
    if not total:
        return 0.0
    found = sum(weights[g] for g in grams if g in text)
    return PARTIAL_WEIGHT * found / total


def rank(
    query: Query, docs: Sequence[Doc], threshold: float = THRESHOLD, relative: float = RELATIVE
) -> list[tuple[float, Doc]]:
    """Documents matching the query with their scores, best first (ties keep the given order)."""
    if query.empty or not docs:
        return []
    texts = [d.text for d in docs]
    grams = set()
    for concept in query.concepts:
        for term, _w in concept:
            grams |= pairs(term)
    weights = {}
    for g in grams:
        frequency = sum(1 for t in texts if g in t)
        if frequency:
            weights[g] = math.log(1 + len(docs) / frequency)
    scored = []
    for position, d in enumerate(docs):
        total = 0.0
        for concept in query.concepts:
            total += max(
                (w * fw * _match(term, text, weights) for term, w in concept for text, fw in d.fields),
                default=0.0,
            )
        score = total / len(query.concepts)
        if score >= threshold:
            scored.append((score, position, d))
    scored.sort(key=lambda item: (-item[0], item[1]))
    best = scored[0][0] if scored else 0.0
    return [(score, d) for score, _p, d in scored if score >= relative * best]
