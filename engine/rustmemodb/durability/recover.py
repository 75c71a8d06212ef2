"""Recovery: the newest sound checkpoint, then the log records after its LSN.

    manifest-*.json ──► load_checkpoint (verify every file) ──► root @ LSN L
    wal/*.wal       ──► scan every segment from the one holding L+1 ──► replay

``analyse`` reads and decides; it never modifies a file. Opening applies what
it decided (cutting a torn tail) only after the whole log has been read and
replayed; ``check`` only reports; ``repair`` cuts where it says damage is.

What the log may legitimately end with is what a crash leaves: a frame cut
short or garbage after the last whole frame, in the newest segment, beyond the
LSN its header records as durable. That *torn tail* is cut, with a warning.
Everything else is damage in the middle and refuses to open (XX001, naming the
file and byte offset):

* a bad frame followed by a valid one, or in a segment that is not the newest;
* a gap in LSNs between segments (a segment missing or truncated), a sealed
  newest segment (its successor is missing), a newest segment whose records end
  before the LSN its header records as durable (it was truncated);
* no segment holding L+1 although the manifest says the log continues;
* a record that checksums fine but does not replay.

A damaged newest checkpoint (manifest, sidecar or chunk file failing its
checksum or validation) falls back to the previous checkpoint plus the log,
provided the log replays at least up to the version the damaged one had;
otherwise it is XX001 too.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .. import errors
from ..storage.root import Root
from .checkpoint import Files, list_manifests, load_checkpoint, read_manifest
from .damage import Damage
from .records import apply_record
from .wal import SEGMENT_HEADER_SIZE, FRAME, Scan, list_segments, scan_segment, segment_name


@dataclass
class Recovered:
    root: Root
    manifest: dict | None          # the checkpoint used (its body)
    checkpoint_lsn: int            # LSN the checkpoint covers
    last_lsn: int                  # last LSN replayed (== checkpoint_lsn if none)
    replayed: int                  # records replayed
    torn_bytes: int = 0            # bytes of torn tail to cut
    cuts: list = field(default_factory=list)       # (segment path, offset) torn tails
    warnings: list = field(default_factory=list)
    fallback_from: str | None = None               # the damaged manifest skipped
    last_segment: Scan | None = None               # the newest segment after the cuts


def analyse(directory: Path, files: Files | None = None) -> Recovered:
    """Everything recovery would do, decided without changing a file (Damage if not
    recoverable)."""
    files = files if files is not None else Files()
    root, body, skipped, first_damage = _checkpoint(directory, files)
    ckpt = body["lsn"] if body else 0
    wal_expected = body["wal"] if body else False
    try:
        plan = _log_plan(directory / "wal", ckpt, wal_expected)
        rec = Recovered(root, body, ckpt, ckpt, 0)
        for lsn, payload, path, offset in plan.records:
            rec.root = _replay(rec.root, lsn, payload, path, offset)
            rec.last_lsn, rec.replayed = lsn, rec.replayed + 1
    except Damage as damage:
        if first_damage is not None:     # the fallback failed too: report the first cause
            first_damage.detail = f"the older checkpoint cannot stand in: {damage.message}"
            raise first_damage from None
        raise
    if first_damage is not None:
        if rec.root.version < skipped:
            first_damage.detail = (f"the older checkpoint plus the log reach version "
                                   f"{rec.root.version}, the damaged one had {skipped}")
            raise first_damage
        rec.fallback_from = str(first_damage.file.name if first_damage.file else "")
        rec.warnings.append(f"{first_damage.message}; recovered from the previous "
                            f"checkpoint {body['name'] if body else '(none)'} and the log")
    rec.cuts = plan.cuts
    rec.torn_bytes = plan.torn_bytes
    rec.warnings += plan.warnings
    rec.last_segment = plan.last
    return rec


def recover(directory: Path, files: Files) -> Recovered:
    return analyse(directory, files)


# ---- the checkpoint ---------------------------------------------------------------------

def _checkpoint(directory: Path, files: Files):
    """(root, manifest body, version of a damaged newer manifest or 0, its Damage)."""
    manifests = list_manifests(directory)
    first_damage, skipped = None, 0
    for version, path in manifests:
        try:
            body = read_manifest(path)
            root = load_checkpoint(directory, body, files)
            return root, body, skipped, first_damage
        except Damage as damage:
            if first_damage is None:
                first_damage, skipped = damage, version
    if first_damage is not None:
        raise first_damage
    # Chunk files are only ever written by a checkpoint after the first one (a new
    # database's is empty), so with no manifest left they mean manifests were lost. A
    # lone sidecar is what a crash while writing that first checkpoint leaves.
    leftovers = list((directory / "chunks").glob("*.arrow"))
    if leftovers:
        raise Damage("the checkpoint manifest is missing but checkpoint files exist",
                     file=directory, detail=f"for example {leftovers[0].name}")
    return Root(), None, 0, None


# ---- the log ----------------------------------------------------------------------------

@dataclass
class _Plan:
    records: list = field(default_factory=list)    # (lsn, payload, path, offset)
    cuts: list = field(default_factory=list)
    torn_bytes: int = 0
    warnings: list = field(default_factory=list)
    last: Scan | None = None


def _log_plan(wal_dir: Path, ckpt: int, wal_expected: bool) -> _Plan:
    plan = _Plan()
    segments = list_segments(wal_dir)
    start = ckpt + 1
    holding = [i for i, (first, _) in enumerate(segments) if first <= start]
    if not holding:
        if segments:
            first, path = segments[0]
            raise Damage(f"log records {start} to {first - 1} are missing: the log resumes "
                         f"with {path.name}", file=path, offset=0, cut=(path, 0))
        if wal_expected:
            raise Damage(f"the log segment {segment_name(start)} is missing",
                         file=wal_dir / segment_name(start), cut=(wal_dir, start))
        return plan
    chain = segments[holding[-1]:]
    if wal_expected and chain[0][0] != start:
        # The segment starting right after the checkpoint is created (or is the open
        # one) before the manifest is written, and kept as long as the manifest is.
        raise Damage(f"the log segment {segment_name(start)} that continues the checkpoint "
                     f"is missing", file=wal_dir / segment_name(start),
                     cut=(wal_dir, start))
    prev: Scan | None = None
    for j, (first, path) in enumerate(chain):
        newest = j == len(chain) - 1
        scan = scan_segment(path, first)
        if prev is not None and first != prev.last_lsn + 1:
            raise Damage(f"the log has a gap: {prev.path.name} ends at LSN {prev.last_lsn}, "
                         f"{path.name} starts at LSN {first}", file=prev.path,
                         offset=prev.end, cut=(prev.path, _cut_point(prev)))
        if scan.header_error is not None:
            # A crash while creating a segment leaves a short header; creation finishes
            # (fsync'ed) before the predecessor is sealed or a manifest names the
            # segment, so only then can a short header be what a crash left.
            torn_creation = (newest and scan.size <= SEGMENT_HEADER_SIZE and (
                (prev is not None and not prev.sealed) or (prev is None and not wal_expected)))
            if not torn_creation:
                raise Damage(f"log segment {path.name} is damaged: {scan.header_error}",
                             file=path, offset=0, cut=(path, 0))
            plan.cuts.append((path, 0))
            plan.torn_bytes += scan.size
            plan.warnings.append(f"the log ends with a torn tail: log segment {path.name} was "
                                 f"left half-created by a crash ({scan.size} bytes); it is "
                                 f"removed")
            plan.last = prev
            break
        if not scan.mark_ok:
            raise Damage(f"the durable-LSN mark in the header of log segment {path.name} "
                         f"fails its checksum", file=path, offset=SEGMENT_HEADER_SIZE - 16,
                         cut=(path, scan.end))
        if scan.bad_offset is not None:
            if not newest or scan.valid_after is not None:
                follows = (f"a valid frame follows at byte offset {scan.valid_after}"
                           if scan.valid_after is not None else "later log segments follow")
                raise Damage(f"the write-ahead log is damaged in the middle: {path.name} at "
                             f"byte offset {scan.bad_offset}: {scan.bad_reason}; {follows}",
                             file=path, offset=scan.bad_offset, cut=(path, scan.bad_offset))
            if scan.mark > scan.last_lsn:
                raise Damage(f"log segment {path.name} is damaged at byte offset "
                             f"{scan.bad_offset} ({scan.bad_reason}) before LSN {scan.mark}, "
                             f"which was recorded durable", file=path,
                             offset=scan.bad_offset, cut=(path, scan.bad_offset))
            if scan.cut_short:
                # zeros are written before the frames that need them: a crash leaves
                # them after a torn frame, so a file ending without them was cut short
                raise Damage(f"log segment {path.name} is truncated: it is damaged at byte "
                             f"offset {scan.bad_offset} ({scan.bad_reason}) and ends without "
                             f"the preallocated zeros a crash leaves after it", file=path,
                             offset=scan.bad_offset, cut=(path, scan.bad_offset))
            plan.cuts.append((path, scan.bad_offset))
            plan.torn_bytes += scan.size - scan.bad_offset
            plan.warnings.append(f"the log ends with a torn tail: {scan.size - scan.bad_offset}"
                                 f" bytes of {path.name} from byte offset {scan.bad_offset} "
                                 f"({scan.bad_reason}) are cut")
        elif newest and scan.sealed:
            raise Damage(f"the log segment after {path.name} is missing ({path.name} is "
                         f"sealed at LSN {scan.last_lsn})", file=path,
                         offset=scan.end - FRAME.size, cut=(path, scan.end - FRAME.size))
        elif newest and scan.mark > scan.last_lsn:
            raise Damage(f"log segment {path.name} is truncated: its records end at LSN "
                         f"{scan.last_lsn} but LSN {scan.mark} was recorded durable",
                         file=path, offset=scan.end, cut=(path, scan.end))
        elif newest and scan.cut_short:
            # a segment written with tail marks keeps zeros (or its tail mark) after its
            # last record, open or closed
            raise Damage(f"log segment {path.name} is truncated: it ends right after "
                         f"{f'LSN {scan.last_lsn}' if scan.records else 'its header'}, "
                         f"without the preallocated zeros kept there", file=path,
                         offset=scan.end, cut=(path, scan.end))
        for lsn, payload, offset in scan.records:
            if lsn > ckpt:
                plan.records.append((lsn, payload, path, offset))
        prev = scan
        plan.last = scan
    if plan.records and plan.records[0][0] != start:
        lsn, _, path, offset = plan.records[0]
        raise Damage(f"the log has a gap: LSN {start} expected, {lsn} found", file=path,
                     offset=offset, cut=(path, offset))
    return plan


def _cut_point(scan: Scan) -> int:
    """Where repair cuts a segment whose successor is missing: before its seal."""
    return scan.end - FRAME.size if scan.sealed else scan.end


def _replay(root: Root, lsn: int, payload, path: Path, offset: int) -> Root:
    try:
        return apply_record(root, payload)
    except errors.Error as exc:
        raise Damage(f"log record {lsn} in {path.name} at byte offset {offset} cannot be "
                     f"replayed: {exc.message}", file=path, offset=offset,
                     cut=(path, offset)) from None
    except Exception as exc:  # a record that checksums fine but does not apply
        raise Damage(f"log record {lsn} in {path.name} at byte offset {offset} cannot be "
                     f"replayed: {type(exc).__name__}: {exc}", file=path, offset=offset,
                     cut=(path, offset)) from None
