"""Text search configurations and dictionaries: tokens -> lexemes, as PostgreSQL's.

Two configurations, PostgreSQL's ``simple`` and ``english`` (``pg_catalog.`` prefix
allowed). ``simple`` lower-cases every token. ``english`` sends words (and hyphenated
words and their parts) to ``english_stem`` - lower-cased, dropped when an english stop
word, else reduced by the Snowball english (porter2) stemmer - and numbers, emails,
hosts, URLs and files to ``simple``. Blanks, tags, entities and protocols are in neither:
they take no position. ``lexemes`` returns (position, lexeme) pairs the way PostgreSQL's
parsetext numbers them: a stop word takes a position but gives no lexeme.
"""
from __future__ import annotations

from functools import lru_cache

from .. import errors
from . import parser, stopwords

DEFAULT = "english"
CONFIGS = ("simple", "english")
_STEMMED = frozenset(("asciiword", "word", "asciihword", "hword", "hword_asciipart",
                      "hword_part"))
_SIMPLE = frozenset(("numword", "numhword", "hword_numpart", "email", "url", "host",
                     "url_path", "file", "int", "uint", "float", "sfloat", "version"))
MAX_LEXEME_BYTES = 2046           # longer words are not indexed (PostgreSQL's MAXSTRLEN)


def config_name(name: str) -> str:
    """``english``, ``pg_catalog.English``... -> ``english``; 42704 for other names."""
    low = name.strip().lower()
    if low.startswith("pg_catalog."):
        low = low[len("pg_catalog."):]
    low = low.strip('"')
    if low not in CONFIGS:
        raise errors.sql_error("42704", f'text search configuration "{name}" does not exist')
    return low


@lru_cache(maxsize=1)
def _stemmer():
    import snowballstemmer
    return snowballstemmer.stemmer("english")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """english_stem of a lower-cased word that is not a stop word."""
    if len(word) > 1000:          # PostgreSQL does not stem very long words
        return word
    return _stemmer().stemWord(word)


def dictionary_name(name: str) -> str:
    """``english_stem``, ``pg_catalog.simple``... -> the dictionary's name; 42704 else."""
    low = name.strip().lower()
    if low.startswith("pg_catalog."):
        low = low[len("pg_catalog."):]
    if low not in ("simple", "english_stem"):
        raise errors.sql_error("42704", f'text search dictionary "{name}" does not exist')
    return low


def lexize(dictionary: str, word: str) -> list[str] | None:
    """ts_lexize: a dictionary's lexemes for one token ([] for a stop word)."""
    name = dictionary_name(dictionary)
    low = word.lower()
    if name == "simple":
        return [low]
    return [] if low in stopwords.ENGLISH else [stem(low)]


def _normalize(config: str, kind: str, token: str) -> list[str] | None:
    """The lexemes of one token under ``config``; None: the token type is not indexed."""
    if kind in _STEMMED:
        low = token.lower()
        if config == "simple":
            return [low]
        return [] if low in stopwords.ENGLISH else [stem(low)]
    if kind in _SIMPLE:
        return [token.lower()]
    return None


def lexemes(config: str, text: str) -> list[tuple[int, str]]:
    """(position, lexeme) for ``text`` under ``config`` (a name from ``config_name``)."""
    out = []
    pos = 0
    for kind, token in parser.tokenize(text):
        found = _normalize(config, kind, token)
        if found is None:
            continue
        pos += 1
        for lex in found:
            if len(lex.encode("utf-8")) > MAX_LEXEME_BYTES:
                continue
            out.append((pos, lex))
    return out


def positions_used(config: str, text: str) -> int:
    """How many positions ``text`` takes (its indexed tokens, stop words included)."""
    return sum(1 for kind, token in parser.tokenize(text)
               if _normalize(config, kind, token) is not None)


def token_lexemes(config: str, text: str) -> list[tuple[str, str, list[str] | None]]:
    """(token type, token, lexemes or None) for each token: ts_headline's view."""
    return [(kind, token, _normalize(config, kind, token))
            for kind, token in parser.tokenize(text)]


# ts_token_type('default'): each token type's description
DESCRIPTIONS = {
    "asciiword": "Word, all ASCII", "word": "Word, all letters",
    "numword": "Word, letters and digits", "email": "Email address", "url": "URL",
    "host": "Host", "sfloat": "Scientific notation", "version": "Version number",
    "hword_numpart": "Hyphenated word part, letters and digits",
    "hword_part": "Hyphenated word part, all letters",
    "hword_asciipart": "Hyphenated word part, all ASCII", "blank": "Space symbols",
    "tag": "XML tag", "protocol": "Protocol head",
    "numhword": "Hyphenated word, letters and digits",
    "asciihword": "Hyphenated word, all ASCII", "hword": "Hyphenated word, all letters",
    "url_path": "URL path", "file": "File or path name", "float": "Decimal notation",
    "int": "Signed integer", "uint": "Unsigned integer", "entity": "XML entity",
}


def debug_rows(config: str, text: str) -> list[tuple]:
    """ts_debug: (alias, description, token, dictionaries, dictionary, lexemes) per token."""
    cfg = config_name(config)
    rows = []
    for kind, token, lexemes in token_lexemes(cfg, text):
        if lexemes is None:
            rows.append((kind, DESCRIPTIONS[kind], token, [], None, None))
            continue
        dictionary = "english_stem" if cfg == "english" and kind in _STEMMED else "simple"
        rows.append((kind, DESCRIPTIONS[kind], token, [dictionary], dictionary, lexemes))
    return rows
