"""ts_headline: an excerpt of a document with the query's words marked, as PostgreSQL's.

The document is split into the parser's tokens; a token whose lexeme is a query operand
is a query word. The default generator (MaxFragments=0) looks at each cover - the
earliest shortest run of tokens satisfying the query - widens or trims it towards
MinWords..MaxWords words, preferring runs that keep the whole cover, then more query
words, then a good end (not a short word or number), and prints it with the query words
between StartSel and StopSel. With MaxFragments=n the covers are cut into fragments of
at most MaxWords words and the n best (most query words, then fewest words) are
stretched and printed, FragmentDelimiter between them. Tags print as a space; a
hyphenated word or a URL prints through its parts. HighlightAll marks the whole document.
Options as PostgreSQL's (``StartSel=<em>, MaxWords=20``).
"""
from __future__ import annotations

from .. import errors
from . import configs, match

_SKIP = frozenset(("url", "numhword", "asciihword", "hword"))
_NONWORD = _SKIP | {"blank", "tag"}
_NOEND = _NONWORD | {"sfloat", "version", "float", "int", "uint", "protocol", "entity"}


class _Word:
    __slots__ = ("kind", "text", "length", "pos", "item", "repeated", "selected", "inside",
                 "replace", "skip")

    def __init__(self, kind: str, text: str) -> None:
        self.kind = kind
        self.text = text
        self.length = len(text.encode("utf-8"))
        self.pos = 0
        self.item = None          # the index of the query operand it matches
        self.repeated = False
        self.selected = self.inside = self.replace = self.skip = False


def _options(text: str | None) -> dict:
    opts = {"startsel": "<b>", "stopsel": "</b>", "maxwords": 35, "minwords": 15,
            "shortword": 3, "highlightall": False, "maxfragments": 0,
            "fragmentdelimiter": " ... "}
    if not text:
        return opts
    for part in text.split(","):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        name, value = name.strip().lower(), value.strip().strip('"')
        if not sep or name not in opts:
            raise errors.sql_error("22023", f'unrecognized headline parameter: "{name}"')
        if name in ("maxwords", "minwords", "shortword", "maxfragments"):
            try:
                opts[name] = int(value)
            except ValueError:
                raise errors.sql_error("22P02", f'invalid input syntax for type integer: '
                                                f'"{value}"') from None
        elif name == "highlightall":
            opts[name] = value.lower() in ("1", "on", "true", "t", "y", "yes")
        else:
            opts[name] = value
    if not opts["highlightall"]:
        if opts["minwords"] >= opts["maxwords"]:
            raise errors.sql_error("22023", 'MinWords should be less than MaxWords')
        if opts["minwords"] <= 0:
            raise errors.sql_error("22023", 'MinWords should be positive')
        if opts["shortword"] < 0:
            raise errors.sql_error("22023", 'ShortWord should be >= 0')
        if opts["maxfragments"] < 0:
            raise errors.sql_error("22023", 'MaxFragments should be >= 0')
    return opts


def _words(config: str, text: str, operands: list) -> list[_Word]:
    words: list[_Word] = []
    pos = 0
    for kind, token, lexemes in configs.token_lexemes(config, text):
        word = _Word(kind, token)
        words.append(word)
        if lexemes is None:
            continue
        pos += 1
        word.pos = pos
        for lex in lexemes:
            for idx, op in enumerate(operands):
                _, lexeme, _, prefix = op
                if lex == lexeme or (prefix and lex.startswith(lexeme)):
                    if word.item is None:
                        word.item = idx
                    else:
                        extra = _Word(kind, token)
                        extra.pos, extra.item, extra.repeated = pos, idx, True
                        words.append(extra)
    return words


def _satisfies(words: list[_Word], lo: int, hi: int, query, index_of: dict) -> bool:
    seen: dict[int, list] = {}
    for w in words[lo:hi + 1]:
        if w.item is not None:
            seen.setdefault(w.item, []).append(w.pos)
    return match.evaluate(query, lambda op: sorted(set(seen[index_of[id(op)]]))
                          if index_of[id(op)] in seen else None)


def _cover(words: list[_Word], query, index_of: dict, start: int, max_cover: int):
    """The earliest run from ``start`` satisfying the query, shortest for its start, both
    ends query words and at most ``max_cover`` words apart: (p, q) or None."""
    items = [i for i in range(start, len(words)) if words[i].item is not None]
    for a, pmin in enumerate(items):
        for pmax in items[a:]:
            if _satisfies(words, pmin, pmax, query, index_of):
                return pmin, pmax
            if pmax - pmin >= max_cover:
                break
    return None


def _interesting(w: _Word) -> bool:
    return w.item is not None and not w.repeated


def _bad_end(w: _Word, shortword: int) -> bool:
    """Not a word to end a headline at: a non-word, a number or a short word, unless it
    is a query word."""
    return (w.kind in _NOEND or w.length <= shortword) and not _interesting(w)


def _best_words(words: list[_Word], query, index_of: dict, opts: dict) -> tuple[int, int]:
    """The default generator (MaxFragments=0): the bounds of the best headline."""
    max_words, min_words, shortword = opts["maxwords"], opts["minwords"], opts["shortword"]
    n = len(words)
    bestb = beste = -1
    bestlen, bestcover = -1, False
    p = 0
    max_cover = max(max_words * 10, 100)
    while query is not None:
        found = _cover(words, query, index_of, p, max_cover)
        if found is None:
            break
        p, q = found
        curlen = poslen = 0
        posb = pose = p
        i = p
        while i <= q and curlen < max_words:
            if words[i].kind not in _NONWORD:
                curlen += 1
            if _interesting(words[i]):
                poslen += 1
            pose = i
            i += 1
        if curlen < max_words:
            i -= 1
            while i < n and curlen < max_words:
                if i > q:
                    if words[i].kind not in _NONWORD:
                        curlen += 1
                    if _interesting(words[i]):
                        poslen += 1
                pose = i
                if _bad_end(words[i], shortword):
                    i += 1
                    continue
                if curlen >= min_words:
                    break
                i += 1
            if curlen < min_words:
                i = p - 1
                while i >= 0:
                    if words[i].kind not in _NONWORD:
                        curlen += 1
                    if _interesting(words[i]):
                        poslen += 1
                    if curlen >= max_words:
                        break
                    if _bad_end(words[i], shortword):
                        i -= 1
                        continue
                    if curlen >= min_words:
                        break
                    i -= 1
                posb = max(i, 0)
        else:
            if i > q:
                i = q
            while curlen > min_words:
                if not _bad_end(words[i], shortword):
                    break
                if words[i].kind not in _NONWORD:
                    curlen -= 1
                if _interesting(words[i]):
                    poslen -= 1
                pose = i - 1
                i -= 1
        poscover = posb <= p and pose >= q
        if poscover > bestcover or (poscover == bestcover and poslen > bestlen) or (
                poscover == bestcover and poslen == bestlen and
                not _bad_end(words[pose], shortword) and
                _bad_end(words[beste], shortword)):
            bestb, beste, bestlen, bestcover = posb, pose, poslen, poscover
        p += 1
    if bestlen < 0:
        curlen = 0
        pose = 0
        i = 0
        while i < n and curlen < min_words:
            if words[i].kind not in _NONWORD:
                curlen += 1
            pose = i
            i += 1
        bestb, beste = 0, pose
    return bestb, beste


def _fragment_of(words: list[_Word], start: int, end: int, max_words: int) -> tuple:
    """The next fragment of a cover from ``start``: query words at both ends, at most
    ``max_words`` words: (start, end, words, query words)."""
    for i in range(start, end + 1):
        start = i
        if _interesting(words[i]):
            break
    curlen = poslen = 0
    i = start
    while i <= end and curlen < max_words:
        if words[i].kind not in _NONWORD:
            curlen += 1
        if _interesting(words[i]):
            poslen += 1
        i += 1
    if end > i:         # cut at max_words: end at the last query word before the cut
        end = i
        for i in range(end, start - 1, -1):
            end = i
            if _interesting(words[i]):
                break
            if words[i].kind not in _NONWORD:
                curlen -= 1
    return start, end, curlen, poslen


def _mark_fragments(words: list[_Word], query, index_of: dict, opts: dict) -> None:
    """MaxFragments > 0: the covers cut into fragments of at most MaxWords words, the
    best ones (most query words, then fewest words) marked, each stretched by up to half
    the words it lacks on either side, to good end points."""
    max_words, min_words, shortword = opts["maxwords"], opts["minwords"], opts["shortword"]
    n = len(words)
    max_cover = max(max_words * 10, 100) * opts["maxfragments"]
    covers = []          # [start, end, words, query words, chosen, excluded]
    p = 0
    while query is not None:
        found = _cover(words, query, index_of, p, max_cover)
        if found is None:
            break
        p, q = found
        start, end = p, q
        while start <= end:
            start, end, curlen, poslen = _fragment_of(words, start, end, max_words)
            covers.append([start, end, curlen, poslen, False, False])
            start, end = end + 1, q
        p += 1
    marked = 0
    for _ in range(opts["maxfragments"]):
        best, most, fewest = None, 0, None
        for k, c in enumerate(covers):
            if not c[4] and not c[5] and (most < c[3] or (most == c[3] and (
                    fewest is None or fewest > c[2]))):
                best, most, fewest = k, c[3], c[2]
        if best is None:
            break
        cover = covers[best]
        cover[4] = True
        start, end, curlen = cover[0], cover[1], cover[2]
        if curlen < max_words:
            most_stretch = (max_words - curlen) // 2
            stretch, marker = 0, start
            i = start - 1
            while i >= 0 and stretch < most_stretch and not words[i].inside:
                if words[i].kind not in _NONWORD:
                    curlen += 1
                    stretch += 1
                marker = i
                i -= 1
            i = marker
            while i < start and _bad_end(words[i], shortword):
                if words[i].kind not in _NONWORD:
                    curlen -= 1
                i += 1
            start = i
            marker = end
            i = end + 1
            while i < n and curlen < max_words and not words[i].inside:
                if words[i].kind not in _NONWORD:
                    curlen += 1
                marker = i
                i += 1
            i = marker
            while i > end and _bad_end(words[i], shortword):
                if words[i].kind not in _NONWORD:
                    curlen -= 1
                i -= 1
            end = i
        cover[0], cover[1], cover[2] = start, end, curlen
        _mark(words, opts["highlightall"], start, end)
        marked += 1
        for k, c in enumerate(covers):
            if k != best and ((start <= c[0] <= end) or (start <= c[1] <= end) or
                              (c[0] < start and c[1] > end)):
                c[5] = True
    if marked == 0:       # no cover: the first MinWords words
        curlen, end = 0, 0
        i = 0
        while i < n and curlen < min_words:
            if words[i].kind not in _NONWORD:
                curlen += 1
            end = i
            i += 1
        _mark(words, opts["highlightall"], 0, end)


def _mark(words: list[_Word], highlightall: bool, start: int, end: int) -> None:
    """Words start..end are in the headline: query words selected, tags replaced by a
    space, compound tokens (hyphenated words, URLs) skipped for their parts."""
    for i in range(start, end + 1) if words else ():
        w = words[i]
        if w.item is not None:
            w.selected = True
        if not highlightall:
            if w.kind == "tag":
                w.replace = True
            elif w.kind in _SKIP:
                w.skip = True
        elif w.kind in _SKIP:
            w.skip = True
        w.inside = not w.repeated


def headline(config: str, text: str, query, options: str | None = None) -> str:
    opts = _options(options)
    from . import tsquery as Q
    operands = Q.operands(query)
    index_of: dict = {}
    for idx, op in enumerate(operands):
        index_of.setdefault(id(op), idx)
    words = _words(config, text, operands)
    if opts["maxfragments"] > 0:
        _mark_fragments(words, query, index_of, opts)
    elif opts["highlightall"]:
        _mark(words, True, 0, len(words) - 1)
    else:
        _mark(words, False, *_best_words(words, query, index_of, opts))
    out = []
    fragments = 0
    in_fragment = False
    for w in words:
        if w.inside and not w.repeated:
            if not in_fragment:
                in_fragment = True
                fragments += 1
                if fragments > 1:
                    out.append(opts["fragmentdelimiter"])
            if w.replace:
                out.append(" ")
            elif not w.skip:
                out.append(opts["startsel"] + w.text + opts["stopsel"] if w.selected
                           else w.text)
        elif not w.repeated:
            in_fragment = False
    return "".join(out)
