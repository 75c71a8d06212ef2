"""Full-text search against PostgreSQL 15: the parser's tokens, the english stems, the
tsvector/tsquery text forms, the query builders, @@, ranking and headlines.

The first tests hold PostgreSQL's answers written down (from PostgreSQL 15.18); the
differential ones ask a throwaway PostgreSQL (``pg_dsn``) the same questions over a
corpus of prose, numbers, hyphenated words, emails, hosts, URLs and paths, and over the
few thousand distinct words of this repository's README and DESIGN (the stemmer).
"""
from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from rustmemodb.textsearch import (configs, documents as D, headline as H, match as M,
                                   parser, rank as R, tsquery as Q, tsvector as V, wire)
from rustmemodb import errors

ROOT = Path(__file__).resolve().parents[2]

SAMPLES = [
    'The quick brown foxes jumped over the lazy dogs, e-mail foo@bar.com http://x.org/a?b=1 3.14 -5 co-operation',
    'PostgreSQL 15.2 was released on 2023-02-09; see https://www.postgresql.org/docs/15/textsearch.html for details.',
    'Contact john.doe@example.co.uk or visit example.com:8080/path/to/file.txt today!',
    'The state-of-the-art self-driving car drove 100km at 3.5e10 speed, version 1.2.3',
    "Don't stop believin' -- it's 5 o'clock somewhere; e.g. and/or /usr/local/bin ~/notes.md ./run.sh",
    'Ångström café naïve résumé über straße 東京 日本語',
    '<b>bold</b> &amp; &#123; <a href="x">link</a> <!-- comment -->',
    'x1-y2 abc123 123abc a-1b foo-123 +42 -3.25 1e5 2.5E-3 10/31/2020 localhost 192.168.0.1',
    'www.google.com google.com/ search?q=1 foo.bar foo. e.g. i.e. U.S.A. Mr. Smith',
    'under_score snake_case_name CamelCase ALLCAPS 3D 2nd 1st-class well-known-thing',
    'Hello, World! This is a test. Numbers: 1, 22, 333, 4,567, 8.90, -1, +2, 3.',
    'email@domain, user@localhost, a.b@c.de, first-last@sub.domain.org, x_y@z.com',
    'ftp://files.example.org/pub/file.tar.gz and https://example.com and http://localhost:3000/x',
    'foo.txt bar.tar.gz /etc/passwd C:\\Windows\\path readme.md v1.0 v2 1.0.0-beta',
    'It\'s the cat\'s pajamas. "Quoted text" (parenthetical) [bracket] {brace}',
    'multi--dash end- -start mid-dle-word a-b-c 2-3 x-2 2-x',
    'The year 1999 and 2000s; 50% off; $100; #hashtag @mention',
    "naïve-café über-cool co-op's e-mails re-enter pre-2000 post-war",
    'a.b.c 1.2 1.2.3.4 1.2a 10.0.0.1 v1.2.3 foo1.bar2.com 3com.com',
    'lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor',
    "what's up doc? I'm fine—thanks… “smart quotes” ‘single’ x×y",
]
QUERIES = ["fox & dog", "quick | lazy", "jump <-> over", "!fox", "fox <2> jump",
           "brown <-> fox", "lazi:*", "dog:A", "(quick | slow) & fox",
           "quick <-> brown <-> fox", "quick <-> !slow", "!quick <-> brown", "fox & !cat",
           "cat", "quick & brown & fox & dog", "state-of-the-art", "query & similarity"]
DOC = ("The quick brown foxes jumped over the lazy dogs; a quick brown fox again and the "
       "dog slept. The most common type of search is to find all documents containing "
       "given query terms and return them in order of their similarity to the query.")


# ---- PostgreSQL's answers, written down ----------------------------------------------------

def test_tsvector_text_forms() -> None:
    assert V.canonical("b:2 a:1,3A c") == "'a':1,3A 'b':2 'c'"
    assert V.canonical("a:3,1,2 a:2,5 b:1A,1B,1C") == "'a':1,2,3,5 'b':1A"
    assert V.canonical("x:99999 y:1d") == "'x':16383 'y':1"
    assert V.canonical("it's a\\\\b 'c d' 'e''f'") == "'a\\\\b' 'c d' 'e''f' 'it''s'"
    for bad, state in (("a:0", "42601"), ("a:1,2:3", "42601"), ("'a", "42601"), ("'' b", "42601")):
        with pytest.raises(errors.Error) as exc:
            V.parse(bad)
        assert exc.value.sqlstate == state


def test_tsquery_text_forms() -> None:
    assert Q.canonical("a & (b & c)") == "'a' & 'b' & 'c'"
    assert Q.canonical("(a | b) & c") == "( 'a' | 'b' ) & 'c'"
    assert Q.canonical("a <-> (b <-> c)") == "'a' <-> ( 'b' <-> 'c' )"
    assert Q.canonical("!(a & b)") == "!( 'a' & 'b' )"
    assert Q.canonical("a:*AB & b:c* & c:*") == "'a':*AB & 'b':*C & 'c':*"
    assert Q.canonical("!!a") == "!!'a'"
    assert Q.canonical("") == ""
    for bad in ("a & | b", "a & (b", "a ! b", "'a' ''", "a:*B:A", "!"):
        with pytest.raises(errors.Error) as exc:
            Q.parse(bad)
        assert exc.value.sqlstate == "42601"
    with pytest.raises(errors.Error) as exc:
        Q.parse("a <16385> b")
    assert exc.value.sqlstate == "22023"


def test_query_builders() -> None:
    assert Q.format(D.to_tsquery("english", "cat <-> the <-> dog")) == "'cat' <2> 'dog'"
    assert Q.format(D.to_tsquery("english", "(the | a) <-> cat <2> the <-> dog")) == \
        "'cat' <3> 'dog'"
    assert Q.format(D.to_tsquery("english", "supernovae-stars:*B")) == \
        "'supernovae-star':*B <-> 'supernova':*B <-> 'star':*B"
    assert Q.format(D.phraseto_tsquery("english", "the cat sat on the mat")) == \
        "'cat' <-> 'sat' <3> 'mat'"
    assert Q.format(D.plainto_tsquery("english", "The Fat & Rats:C")) == "'fat' & 'rat' & 'c'"
    assert Q.format(D.websearch_to_tsquery("english", '"supernovae stars" -crab')) == \
        "'supernova' <-> 'star' & !'crab'"
    assert Q.format(D.websearch_to_tsquery("simple", "a -- b")) == "'a' & !!'b'"
    assert Q.format(D.websearch_to_tsquery("simple", "a or or b")) == "'a' | 'or' & 'b'"


def test_english_stems_and_stop_words() -> None:
    assert configs.lexize("english_stem", "the") == []
    assert [configs.lexize("english_stem", w)[0] for w in
            ("stars", "added", "evening", "intervals", "lateral", "pasted", "lazy")] == \
        ["star", "ad", "even", "interv", "later", "past", "lazi"]
    assert len(configs.stopwords.ENGLISH) == 127
    with pytest.raises(errors.Error) as exc:
        configs.config_name("klingon")
    assert exc.value.sqlstate == "42704"


def test_binary_forms_are_postgresql_bytes() -> None:
    assert wire.tsvector_send("'a' 'b':1,3A 'c':2") == \
        b"\x00\x00\x00\x03a\x00\x00\x00b\x00\x00\x02\x00\x01\xc0\x03c\x00\x00\x01\x00\x02"
    assert wire.tsquery_send("'a' & !( 'b' | 'c':*B ) <2> 'd'") == (
        b"\x00\x00\x00\x08\x02\x02\x02\x04\x00\x02\x01\x00\x00d\x00\x02\x01\x02\x03\x01"
        b"\x04\x01c\x00\x01\x00\x00b\x00\x01\x00\x00a\x00")


def test_phrase_matching() -> None:
    def m(vec: str, query: str) -> bool:
        return M.matches(M.doc_of(V.canonical(vec)), Q.parse(query))
    assert m("a:1 b:2", "a <-> b") and not m("a:1 b:3", "a <-> b") and m("a:1 b:3", "a <2> b")
    assert m("a:1 b:2 c:3", "a <-> (b <-> c)") and m("a:1 b:2 c:3", "(a <-> b) <-> c")
    assert m("a:1 c:2", "a <-> !b") and not m("a:1 b:2", "a <-> !b")
    assert not m("a b c", "a <-> b") and m("a b", "!(a <-> b)")     # no positions
    assert m("supernova:1A star:2", "super:*") and not m("supernova:1A star:2", "star:A")


# ---- the same questions to PostgreSQL ------------------------------------------------------

@pytest.fixture(scope="module")
def pg(pg_dsn):
    psycopg = pytest.importorskip("psycopg")
    conn = psycopg.connect(pg_dsn, autocommit=True)
    yield conn
    conn.close()


def test_parser_tokens_agree(pg) -> None:
    sql = ("SELECT t.alias, p.token FROM ts_parse('default', %s) WITH ORDINALITY "
           "p(tokid, token, o) JOIN ts_token_type('default') t ON t.tokid = p.tokid "
           "WHERE t.alias <> 'blank' ORDER BY o")
    for text in SAMPLES:
        ours = [(kind, token) for kind, token in parser.tokenize(text) if kind != "blank"]
        assert ours == [tuple(r) for r in pg.execute(sql, (text,)).fetchall()], text


def test_parser_tokens_agree_on_odd_text(pg) -> None:
    """Generated lines of letters, digits and the punctuation the parser's states turn on
    (PostgreSQL backtracks through hosts, emails, URLs, paths and hyphenated words), and
    the lines of this repository's README (code, paths, URLs, Markdown)."""
    rng = random.Random(11)
    alphabet = "abcXYZ" * 3 + "0123" * 2 + ".-@:/_~&+ 'é?=#;()[]" + " " * 4
    lines = ["".join(rng.choice(alphabet) for _ in range(rng.randint(3, 30)))
             for _ in range(400)]
    lines += [line for line in (ROOT / "README.md").read_text().splitlines()[:300] if line]
    sql = ("SELECT t.alias, p.token FROM ts_parse('default', %s) WITH ORDINALITY "
           "p(tokid, token, o) JOIN ts_token_type('default') t ON t.tokid = p.tokid "
           "WHERE t.alias <> 'blank' ORDER BY o")
    for text in lines:
        ours = [(kind, token) for kind, token in parser.tokenize(text) if kind != "blank"]
        assert ours == [tuple(r) for r in pg.execute(sql, (text,)).fetchall()], text


def test_ts_debug_agrees(pg) -> None:
    """Every token, blanks included, with its dictionaries and lexemes."""
    for text in SAMPLES:
        theirs = [(a, d, t, list(ds), dic, lex) for a, d, t, ds, dic, lex in pg.execute(
            "SELECT alias, description, token, dictionaries::text[], dictionary::text, "
            "lexemes FROM ts_debug('english', %s)", (text,)).fetchall()]
        assert configs.debug_rows("english", text) == theirs, text


def test_documents_and_queries_agree(pg) -> None:
    for text in SAMPLES:
        for cfg in ("english", "simple"):
            theirs = pg.execute("SELECT to_tsvector(%s::regconfig, %s)::text",
                                (cfg, text)).fetchone()[0]
            assert V.format(D.to_tsvector(cfg, text)) == theirs, (cfg, text)
        for fn in ("plainto_tsquery", "phraseto_tsquery", "websearch_to_tsquery"):
            theirs = pg.execute(f"SELECT {fn}('english', %s)::text", (text,)).fetchone()[0]
            assert Q.format(getattr(D, fn)("english", text)) == theirs, (fn, text)


def test_stems_agree(pg) -> None:
    text = (ROOT / "README.md").read_text() + (ROOT / "docs" /
                                               "postgres-compatibility.md").read_text()
    words = sorted({w.lower() for w in re.findall(r"[A-Za-z]+", text)})
    assert len(words) > 500
    rows = pg.execute("SELECT w, ts_lexize('english_stem', w) FROM unnest(%s::text[]) w",
                      (words,)).fetchall()
    wrong = [(w, theirs, configs.lexize("english_stem", w)) for w, theirs in rows
             if configs.lexize("english_stem", w) != theirs]
    assert wrong == []


def test_match_and_ranks_agree(pg) -> None:
    vector = V.format(D.to_tsvector("english", DOC))
    weighted = V.format(V.concat(V.setweight(D.to_tsvector("english", DOC), "A"),
                                 D.to_tsvector("english", "fox dog query")))
    for text in QUERIES:
        query = D.to_tsquery("english", text)
        theirs = pg.execute(
            "SELECT v @@ q, ts_rank(v, q), ts_rank_cd(v, q), ts_rank(w, q, 1|4|32), "
            "ts_rank_cd('{0.2, 0.3, 0.5, 0.9}', w, q, 1|2|4|8|16), "
            "ts_rank('{0.2, 0.3, 0.5, 0.9}', w, q, 2|8|16) FROM "
            "(SELECT %s::tsvector v, %s::tsvector w, to_tsquery('english', %s) q) s",
            (vector, weighted, text)).fetchone()
        ours = (M.matches(M.doc_of(vector), query), R.ts_rank(vector, query),
                R.ts_rank_cd(vector, query), R.ts_rank(weighted, query, None, 1 | 4 | 32),
                R.ts_rank_cd(weighted, query, [0.2, 0.3, 0.5, 0.9], 1 | 2 | 4 | 8 | 16),
                R.ts_rank(weighted, query, [0.2, 0.3, 0.5, 0.9], 2 | 8 | 16))
        assert ours == tuple(theirs), text


def test_headlines_agree(pg) -> None:
    options = [None, "MaxWords=10, MinWords=5", "StartSel=<<, StopSel=>>, HighlightAll=true",
               "ShortWord=5, MaxWords=8, MinWords=3", "MaxFragments=2, MaxWords=6, MinWords=2",
               "MaxFragments=3, FragmentDelimiter=@@, MaxWords=4, MinWords=1"]
    for text in SAMPLES + [DOC]:
        for qtext in QUERIES[:8] + ["state-of-the-art", "query & similarity", "example | com"]:
            query = D.to_tsquery("english", qtext)
            for opt in options:
                args = (text, qtext) + ((opt,) if opt else ())
                theirs = pg.execute(
                    "SELECT ts_headline('english', %s, to_tsquery('english', %s)"
                    + (", %s)" if opt else ")"), args).fetchone()[0]
                assert H.headline("english", text, query, opt) == theirs, (text, qtext, opt)


# ---- the engine: storage and reopening ---------------------------------------------------

@pytest.mark.parametrize("checkpoint", [False, True], ids=["log", "checkpoint"])
def test_tsvector_columns_survive_reopening(tmp_path, checkpoint) -> None:
    import rustmemodb
    path = str(tmp_path / "db")
    conn = rustmemodb.connect(path)
    conn.execute("CREATE TABLE docs (id INTEGER PRIMARY KEY, body TEXT, tsv tsvector "
                 "GENERATED ALWAYS AS (to_tsvector('english', body)) STORED, q tsquery)")
    conn.execute("CREATE INDEX docs_fts ON docs USING gin (tsv)")
    conn.execute("INSERT INTO docs (id, body, q) VALUES (1, 'Quick foxes', 'fox:*'), "
                 "(2, 'Lazy dogs', '!fox'), (3, NULL, NULL)")
    conn.commit()
    if checkpoint:
        conn.execute("CHECKPOINT")
    conn.close()
    conn = rustmemodb.connect(path)
    assert conn.execute("SELECT id, tsv, q, tsv @@ q FROM docs ORDER BY id").fetchall() == [
        (1, "'fox':2 'quick':1", "'fox':*", True), (2, "'dog':2 'lazi':1", "!'fox'", True),
        (3, None, None, None)]
    conn.execute("INSERT INTO docs (id, body) VALUES (4, 'more foxes')")
    assert conn.execute("SELECT id FROM docs WHERE tsv @@ to_tsquery('english', 'fox') "
                        "ORDER BY id").fetchall() == [(1,), (4,)]
    df = conn.execute("SELECT tsv FROM docs WHERE id = 1").df()
    assert df["tsv"].tolist() == ["'fox':2 'quick':1"]
    conn.close()
