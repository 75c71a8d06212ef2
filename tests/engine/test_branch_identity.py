"""Row identity across UPDATE and branches; diff and merge by that identity.

A row keeps its rowid through every kind of UPDATE and every storage
operation; forks that both insert never confuse their new rows; diff shows an
UPDATE of a table without a primary key as one changed row; merge applies
one-sided changes without conflicts, resolves only true conflicts with
ours/theirs, survives undo, and refuses results that break a constraint.
"""
import pyarrow as pa
import pytest

import rustmemodb
from rustmemodb.branch import diff, merge
from rustmemodb.branch.diff import _candidates, _Parts, diff_versions
from rustmemodb.branch.identity import IDENTITY
from rustmemodb.storage.table import PATCH_FOLD, TAIL_FREEZE


def rowids_by(c, table="t", col="tag"):
    """{tag: rowid} of the live rows, read from storage."""
    t = c.database.root.tables[table].to_arrow(with_rowid=True)
    return dict(zip(t.column(col).to_pylist(), t.column("_rowid").to_pylist()))


def rows(c, table="t", order="tag"):
    return c.execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall()


def no_pk(n=10, table="t"):
    c = rustmemodb.connect()
    c.execute(f"CREATE TABLE {table} (tag INTEGER, v TEXT, n INTEGER)")
    if n:
        c.register("src", pa.table({"tag": pa.array(range(n), pa.int64()),
                                    "v": [f"v{i}" for i in range(n)],
                                    "n": pa.array(range(n), pa.int64())}))
        c.execute(f"INSERT INTO {table} SELECT * FROM src")
    return c


# ---- identity within a lineage -----------------------------------------------------------

@pytest.mark.parametrize("n", [10, TAIL_FREEZE + 500])
def test_every_update_path_keeps_rowids(n):
    c = no_pk(n)
    before = rowids_by(c)
    c.execute("UPDATE t SET v = v || '!', n = n * 2 WHERE tag % 3 = 0")   # set-based
    c.execute("UPDATE t SET n = -1 WHERE tag = 1")                           # point
    c.execute("UPDATE t SET n = n + 1")                                      # every row
    assert rowids_by(c) == before
    assert c.execute("SELECT n, v FROM t WHERE tag = 3").fetchone() == (7, "v3!")
    assert c.execute("SELECT count(*) FROM t").fetchone() == (n,)


def test_bulk_update_of_tail_and_chunk_rows_keeps_rowids_and_indexes():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (tag INTEGER PRIMARY KEY, v INTEGER)")
    c.execute("INSERT INTO t SELECT g, g FROM generate_series(1, 20000) AS s(g)")
    for i in range(300):                                     # rows in the tail
        c.execute("INSERT INTO t VALUES (?, ?)", (100000 + i, i))
    c.execute("CREATE INDEX t_v ON t (v)")
    before = rowids_by(c)
    c.execute("UPDATE t SET tag = tag + 1000000, v = v * 10 WHERE tag % 2 = 0")
    after = rowids_by(c)
    assert after[1000002] == before[2] and after[1100000] == before[100000]
    assert after[3] == before[3]
    assert c.execute("SELECT v FROM t WHERE tag = 1100000").fetchone() == (0,)
    # the ordered index follows the new values: old tag 4 (chunk) and 100004 (tail)
    assert c.execute("SELECT tag FROM t WHERE v = 40 ORDER BY tag").fetchall() == \
        [(1000004,), (1100004,)]
    with pytest.raises(rustmemodb.IntegrityError):           # UNIQUE still enforced
        c.execute("UPDATE t SET tag = 1 WHERE tag > 10000 AND tag < 20000")
    assert rowids_by(c) == after


def test_rowids_survive_folds_compaction_alter_and_recovery(tmp_path):
    c = rustmemodb.connect(str(tmp_path / "db"))
    c.execute("CREATE TABLE t (tag INTEGER, v TEXT)")
    c.execute("INSERT INTO t SELECT g, 'x' FROM generate_series(1, 30000) AS s(g)")
    c.execute("CREATE INDEX t_tag ON t (tag)")               # point updates via the index
    before = rowids_by(c)
    c.execute("BEGIN")                                        # one commit, one fsync
    for i in range(PATCH_FOLD + 10):                          # enough patches to fold
        c.execute("UPDATE t SET v = 'p' WHERE tag = ?", (i + 1,))
    c.execute("COMMIT")
    c.execute("DELETE FROM t WHERE tag > 20000")              # most of a chunk: compaction
    c.execute("UPDATE t SET v = 'bulk' WHERE tag % 4 = 0")   # 5,000 rows: set-based path
    c.execute("ALTER TABLE t ADD COLUMN extra INTEGER")
    c.execute("UPDATE t SET extra = tag WHERE tag < 100")
    expected = {k: v for k, v in before.items() if k <= 20000}
    assert rowids_by(c) == expected
    c.execute("CHECKPOINT")
    c.execute("UPDATE t SET v = 'after checkpoint' WHERE tag % 3 = 0")   # WAL only, bulk
    c.execute("UPDATE t SET v = 'point' WHERE tag = 4")
    c.close()
    c = rustmemodb.connect(str(tmp_path / "db"))
    assert rowids_by(c) == expected
    assert c.execute("SELECT v, extra FROM t WHERE tag = 36").fetchone() == ("after checkpoint", 36)
    assert c.execute("SELECT v FROM t WHERE tag IN (4, 8) ORDER BY tag").fetchall() == \
        [("point",), ("bulk",)]


def test_set_based_update_rebases_onto_a_concurrent_commit():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (tag INTEGER PRIMARY KEY, v INTEGER)")
    c.execute("INSERT INTO t SELECT g, 0 FROM generate_series(1, 10000) AS s(g)")
    a, b = c.database.connect(), c.database.connect()
    a.execute("BEGIN")
    a.execute("INSERT INTO t VALUES (20000, 0)")            # a private rowid...
    a.execute("UPDATE t SET v = 1 WHERE tag > 5000")        # ...updated in bulk with others
    b.execute("UPDATE t SET v = 2 WHERE tag = 1")           # commits first, another row
    b.execute("INSERT INTO t VALUES (30000, 0)")            # takes the rowid a used
    a.execute("COMMIT")
    assert c.execute("SELECT v, count(*) FROM t GROUP BY v ORDER BY v").fetchall() == \
        [(0, 4999 + 1), (1, 5001), (2, 1)]
    assert c.execute("SELECT v FROM t WHERE tag IN (20000, 30000) ORDER BY tag").fetchall() == \
        [(1,), (0,)]
    b.execute("BEGIN")
    b.execute("UPDATE t SET v = 3 WHERE tag > 9000")
    a.execute("UPDATE t SET v = 4 WHERE tag = 9500")
    with pytest.raises(rustmemodb.OperationalError) as err:   # the same row: 40001
        b.execute("COMMIT")
    assert err.value.sqlstate == "40001"


def test_restore_never_hands_out_a_rowid_twice():
    c = no_pk(3)
    db = c.database
    old = db.root
    c.execute("INSERT INTO t VALUES (100, 'new', 0)")
    used = rowids_by(c)[100]
    db.restore(old)
    c.execute("INSERT INTO t VALUES (200, 'newer', 0)")
    assert rowids_by(c)[200] > used


# ---- forks inserting on both sides ----------------------------------------------------------

def test_rows_inserted_on_both_forks_are_never_confused():
    c = no_pk(3)
    a, b = c.fork(), c.fork()
    a.execute("INSERT INTO t VALUES (10, 'from a', 0)")
    b.execute("INSERT INTO t VALUES (20, 'from b', 0)")
    assert rowids_by(a)[10] == rowids_by(b)[20]               # the same number...
    d = diff(a, b, "t")                                       # ...but different rows
    assert d.counts == {"added": 1, "removed": 1, "changed": 0}
    assert merge(b, a).applied and merge(a, b).applied
    assert sorted(r[0] for r in rows(a)) == sorted(r[0] for r in rows(b)) == [0, 1, 2, 10, 20]
    b.execute("UPDATE t SET v = 'b edits a''s row' WHERE tag = 10")
    a.execute("UPDATE t SET v = 'a edits b''s row' WHERE tag = 20")
    d = diff(a, b, "t")
    assert d.counts == {"added": 0, "removed": 0, "changed": 2}
    r1, r2 = merge(b, a), merge(a, b)
    assert r1.applied and r1.conflicts.num_rows == 0 and r2.applied
    assert rows(a) == rows(b)
    assert [r[1] for r in rows(a) if r[0] in (10, 20)] == ["b edits a's row", "a edits b's row"]


# ---- diff ----------------------------------------------------------------------------------

def test_diff_without_primary_key_shows_update_as_changed_row():
    c = no_pk(TAIL_FREEZE * 3)
    f = c.fork()
    f.execute("UPDATE t SET v = 'changed' WHERE tag IN (5, 7000)")
    f.execute("UPDATE t SET n = -n WHERE tag % 1000 = 1")      # set-based: many chunks
    d = diff(c, f, "t")
    assert d.counts["added"] == 0 and d.counts["removed"] == 0
    assert d.counts["changed"] == 2 + len(range(1, TAIL_FREEZE * 3, 1000))
    by_tag = {r["tag"]: r for r in d.changed_after.to_pylist()}
    assert by_tag[5]["v"] == "changed" and by_tag[1]["n"] == -1
    assert d.changed_columns[0] in (["v"], ["n"])
    assert "_rowid" in d.changed_after.column_names


def test_diff_work_is_proportional_to_changed_rows():
    c = no_pk(200_000)
    f = c.fork()
    f.execute("UPDATE t SET v = 'x' WHERE tag IN (3, 150000)")
    f.execute("DELETE FROM t WHERE tag = 70000")
    va, vb = c.database.root.tables["t"].settled(), f.database.root.tables["t"].settled()
    parts = _Parts(va.arrow_schema.append(pa.field("_rowid", pa.int64())))
    _candidates(va, vb, IDENTITY, IDENTITY, parts, None)
    looked_at = parts.before + parts.after + parts.removed + parts.added + parts.a + parts.b
    assert sum(b.num_rows for b in looked_at) == 5           # 2 + 2 changed, 1 removed
    d = diff_versions("t", va, vb)
    assert d.counts == {"added": 0, "removed": 1, "changed": 2}


def test_diff_by_key_after_in_place_updates():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE k (id INTEGER PRIMARY KEY, v INTEGER)")
    c.execute("INSERT INTO k SELECT g, g FROM generate_series(1, 10000) AS s(g)")
    f = c.fork()
    f.execute("UPDATE k SET id = 20000 WHERE id = 1")          # a key change
    f.execute("UPDATE k SET v = 0 WHERE id % 2500 = 0")
    d = diff(c, f, "k")
    assert d.counts == {"added": 1, "removed": 1, "changed": 4}
    assert d.added.to_pylist() == [{"id": 20000, "v": 0}]


# ---- merge -----------------------------------------------------------------------------------

def test_disjoint_edits_without_primary_key_merge_cleanly_with_every_strategy():
    for strategy in ("abort", "ours", "theirs"):
        c = no_pk(10)
        f = c.fork()
        f.execute("UPDATE t SET v = 'F' WHERE tag < 5")
        f.execute("DELETE FROM t WHERE tag = 9")
        f.execute("INSERT INTO t VALUES (100, 'f', 0)")
        c.execute("UPDATE t SET n = 99 WHERE tag >= 5 AND tag < 9")
        c.execute("INSERT INTO t VALUES (200, 'c', 0)")
        r = merge(f, c, strategy)
        assert r.applied and r.conflicts.num_rows == 0, strategy
        got = rows(c)
        assert [r[0] for r in got] == [0, 1, 2, 3, 4, 5, 6, 7, 8, 100, 200]
        assert all(r[1] == "F" for r in got[:5]) and all(r[2] == 99 for r in got[5:9])


def test_ours_and_theirs_resolve_only_true_conflicts():
    def setup():
        c = no_pk(6)
        f = c.fork()
        f.execute("UPDATE t SET v = 'theirs' WHERE tag IN (0, 1)")   # 0: both; 1: deleted by us
        f.execute("DELETE FROM t WHERE tag = 2")                      # 2: updated by us
        f.execute("UPDATE t SET v = 'only theirs' WHERE tag = 3")
        c.execute("UPDATE t SET v = 'ours' WHERE tag IN (0, 2)")
        c.execute("DELETE FROM t WHERE tag = 1")
        c.execute("UPDATE t SET v = 'only ours' WHERE tag = 4")
        return c, f

    c, f = setup()
    r = merge(f, c)
    assert not r.applied
    assert sorted(r.conflicts.column("key").to_pylist()) == ["row 0", "row 1", "row 2"]
    c, f = setup()
    assert merge(f, c, "ours").applied
    assert rows(c) == [(0, "ours", 0), (2, "ours", 2), (3, "only theirs", 3),
                       (4, "only ours", 4), (5, "v5", 5)]
    c, f = setup()
    assert merge(f, c, "theirs").applied
    assert rows(c) == [(0, "theirs", 0), (1, "theirs", 1), (3, "only theirs", 3),
                       (4, "only ours", 4), (5, "v5", 5)]


def test_undone_merge_can_be_merged_again():
    c = no_pk(5)
    f = c.fork()
    f.execute("UPDATE t SET v = 'F' WHERE tag = 1")
    f.execute("INSERT INTO t VALUES (9, 'new', 0)")
    before = c.database.root
    assert merge(f, c).applied
    c.database.restore(before)                                # undo
    assert rows(c) == [(i, f"v{i}", i) for i in range(5)]
    r = merge(f, c)
    assert r.applied and r.counts["t"] == {"added": 1, "removed": 0, "changed": 1}
    assert (1, "F", 1) in rows(c) and (9, "new", 0) in rows(c)


def test_repeated_merges_in_both_directions_do_not_duplicate():
    main = no_pk(4)
    f = main.fork()
    f.execute("INSERT INTO t VALUES (10, 'f1', 0)")
    main.execute("INSERT INTO t VALUES (20, 'm1', 0)")
    assert merge(f, main).applied                             # f -> main
    assert merge(main, f).applied                             # main -> f: nothing twice
    assert rows(main) == rows(f)
    f.execute("UPDATE t SET v = 'f2' WHERE tag = 20")         # edits the row main inserted
    main.execute("UPDATE t SET v = 'm2' WHERE tag = 10")      # edits the row f inserted
    main.execute("INSERT INTO t VALUES (30, 'm3', 0)")
    r = merge(f, main)
    assert r.applied and r.conflicts.num_rows == 0
    assert merge(main, f).applied
    assert rows(main) == rows(f)
    assert [r[:2] for r in rows(main)] == [(0, "v0"), (1, "v1"), (2, "v2"), (3, "v3"),
                                            (10, "m2"), (20, "f2"), (30, "m3")]
    assert diff(main, f, "t").empty


def test_merge_checks_foreign_keys_on_the_result():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE p (id INTEGER PRIMARY KEY)")
    c.execute("CREATE TABLE ch (id INTEGER PRIMARY KEY, pid INTEGER REFERENCES p (id))")
    c.execute("INSERT INTO p VALUES (1), (2)")
    f = c.fork()
    f.execute("INSERT INTO ch VALUES (10, 2)")                 # child of 2 on the source
    c.execute("DELETE FROM p WHERE id = 2")                    # 2 deleted on the target
    before = c.database.root
    for strategy in ("abort", "ours", "theirs"):
        r = merge(f, c, strategy)
        assert not r.applied
        kinds = r.conflicts.column("kind").to_pylist()
        assert kinds == ["constraint"] and "foreign key" in r.conflicts.column("theirs")[0].as_py()
        assert c.database.root is before                      # nothing written


def test_merge_checks_unique_on_the_result():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE u (code TEXT UNIQUE, v INTEGER)")   # no primary key
    f = c.fork()
    f.execute("INSERT INTO u VALUES ('x', 1)")
    c.execute("INSERT INTO u VALUES ('x', 2)")
    r = merge(f, c, "theirs")
    assert not r.applied and r.conflicts.column("kind").to_pylist() == ["constraint"]
    assert "23505" not in r.conflicts.column("theirs")[0].as_py()
    assert "duplicate key" in r.conflicts.column("theirs")[0].as_py()
    assert c.execute("SELECT * FROM u").fetchall() == [("x", 2)]


@pytest.mark.parametrize("ddl", [
    "ALTER TABLE t ADD CONSTRAINT pos CHECK (n >= 0)",
    "ALTER TABLE t ALTER COLUMN n SET NOT NULL",
    "ALTER TABLE t ALTER COLUMN n TYPE FLOAT",
])
def test_schema_compatibility_compares_types_and_constraints(ddl):
    c = no_pk(3)
    f = c.fork()
    f.execute("INSERT INTO t VALUES (7, 'neg', -5)")
    c.execute(ddl)
    c.execute("INSERT INTO t VALUES (8, 'ok', 1)")
    r = merge(f, c, "theirs")
    assert not r.applied and set(r.conflicts.column("kind").to_pylist()) == {"schema"}
    assert c.execute("SELECT count(*) FROM t").fetchone() == (4,)


def test_check_violation_in_adopted_rows_is_reported():
    c = no_pk(3)
    c.execute("ALTER TABLE t ADD CONSTRAINT pos CHECK (n >= 0)")
    f = c.fork()
    f.execute("UPDATE t SET n = 5 WHERE tag = 0")
    c.execute("UPDATE t SET v = 'c' WHERE tag = 1")
    assert merge(f, c).applied                                # rows valid on both sides
    assert rows(c)[0] == (0, "v0", 5) and rows(c)[1] == (1, "c", 1)


def test_merge_record_survives_a_concurrent_commit():
    c = no_pk(3)
    f = c.fork()
    f.execute("INSERT INTO t VALUES (10, 'f', 0)")
    c.execute("UPDATE t SET v = 'c' WHERE tag = 0")
    other = c.database.connect()
    other.execute("BEGIN")
    other.execute("INSERT INTO t VALUES (11, 'other', 0)")
    assert merge(f, c).applied
    other.execute("COMMIT")                         # rebased onto the merge, keeps its record
    f.execute("UPDATE t SET v = 'again' WHERE tag = 10")
    r = merge(f, c)
    assert r.applied and r.counts["t"] == {"added": 0, "removed": 0, "changed": 1}
    assert [r[0] for r in rows(c)] == [0, 1, 2, 10, 11]


def test_bulk_update_diff_and_merge_for_every_column_type():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (id INTEGER, i INTERVAL, j JSON, u UUID, d DATE, ts TIMESTAMP, "
              "b BOOLEAN, f FLOAT, n NUMERIC(10,2))")
    c.execute("INSERT INTO t SELECT g, INTERVAL '1 day', '{\"a\": 1}'::json, "
              "'00000000-0000-0000-0000-000000000001'::uuid, DATE '2020-01-01', "
              "TIMESTAMP '2020-01-01 00:00:00', true, 1.5, 1.25 "
              "FROM generate_series(1, 5000) AS s(g)")
    before = rowids_by(c, col="id")
    c.execute("UPDATE t SET i = i + INTERVAL '1 hour', j = '{\"b\": 2}'::json, d = d + 1, "
              "ts = ts + INTERVAL '1 day', b = NOT b, f = f * 2, n = n + 1 WHERE id % 2 = 0")
    assert rowids_by(c, col="id") == before
    row = c.execute("SELECT j, d, b, f, n FROM t WHERE id = 2").fetchone()
    assert row[0] == {"b": 2} and row[1].day == 2 and row[2] is False and row[3] == 3.0
    assert float(row[4]) == 2.25
    f = c.fork()
    f.execute("UPDATE t SET i = i + INTERVAL '1 hour', "
              "u = '00000000-0000-0000-0000-000000000002'::uuid WHERE id % 3 = 0")
    d = diff(c, f, "t")
    assert d.counts == {"added": 0, "removed": 0, "changed": 1666}
    assert d.changed_columns[0] == ["i", "u"]
    c.execute("UPDATE t SET n = 0 WHERE id % 3 = 1")
    r = merge(f, c)
    assert r.applied and r.counts["t"]["changed"] == 1666
    assert c.execute("SELECT count(*) FROM t WHERE n = 0 OR u::text LIKE '%2'").fetchone() == \
        (1667 + 1666,)


def test_fork_of_a_merged_branch_merges_only_its_new_rows():
    main = no_pk(3)
    a = main.fork()
    a.execute("INSERT INTO t VALUES (10, 'a', 0)")
    main.execute("INSERT INTO t VALUES (20, 'm', 0)")
    assert merge(a, main).applied                            # a -> main (rows copied)
    a2 = a.fork()                                            # a fork of a, after the merge
    a2.execute("INSERT INTO t VALUES (30, 'a2', 0)")
    a2.execute("UPDATE t SET v = 'a2 edit' WHERE tag = 10")
    r = merge(a2, main)
    assert r.applied and r.counts["t"] == {"added": 1, "removed": 0, "changed": 1}
    assert [r[:2] for r in rows(main)] == [(0, "v0"), (1, "v1"), (2, "v2"), (10, "a2 edit"),
                                            (20, "m"), (30, "a2")]
    c = main.fork()                                          # inherits main's merge record
    c.execute("INSERT INTO t VALUES (40, 'c', 0)")
    assert merge(c, a).applied
    assert sorted(r[0] for r in rows(a)) == [0, 1, 2, 10, 20, 30, 40]


def test_fork_made_before_a_merge_does_not_bring_merged_rows_twice():
    main = no_pk(3)
    a = main.fork()
    a.execute("INSERT INTO t VALUES (10, 'a', 0)")
    a2 = a.fork()                                            # before a is merged
    a.execute("INSERT INTO t VALUES (11, 'a later', 0)")
    main.execute("INSERT INTO t VALUES (20, 'm', 0)")
    assert merge(a, main).applied
    a2.execute("INSERT INTO t VALUES (30, 'a2', 0)")
    a2.execute("UPDATE t SET v = 'a2 edit' WHERE tag = 10")
    r = merge(a2, main)
    assert r.applied and r.conflicts.num_rows == 0
    assert [r[:2] for r in rows(main)] == [(0, "v0"), (1, "v1"), (2, "v2"), (10, "a2 edit"),
                                            (11, "a later"), (20, "m"), (30, "a2")]


def test_every_alter_keeps_rowids():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (tag INTEGER, v TEXT, n INTEGER)")
    c.execute("INSERT INTO t SELECT g, 'x', g FROM generate_series(1, 70000) AS s(g)")
    for i in range(10):                                      # rows in the tail too
        c.execute("INSERT INTO t VALUES (?, 'tail', 0)", (100000 + i,))
    c.execute("DELETE FROM t WHERE tag % 10 = 0")             # and deletion masks
    before = rowids_by(c)
    for ddl in ["ALTER TABLE t ALTER COLUMN n TYPE FLOAT", "ALTER TABLE t DROP COLUMN v",
                "ALTER TABLE t RENAME COLUMN n TO m", "ALTER TABLE t ADD COLUMN z INTEGER DEFAULT 5",
                "ALTER TABLE t ADD PRIMARY KEY (tag)", "CREATE INDEX ix ON t (m)",
                "ALTER TABLE t ALTER COLUMN m SET NOT NULL"]:
        c.execute(ddl)
        assert rowids_by(c) == before, ddl


def test_forks_that_took_in_different_states_of_main_share_its_rows():
    """Two forks each merged a different state of main (one took a row main got from
    the other fork): a merge between them recognises the rows they share through main,
    keeps each row once and adds only what is new."""
    for first_insert_on_fork in (False, True):
        main = no_pk(8)
        a, b = main.fork(), main.fork()
        (b if first_insert_on_fork else main).execute("INSERT INTO t VALUES (100, 'new', 0)")
        merge(main, b, "theirs")
        merge(b, main, "theirs")
        main.execute("INSERT INTO t VALUES (101, 'new', 0)")
        merge(main, a, "theirs")
        merge(a, main, "theirs")
        result = merge(a, b, "abort")
        assert result.applied and result.conflicts.num_rows == 0
        assert result.counts["t"]["added"] == 1
        assert rows(b) == rows(main) == rows(a)
        assert diff(a, b, "t").empty


def test_a_table_is_taken_whole_only_when_its_rows_keep_their_numbers():
    """Merging a fork that holds one of the target's rows under another number (it
    copied the row in by a merge of its own) into a target that did not change the
    table must not take the fork's table whole: the target's row 8 would become a
    different row, and its next merge with main would see a change and a new row
    where there is none."""
    main = no_pk(8)
    a, b = main.fork(), main.fork()
    main.execute("INSERT INTO t VALUES (100, 'new', 0)")   # main's rowid 8
    b.execute("INSERT INTO t VALUES (101, 'new', 0)")      # b's rowid 8
    merge(main, a, "theirs")                               # a: 100 as rowid 8
    merge(a, b, "theirs")                                  # b: 100 as rowid 9
    before = rowids_by(a)
    result = merge(b, a, "theirs")
    assert result.applied and result.counts["t"] == {"added": 1, "removed": 0, "changed": 0}
    after = rowids_by(a)
    assert {tag: after[tag] for tag in before} == before   # a's rows keep their rowids
    merge(main, a, "abort")
    assert [r[0] for r in rows(a)] == list(range(8)) + [100, 101]
    assert diff(main, a, "t").added.column("tag").to_pylist() == [101]


def test_criss_cross_merges_keep_each_row_once():
    """main took B's row, A synced with B, then main is merged into A: no single merge
    base knows both new rows (main's and B's), so identity falls back on each row's
    origin, the branch and rowid that first held it."""
    for pk in (False, True):
        main = no_pk(8) if not pk else rustmemodb.connect()
        if pk:
            main.execute("CREATE TABLE t (tag INTEGER PRIMARY KEY, v TEXT, n INTEGER)")
            main.executemany("INSERT INTO t VALUES (?, ?, ?)",
                             [(i, f"v{i}", i) for i in range(8)])
        a, b = main.fork(), main.fork()
        main.execute("INSERT INTO t VALUES (100, 'new', 0)")
        b.execute("INSERT INTO t VALUES (101, 'new', 0)")
        merge(main, a, "theirs")
        merge(a, main, "theirs")
        assert merge(b, main, "abort").applied
        merge(a, b, "theirs")
        merge(b, a, "theirs")
        result = merge(main, a, "abort")
        assert result.applied and result.conflicts.num_rows == 0
        assert [r[0] for r in rows(a)] == list(range(8)) + [100, 101]
        assert rows(a) == rows(main) == rows(b)
        b.execute("UPDATE t SET v = 'b' WHERE tag = 100")  # still one row after more merges
        merge(b, main, "theirs")
        merge(main, a, "theirs")
        assert rows(a) == rows(main) == rows(b)


def test_rows_taken_whole_are_the_sources_rows_in_later_merges():
    """B takes A's table whole (B had not changed it); main then gets A's row through a
    fork of A. Merging main into B must see B's copy (same rowid as on A) as the row
    main has, not as B's own new row."""
    main = no_pk(8)
    a, b = main.fork(), main.fork()
    main.execute("INSERT INTO t VALUES (100, 'new', 0)")
    a.execute("INSERT INTO t VALUES (101, 'new', 0)")
    assert merge(a, b, "theirs").applied                  # taken whole
    a2 = a.fork()
    assert merge(a2, main, "abort").applied
    result = merge(main, b, "abort")
    assert result.applied and result.counts["t"]["added"] == 1
    assert [r[0] for r in rows(b)] == list(range(8)) + [100, 101]
    assert rows(b) == rows(main)
