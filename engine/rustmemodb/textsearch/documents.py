"""Text -> tsvector and text -> tsquery under a configuration, as PostgreSQL's.

to_tsvector numbers the document's lexemes (of a JSON document, its string values');
to_tsquery reads tsquery syntax and runs each operand through the configuration (an
operand giving several lexemes becomes their phrase, stop words become placeholders that
``tsquery.clean_stopwords`` removes, widening the phrase distances around them);
plainto_tsquery ANDs the text's lexemes, phraseto_tsquery chains them with <->,
websearch_to_tsquery reads a search-engine style query ("quoted phrase", ``or``, ``-``
for NOT, AND between words).
"""
from __future__ import annotations

from . import configs, tsquery as Q, tsvector as V


def to_tsvector(config: str, text: str) -> V.TsVector:
    entries: dict[str, set] = {}
    for pos, lex in configs.lexemes(configs.config_name(config), text):
        entries.setdefault(lex, set()).add((min(pos, V.MAX_POS), 0))
    return V.build(entries)


def json_to_tsvector(config: str, document) -> V.TsVector:
    """to_tsvector of a JSON document (parsed): its string values in document order, one
    position left empty after each value that gave lexemes (so no phrase spans two)."""
    cfg = configs.config_name(config)
    entries: dict[str, set] = {}
    pos = 0

    def strings(value):
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for v in value.values():
                yield from strings(v)
        elif isinstance(value, list):
            for v in value:
                yield from strings(v)

    for text in strings(document):
        found = configs.lexemes(cfg, text)
        for p, lex in found:
            entries.setdefault(lex, set()).add((min(pos + p, V.MAX_POS), 0))
        last = configs.positions_used(cfg, text)
        pos += last
        if found:
            pos += 1
    return V.build(entries)


def _morph(config: str, text: str, op: str, weights=frozenset(), prefix: bool = False):
    """One operand's subtree (pushval_morph): its lexemes joined by ``op`` ("and" or
    "phrase"), stop-word placeholders where stop words were; STOP when none is left."""
    words = configs.lexemes(config, text)
    if not words:
        return Q.STOP
    tree = None
    pos = 0

    def join(left, right):
        return ("phrase", left, right, 1) if op == "phrase" else ("and", left, right)

    for p, lex in words:
        if pos > 0 and pos + 1 < p:
            while pos + 1 < p:
                tree = join(tree, Q.STOP)
                pos += 1
        if p == pos and tree is not None:     # a second lexeme at one position: a variant
            tree = ("or", tree, Q.val(lex, weights, prefix))
            continue
        pos = p
        node = Q.val(lex, weights, prefix)
        tree = node if tree is None else join(tree, node)
    return tree


def _finish(tree):
    return Q.clean_stopwords(tree)


def to_tsquery(config: str, text: str):
    cfg = configs.config_name(config)
    toks = Q.tokens(text)
    if toks and all(t == "!" for t in toks):
        Q.parse(text)    # raises PostgreSQL's "no operand" error
    tree = Q.build_tree(toks, text, operand=lambda t: _morph(cfg, t[1], "phrase", t[2], t[3]))
    return _finish(tree)


def plainto_tsquery(config: str, text: str):
    return _finish(_morph(configs.config_name(config), text, "and"))


def phraseto_tsquery(config: str, text: str):
    return _finish(_morph(configs.config_name(config), text, "phrase"))


_WEB_SEPARATORS = "!&|()<:"


def websearch_to_tsquery(config: str, text: str):
    cfg = configs.config_name(config)
    items: list = []        # ("operand", negated, subtree) / ("or",)
    i, n = 0, len(text)
    negate = 0              # how many "-" precede the operand
    while i < n:
        c = text[i]
        if c.isspace() or c in _WEB_SEPARATORS:
            i += 1
            continue
        if c == "-":
            negate += 1
            i += 1
            continue
        if c == '"':
            j = text.find('"', i + 1)
            j = n if j < 0 else j
            items.append(("operand", negate, _morph(cfg, text[i + 1:j], "phrase")))
            negate = 0
            i = j + 1
            continue
        j = i
        while j < n and not text[j].isspace() and text[j] != '"' and \
                text[j] not in _WEB_SEPARATORS:
            j += 1
        word = text[i:j]
        i = j
        if word.lower() == "or" and not negate and items and items[-1][0] == "operand":
            items.append(("or",))
            continue
        items.append(("operand", negate, _morph(cfg, word, "phrase")))
        negate = 0
    # OR binds loosest: AND the runs between ORs, then OR the runs
    tree = None
    run = None
    for k, item in enumerate(items):
        if item[0] == "or":
            if k + 1 < len(items) and items[k + 1][0] == "operand":
                tree = run if tree is None else ("or", tree, run)
                run = None
            continue
        node = item[2]
        for _ in range(item[1]):
            node = ("not", node)
        run = node if run is None else ("and", run, node)
    if run is not None:
        tree = run if tree is None else ("or", tree, run)
    return _finish(tree)
