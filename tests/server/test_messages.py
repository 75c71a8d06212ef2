"""The one-function Bind parser (messages.parse_bind) against the Reader reads it
replaced: the same values from valid bodies, the same 08P01 from broken ones."""
from __future__ import annotations

import random
import struct

import pytest
from rustmemodb.server import messages as m


def reference(body: bytes):
    r = m.Reader(body)
    portal, name = r.cstring(), r.cstring()
    codes = r.int16s(r.count("parameter format"))
    raw = []
    for _ in range(r.count("parameter")):
        size = r.int32()
        if size < -1:
            raise m.ProtocolViolation(f"invalid parameter length {size}")
        raw.append(None if size == -1 else r.bytes(size))
    return portal, name, codes, raw, r.int16s(r.count("result format"))


def bind_body(portal: str, name: str, codes, values, results) -> bytes:
    out = portal.encode() + b"\x00" + name.encode() + b"\x00"
    out += struct.pack(f"!h{len(codes)}h", len(codes), *codes)
    out += struct.pack("!h", len(values))
    for v in values:
        out += struct.pack("!i", -1) if v is None else struct.pack("!i", len(v)) + v
    return out + struct.pack(f"!h{len(results)}h", len(results), *results)


def outcome(fn, body):
    try:
        return fn(body)
    except m.ProtocolViolation as exc:
        return ("error", str(exc))


def test_parse_bind_matches_reader_on_valid_and_broken_bodies():
    rng = random.Random(14)
    bodies = [bind_body("", "", [], [], []), bind_body("p1", "s_é", [1], [b"\x00\x00\x00\x07"], [1]),
              bind_body("", "st", [0, 1], [b"42", None, b""], [0, 1, 0]),
              b"", b"abc", b"p\x00s", b"\x00\x00\xff\xff", b"\x00\x00\x00\x01\x00",
              b"\xff\xfe\x00\x00" + b"\x00" * 6, bind_body("", "", [], [b"x"], [])[:-3],
              b"\x00\x00\x00\x00\x00\x01\xff\xff\xff\xf0\x00\x00"]
    for _ in range(300):
        values = [None if rng.random() < 0.2 else rng.randbytes(rng.randrange(9))
                  for _ in range(rng.randrange(4))]
        body = bind_body(rng.choice(["", "p"]), rng.choice(["", "stmt"]),
                         [rng.choice([0, 1]) for _ in range(rng.randrange(3))], values,
                         [rng.choice([0, 1]) for _ in range(rng.randrange(3))])
        bodies.append(body)
        bodies.append(body[:rng.randrange(len(body) + 1)])     # cut anywhere
        bodies.append(body + rng.randbytes(rng.randrange(3)))   # trailing bytes ignored
    for body in bodies:
        assert outcome(m.parse_bind, body) == outcome(reference, body), body


def test_parse_bind_refuses_a_negative_count():
    with pytest.raises(m.ProtocolViolation, match="bad parameter format count -1"):
        m.parse_bind(b"\x00\x00\xff\xff")
