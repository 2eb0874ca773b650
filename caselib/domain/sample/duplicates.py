"""Planted near-duplicates: tips whose text is a copy of another tip's of the same object.

Only with ``generate_campaign(..., near_duplicates=share)``; without it nothing here runs and
the files are those of before. The drawn texts (an opener, a middle and a closer from short
lists) repeat so often that most tips of an object would share their text with others, and
measuring near-duplicate clustering on them would measure the lists. So a campaign with
planted near-duplicates first gives every valid tip that has a text a text of its own, in
the tipster's words: 3 to 20 words drawn from a vocabulary, sometimes after one of the usual
openers and before one of the usual closers (distinct tips share little). Then ``share`` of
those tips become copies of another tip of the same object, each copy changed one way:

- ``exact``: the same text (pasted into the web form and an e-mail);
- ``case_punctuation``: other case, punctuation or white space;
- ``word_added``, ``word_dropped``, ``misspelt``: one word added, dropped (texts of 6
  words or more) or misspelt, sometimes with a change of case too.

A text of fewer than 4 words is only copied ``exact`` or ``case_punctuation``. Several
copies may have the same source: the truth's pairs are every two tips of one source and its
copies. Everything is drawn from its own generator, seeded from the campaign's seed, so the
rest of the campaign is the same with or without planting.
"""

from __future__ import annotations

import itertools

import numpy as np

from caselib.domain.sample.drawing import _CLOSERS, _MIDDLES, _OPENERS

KINDS = ("exact", "case_punctuation", "word_added", "word_dropped", "misspelt")
_KIND_P = (0.15, 0.25, 0.2, 0.2, 0.2)
_SHORT_WORDS = 4  # a text of fewer words is only copied exactly or with case and punctuation

_WORDS = """
    label wrapper soap towel hotel bottle cap logo shirt bag box tin jar lid sticker print
    pattern stripe flower leaf star circle square letter number barcode brand font colour blue
    green red yellow white black orange purple pink grey brown golden silver pale dark bright
    faded plastic paper cotton glass metal wooden rubber soft hard small large tiny round thin
    thick shiny matte old new cheap local imported market shop kiosk supermarket pharmacy
    bakery station airport bazaar mall street corner village town city coast mountain island
    river lake harbour beach camp school church office factory warehouse kitchen bathroom
    bedroom garden balcony window door shelf counter basket drawer cupboard mirror curtain
    carpet blanket pillow mattress lamp clock radio phone camera poster calendar magazine
    newspaper receipt ticket coupon voucher price discount offer sale pack dozen pair set
    grandmother uncle cousin neighbour colleague teacher driver baker seller owner friend
    brother sister mother father holiday summer winter spring autumn weekend morning evening
    night christmas easter festival wedding birthday trip journey visit stay move childhood
    bought sold saw found used kept noticed remember recognise seen wore carried washed hung
    ordered gave took brought packed opened closed stocked imported exported printed stitched
    sewn painted stamped engraved woven knitted folded wrapped tied sealed torn broken mended
    always often sometimes rarely once twice every each many few several most some
    exactly nearly almost roughly probably certainly clearly mostly mainly partly
"""
_VOCABULARY = tuple(dict.fromkeys(_WORDS.split()))
_FILLERS = ("really", "also", "definitely", "probably", "maybe", "just", "still", "actually", "very", "there")
_NEIGHBOUR_KEYS = dict(zip("abcdefghijklmnopqrstuvwxyz", "sqxsrdfgujlkmbipwtaynvcyut"))


def _words(text: str) -> list[str]:
    return [token for token in text.split() if any(c.isalnum() for c in token)]


def _spellable(token: str) -> bool:
    """A word of 4 letters or more, perhaps with a full stop or comma after it."""
    word = token.rstrip(".,")
    return len(word) >= 4 and word.isascii() and word.isalpha()


def _free_texts(rng, n: int) -> list[str]:
    """``n`` texts in a tipster's words, distinct from each other but for chance."""
    short = rng.random(n) < 0.05
    length = np.where(short, 3, rng.integers(4, 21, n))
    vocabulary = np.array(_VOCABULARY, dtype=object)
    drawn = vocabulary[rng.integers(0, len(_VOCABULARY), int(length.sum()))]
    ends = np.cumsum(length)
    opener = np.where(~short & (rng.random(n) < 0.25), rng.integers(0, len(_OPENERS), n), -1)
    closers = [c for c in _CLOSERS if c]
    closer = np.where(~short & (rng.random(n) < 0.2), rng.integers(0, len(closers), n), -1)
    texts = []
    start = 0
    for i in range(n):
        body = " ".join(drawn[start : ends[i]])
        start = ends[i]
        body = body[0].upper() + body[1:] + "."
        pieces = [_OPENERS[opener[i]]] if opener[i] >= 0 else []
        pieces.append(body)
        if closer[i] >= 0:
            pieces.append(closers[closer[i]])
        texts.append(" ".join(pieces))
    return texts


def _case_punctuation(rng, text: str) -> str:
    way = int(rng.integers(0, 6))
    if way == 0:
        return text.upper()
    if way == 1:
        return text.lower()
    if way == 2:
        return "".join(c for c in text if c.isalnum() or c.isspace())
    if way == 3:
        return text.rstrip(".") + "!!"
    if way == 4:
        return "  " + text.replace(" ", "  ", 2)
    return text.replace(". ", ".\n", 1).replace(" ", ", ", 1)


def _misspell(rng, word: str) -> str:
    i = int(rng.integers(1, len(word) - 1))
    way = int(rng.integers(0, 4))
    if way == 0:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if way == 1:
        return word[:i] + word[i + 1 :]
    if way == 2:
        return word[:i] + word[i] + word[i:]
    return word[:i] + _NEIGHBOUR_KEYS.get(word[i].lower(), "e") + word[i + 1 :]


def _copy_text(rng, text: str, kind: str) -> str:
    """``text`` changed the way ``kind`` says."""
    if kind == "exact":
        return text
    if kind == "case_punctuation":
        return _case_punctuation(rng, text)
    tokens = text.split(" ")
    if kind == "word_added":
        tokens.insert(int(rng.integers(0, len(tokens) + 1)), _FILLERS[int(rng.integers(0, len(_FILLERS)))])
    elif kind == "word_dropped":
        wordy = [i for i, t in enumerate(tokens) if _words(t)]
        del tokens[wordy[int(rng.integers(0, len(wordy)))]]
    else:
        long = [i for i, t in enumerate(tokens) if _spellable(t)]
        at = long[int(rng.integers(0, len(long)))]
        word = tokens[at].rstrip(".,")
        tokens[at] = _misspell(rng, word) + tokens[at][len(word) :]
    changed = " ".join(tokens)
    return changed.lower() if rng.random() < 0.3 else changed


def _plant_near_duplicates(seed: int, core: dict, share: float, n_template_texts: int) -> tuple[list[str], dict]:
    """Give the valid tips of ``core`` (before the mess) texts of their own and make
    ``share`` of them copies; the new text codes follow the ``n_template_texts`` drawn ones.

    Returns the new texts (code ``n_template_texts + j`` is text ``j``) and the copies:
    ``copy``, ``source`` (row indexes into ``core``) and ``kind`` (indexes into `KINDS`).
    """
    rng = np.random.default_rng([seed, 14])
    texted = np.flatnonzero(core["text"] > 0)
    texts = _free_texts(rng, len(texted))
    copy = texted[rng.random(len(texted)) < share]
    is_copy = np.zeros(len(core["text"]), dtype=bool)
    is_copy[copy] = True
    sources = texted[~is_copy[texted]]
    by_object = sources[np.argsort(core["obj"][sources], kind="stable")]
    objects = core["obj"][by_object]
    first = np.searchsorted(objects, core["obj"][copy], side="left")
    count = np.searchsorted(objects, core["obj"][copy], side="right") - first
    has_source = count > 0
    copy, first, count = copy[has_source], first[has_source], count[has_source]
    source = by_object[first + (rng.random(len(copy)) * count).astype(np.int64)]
    kind = rng.choice(len(KINDS), size=len(copy), p=_KIND_P)
    position = np.full(len(core["text"]), -1, dtype=np.int64)
    position[texted] = np.arange(len(texted))
    for j in range(len(copy)):
        original = texts[position[source[j]]]
        words = len(_words(original))
        name = KINDS[kind[j]]
        if words < _SHORT_WORDS and name not in ("exact", "case_punctuation"):
            kind[j], name = 1, "case_punctuation"
        elif name == "word_dropped" and words < 6:
            kind[j], name = 2, "word_added"
        elif name == "misspelt" and not any(_spellable(t) for t in original.split(" ")):
            kind[j], name = 2, "word_added"
        texts[position[copy[j]]] = _copy_text(rng, original, name)
    core["text"][texted] = n_template_texts + np.arange(len(texted), dtype=core["text"].dtype)
    return texts, {"copy": copy, "source": source, "kind": kind}


def n_template_texts(n_countries: int) -> int:
    """How many texts the drawn text codes point at (before the special ones)."""
    return (len(_OPENERS) + 1) * (len(_MIDDLES) * n_countries + 1) * len(_CLOSERS)


def _near_duplicate_truth(share: float, planted: dict, core: dict, specials, tip_id) -> dict:
    """truth.json's ``near_duplicates``: each copy's tip id -> its source's and its kind.

    Copies or sources whose text the mess replaced (the script and formula texts) are left
    out."""
    special = set(int(i) for i in specials)
    copies = {}
    kinds = dict.fromkeys(KINDS, 0)
    for c, s, k in zip(planted["copy"], planted["source"], planted["kind"]):
        if int(c) in special or int(s) in special:
            continue
        copies[tip_id(int(core["tip_num"][c]))] = {"of": tip_id(int(core["tip_num"][s])), "kind": KINDS[k]}
        kinds[KINDS[k]] += 1
    return {"share": share, "copies": dict(sorted(copies.items())), "kinds": kinds}


def planted_pairs(near_duplicates: dict) -> set[tuple[str, str]]:
    """Every pair of tips the builder planted as copies of one another (``truth.json``'s
    ``near_duplicates``): a tip and each of its copies, and the copies among themselves."""
    groups: dict[str, set[str]] = {}
    for copy, entry in near_duplicates["copies"].items():
        groups.setdefault(entry["of"], {entry["of"]}).add(copy)
    return {pair for group in groups.values() for pair in itertools.combinations(sorted(group), 2)}


def pairwise_quality(found: set, planted: set) -> tuple[float, float]:
    """(precision, recall) of the pairs ``found`` against the pairs ``planted``."""
    hits = len(found & planted)
    return hits / max(len(found), 1), hits / max(len(planted), 1)
