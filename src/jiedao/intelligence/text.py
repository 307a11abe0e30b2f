"""Small text helpers for Chinese free text: normalising, character n-grams, similarity."""

import math
import re
from collections import Counter

_SPACE = re.compile(r"\s+")
_DIGITS = re.compile(r"\d+")
_PUNCT = re.compile(r"[\s，。！？、；：“”‘’（）()《》【】,.!?;:\"'\-—…·~/]+")


def normalise(text: str) -> str:
    """Lower case, runs of digits as one 0, no whitespace: what the models read."""
    text = _SPACE.sub("", str(text or "")).lower()
    return _DIGITS.sub("0", text)


def bigrams(text: str) -> Counter:
    """Character bigrams of each punctuation-free run (single characters for one-character runs)."""
    grams = Counter()
    for run in _PUNCT.split(normalise(text)):
        if len(run) == 1:
            grams[run] += 1
        for i in range(len(run) - 1):
            grams[run[i : i + 2]] += 1
    return grams


def cosine(a: Counter, b: Counter) -> float:
    if not a or not b:
        return 0.0
    if len(a) > len(b):
        a, b = b, a
    dot = sum(count * b.get(gram, 0) for gram, count in a.items())
    if not dot:
        return 0.0
    return dot / (math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values())))


def similarity(a: str, b: str) -> float:
    """Cosine similarity of the two texts' character bigrams, 0..1."""
    return cosine(bigrams(a), bigrams(b))


def distance_m(lat1, lng1, lat2, lng2) -> float:
    """Great-circle distance in metres (haversine)."""
    r = 6371000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(min(1.0, math.sqrt(h)))


STOP = set("的了在是我有和就不人都一上也很到说要去你会着没看好自己这那们请反映问题希望相关部门处理解决情况目前")


def _grams(text, length):
    grams = set()
    for run in _PUNCT.split(normalise(text)):
        for i in range(len(run) - length + 1):
            gram = run[i : i + length]
            if gram[0] in STOP or gram[-1] in STOP or "0" in gram or "号楼" in gram:
                continue
            grams.add(gram)
    return grams


def key_phrase(texts, background=(), lengths=(4, 5, 6), top=1, avoid=""):
    """The phrases (character n-grams of the given ``lengths``) that best tell ``texts`` apart
    from ``background`` (other texts of the same place): the share of texts containing it minus
    its share in the background, longer phrases first among equals. Phrases overlapping
    ``avoid`` (e.g. the place's name) are skipped."""
    texts, background = list(texts), list(background)
    avoid_grams = {avoid[i : i + 2] for i in range(len(avoid) - 1)}
    scored = []
    for length in lengths:
        seen = Counter()
        for text in texts:
            seen.update(_grams(text, length))
        base = Counter()
        for text in background:
            base.update(_grams(text, length))
        for gram, count in seen.items():
            if count < 2 and len(texts) >= 2:
                continue
            if any(gram[i : i + 2] in avoid_grams for i in range(len(gram) - 1)):
                continue
            share = count / len(texts) - (base[gram] / len(background) if background else 0.0)
            scored.append((round(share, 6), length, gram))
    scored.sort(reverse=True)
    return [gram for _share, _length, gram in scored[:top]]
