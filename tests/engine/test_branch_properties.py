"""Property tests for three-way merge: random edits on two forks of one table.

Each side gets a random sequence of point UPDATEs, set-based UPDATEs,
DELETEs and INSERTs. A model replays the same edits on dictionaries and
predicts the merge: a row changed on one side only always ends up with that
side's change (with every strategy); a row both sides changed to different
results is a conflict, decided by ``ours``/``theirs`` or stopping an
``abort`` merge with nothing written; rows inserted on either side are all
kept. Disjoint edit sets merge cleanly, in both directions, to exactly the
result of applying both edit sets. Run with and without a primary key, and on
a table large enough for the set-based (bulk) UPDATE path.
"""
import pyarrow as pa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import rustmemodb
from rustmemodb.branch import diff, merge
from rustmemodb.storage.table import TAIL_FREEZE

SMALL, BIG = 8, TAIL_FREEZE + 100


def edits(side_offset: int):
    point = st.one_of(
        st.tuples(st.just("update"), st.integers(0, SMALL - 1), st.sampled_from("xyz")),
        st.tuples(st.just("delete"), st.integers(0, SMALL - 1)),
        st.tuples(st.just("insert"), st.integers(0, 5).map(lambda k: side_offset + k),
                  st.sampled_from("pq")),
        st.tuples(st.just("bump"), st.integers(2, 5), st.integers(0, 1)),
        st.tuples(st.just("update_new"), st.integers(0, 5).map(lambda k: side_offset + k),
                  st.sampled_from("xyz")),
    )
    return st.lists(point, max_size=8)


def base_rows(n):
    return {i: (f"v{i}", i) for i in range(n)}


def build(n, pk: bool):
    c = rustmemodb.connect()
    c.execute(f"CREATE TABLE t (tag INTEGER{' PRIMARY KEY' if pk else ''}, v TEXT, n INTEGER)")
    c.register("src", pa.table({"tag": pa.array(range(n), pa.int64()),
                                "v": [f"v{i}" for i in range(n)],
                                "n": pa.array(range(n), pa.int64())}))
    c.execute("INSERT INTO t SELECT * FROM src")
    return c


def apply(conn, model: dict, ops) -> None:
    """Run ``ops`` through SQL on ``conn`` and on the dict ``model`` alike."""
    for op in ops:
        kind = op[0]
        if kind in ("update", "update_new"):
            conn.execute("UPDATE t SET v = ? WHERE tag = ?", (op[2], op[1]))
            if op[1] in model:
                model[op[1]] = (op[2], model[op[1]][1])
        elif kind == "delete":
            conn.execute("DELETE FROM t WHERE tag = ?", (op[1],))
            model.pop(op[1], None)
        elif kind == "insert":
            if op[1] in model:
                continue
            conn.execute("INSERT INTO t VALUES (?, ?, 0)", (op[1], op[2]))
            model[op[1]] = (op[2], 0)
        else:   # set-based: every live row whose tag % m == r
            m, r = op[1], op[2]
            conn.execute("UPDATE t SET n = n + 1 WHERE tag % ? = ?", (m, r))
            for tag, (v, n) in list(model.items()):
                if tag % m == r:
                    model[tag] = (v, n + 1)


def changed(base: dict, side: dict) -> set:
    return {tag for tag in base if side.get(tag) != base[tag]}


def expected(base, ours, theirs, strategy):
    """The model's merge of theirs into ours, or None when it must stop (abort)."""
    c_ours, c_theirs = changed(base, ours), changed(base, theirs)
    out = {}
    for tag, row in base.items():
        if tag in c_ours and tag in c_theirs and ours.get(tag) != theirs.get(tag):
            if strategy == "abort":
                return None
            pick = ours if strategy == "ours" else theirs
            row = pick.get(tag)
        elif tag in c_theirs:
            row = theirs.get(tag)
        elif tag in c_ours:
            row = ours.get(tag)
        if row is not None:
            out[tag] = row
    for side in (ours, theirs):
        out.update({tag: row for tag, row in side.items() if tag not in base})
    return out


def table_state(conn) -> list:
    return sorted(conn.execute("SELECT tag, v, n FROM t").fetchall())


def as_rows(model: dict) -> list:
    return sorted((tag, v, n) for tag, (v, n) in model.items())


def scenario(n, pk, ours_ops, theirs_ops):
    main = build(n, pk)
    ours, theirs = main.fork(), main.fork()
    m_ours, m_theirs = base_rows(n), base_rows(n)
    apply(ours, m_ours, ours_ops)
    apply(theirs, m_theirs, theirs_ops)
    assert table_state(ours) == as_rows(m_ours)
    assert table_state(theirs) == as_rows(m_theirs)
    return ours, theirs, m_ours, m_theirs


SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(pk=st.booleans(), big=st.booleans(), strategy=st.sampled_from(["abort", "ours", "theirs"]),
       ours_ops=edits(1000), theirs_ops=edits(2000))
def test_merge_keeps_every_one_sided_change(pk, big, strategy, ours_ops, theirs_ops):
    n = BIG if big else SMALL
    ours, theirs, m_ours, m_theirs = scenario(n, pk, ours_ops, theirs_ops)
    before = table_state(ours)
    want = expected(base_rows(n), m_ours, m_theirs, strategy)
    result = merge(theirs, ours, strategy)
    if want is None:
        assert not result.applied and result.conflicts.num_rows > 0
        assert table_state(ours) == before                  # nothing written
    else:
        assert result.applied, result.conflicts.to_pylist()
        assert table_state(ours) == as_rows(want)


@SETTINGS
@given(pk=st.booleans(), big=st.booleans(), ours_ops=edits(1000), theirs_ops=edits(2000))
def test_disjoint_edits_merge_cleanly_both_ways(pk, big, ours_ops, theirs_ops):
    n = BIG if big else SMALL
    ours, theirs, m_ours, m_theirs = scenario(n, pk, ours_ops, theirs_ops)
    base = base_rows(n)
    if changed(base, m_ours) & changed(base, m_theirs):
        return                                                # not disjoint: the other test
    both = as_rows(expected(base, m_ours, m_theirs, "abort"))
    result = merge(theirs, ours)
    assert result.applied and result.conflicts.num_rows == 0
    assert table_state(ours) == both
    back = merge(ours, theirs)                                # and back the other way
    assert back.applied and back.conflicts.num_rows == 0
    assert table_state(theirs) == both
    assert diff(ours, theirs, "t").empty


@SETTINGS
@given(pk=st.booleans(), ours_ops=edits(1000), theirs_ops=edits(2000),
       more_ours=edits(3000), more_theirs=edits(4000))
# (found while fixing the merge base search) the second merge's base must be the first
# merge's result, where the inserted row is known to both sides, not the source's state
# before it
@example(pk=False, ours_ops=[("insert", 1000, "p")], theirs_ops=[("update", 0, "x")],
         more_ours=[], more_theirs=[("update", 0, "x")])
def test_merging_again_after_more_edits(pk, ours_ops, theirs_ops, more_ours, more_theirs):
    """A second round of edits after a merge in each direction: the merge base moved,
    so only the new edits count, and rows copied by the first merge are not new."""
    ours, theirs, m_ours, m_theirs = scenario(SMALL, pk, ours_ops, theirs_ops)
    if not merge(theirs, ours, "theirs").applied or not merge(ours, theirs, "theirs").applied:
        return
    assert table_state(ours) == table_state(theirs)
    start = {tag: (v, n) for tag, v, n in table_state(ours)}
    m_ours, m_theirs = dict(start), dict(start)
    apply(ours, m_ours, more_ours)
    apply(theirs, m_theirs, more_theirs)
    want = expected(start, m_ours, m_theirs, "ours")
    assert merge(theirs, ours, "ours").applied
    assert table_state(ours) == as_rows(want)


workflow_op = st.one_of(
    st.tuples(st.just("insert"), st.integers(0, 3)),
    st.tuples(st.just("update"), st.integers(0, 3), st.integers(0, 40), st.sampled_from("xyz")),
    st.tuples(st.just("bulk"), st.integers(0, 3), st.integers(2, 4)),
    st.tuples(st.just("delete"), st.integers(0, 3), st.integers(0, 40)),
    st.tuples(st.just("merge"), st.integers(0, 3), st.integers(0, 3),
              st.sampled_from(["abort", "ours", "theirs"])),
    st.tuples(st.just("sync"), st.integers(0, 3), st.integers(0, 3)),
    st.tuples(st.just("fork"), st.integers(0, 3)),
    st.tuples(st.just("undo"), st.integers(0, 3)),
)


@SETTINGS
@given(pk=st.booleans(), ops=st.lists(workflow_op, max_size=25))
# found by hypothesis: two forks that each merged a different state of main (the row
# inserted on main, or on one fork and taken in by main) share it as main's row; the
# merge between them duplicated it
@example(pk=False, ops=[("insert", 0), ("sync", 0, 2), ("insert", 0), ("sync", 0, 1),
                        ("merge", 1, 2, "abort")])
@example(pk=False, ops=[("insert", 2), ("sync", 0, 2), ("insert", 0), ("sync", 0, 1),
                        ("merge", 1, 2, "abort")])
# found by hypothesis: a sync that changed no row records its merges in a new root of
# the same version as the fork point of another branch; picking that root as the base
# (it has merges the other branch never saw) copied the other branch's row back twice
@example(pk=False, ops=[("insert", 1), ("insert", 3), ("sync", 0, 2), ("sync", 0, 1),
                        ("sync", 3, 0)])
# found by hypothesis: a criss-cross (main took branch 2's row, 1 synced with 2, then
# main is merged into 1): no single base knows both new rows
@example(pk=False, ops=[("insert", 0), ("insert", 2), ("sync", 0, 1), ("merge", 2, 0, "abort"),
                        ("sync", 1, 2), ("merge", 0, 1, "abort")])
# found by hypothesis: rows a branch took whole from another (a table only that one
# changed) are the other's rows under the same numbers, not the taker's own
@example(pk=False, ops=[("insert", 0), ("insert", 1), ("sync", 2, 1), ("fork", 1),
                        ("merge", 1, 0, "abort"), ("merge", 0, 2, "abort")])
def test_branch_workflows_never_duplicate_or_diverge(pk, ops):
    """Random forks, edits, merges, undos among four branches (forks of forks, merges
    in every direction, repeated). Every row carries a unique tag, so a merge that
    copied a row twice shows as a duplicate tag; two branches merged into each other
    with ``theirs`` must end equal."""
    main = build(SMALL, pk)
    branches = [main, main.fork(), main.fork(), main.fork()]
    history = [[] for _ in branches]
    tag = iter(range(100, 10_000))

    def changed(k, fn):
        before = branches[k].database.root
        fn()
        if branches[k].database.root is not before:
            history[k].append(before)

    for op in ops:
        kind = op[0]
        if kind == "insert":
            k = op[1]
            changed(k, lambda: branches[k].execute("INSERT INTO t VALUES (?, 'new', 0)",
                                                   (next(tag),)))
        elif kind == "update":
            changed(op[1], lambda: branches[op[1]].execute(
                "UPDATE t SET v = ? WHERE tag = ?", (op[3], op[2])))
        elif kind == "bulk":
            changed(op[1], lambda: branches[op[1]].execute(
                "UPDATE t SET n = n + 1 WHERE tag % ? = 0", (op[2],)))
        elif kind == "delete":
            changed(op[1], lambda: branches[op[1]].execute("DELETE FROM t WHERE tag = ?",
                                                           (op[2],)))
        elif kind in ("merge", "sync") and op[1] != op[2]:
            src, dst = branches[op[1]], branches[op[2]]
            strategy = op[3] if kind == "merge" else "theirs"
            changed(op[2], lambda: merge(src, dst, strategy))
            if kind == "sync":
                changed(op[1], lambda: merge(dst, src, "theirs"))
                assert table_state(src) == table_state(dst)
        elif kind == "fork":
            k = op[1]
            branches[k] = branches[k].fork() if k else branches[k]
            history[k] = []
        elif kind == "undo" and history[op[1]]:
            branches[op[1]].database.restore(history[op[1]].pop())
        for b in branches:
            tags = [r[0] for r in table_state(b)]
            assert len(tags) == len(set(tags)), (op, tags)
