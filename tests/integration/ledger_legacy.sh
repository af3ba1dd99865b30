#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Ledgers written before files were known by XXH3-128 still read (collector/ledger.c,
# issue 14): their groups are `[sha256:HEX]` and their batches bare hex digests. The
# ledgers here are written by hand in that format, with sha256sum's digests.
#  a. a file `done` under its SHA-256 is refused as already read (exit 3, the
#     message says "sha256 HEX"); nothing is counted
#  b. a new file beside the old groups gets an `xxh3:` group of 32 hex digits,
#     and the old group stays as it was; --force re-reads the old file under its
#     SHA-256 (reads=2, no xxh3 group for it)
#  c. a `reading` legacy batch (bare hex, as a crash left it): a part alone is
#     refused naming the batch (exit 2); the batch again resumes in replay mode,
#     skipping exactly the buckets the store holds and committing the rest; both
#     files end `done` under their SHA-256, the batch now written as `sha256:HEX`
#     ids; the store equals the truth, every bucket committed once
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rank_lib.sh"
tt_tmpdir
cd "$TT_TMP"
rank_geoip
rank_flowgen small 5 2019-01-02T00:00:00Z "$RANK_Q1_PORTS" "$RANK_Q1_COUNTRIES" 3000 86400
rank_flowgen other 6 2019-01-05T00:00:00Z "$RANK_Q1_PORTS" "$RANK_Q1_COUNTRIES" 2000 86400
rank_flowgen tail 10 2019-02-06T00:00:00Z "$RANK_Q1_PORTS" "$RANK_Q1_COUNTRIES" 2000 86400

groups() { # DATA FILE: the ledger's groups of FILE (by path), as "group state reads batch"
    "$PY" - "$1/ingest-ledger.ini" "$(readlink -f "$2")" <<'PYEOF'
import configparser, sys
c = configparser.RawConfigParser(); c.read(sys.argv[1])
print(' '.join(g + ' ' + c[g]['state'] + ' ' + c[g].get('reads', '?') + ' ' + c[g].get('batch', '?')
               for g in c.sections() if c[g]['path'] == sys.argv[2]) or 'none')
PYEOF
}
sha() { sha256sum "$1" | cut -d' ' -f1; }
buckets() { "$PY" -c 'import json,sys; print(len({json.loads(l)["start"] for l in open(sys.argv[1])}))' "$1"; }
S=$(sha small.ipfix) O=$(sha other.ipfix) T=$(sha tail.ipfix)

# a. done under its SHA-256: refused
rank_conf a.conf "$TT_TMP/a" UTC s1
mkdir a
cat >a/ingest-ledger.ini <<INI
[sha256:$S]
path=$TT_TMP/small.ipfix
size=$(stat -c %s small.ipfix)
sensor=s1
state=done
started=2024-05-01T10:00:00Z
finished=2024-05-01T10:00:12Z
batch=$S
reads=1
INI
rc=0; "$TEITEND" -c a.conf --read small.ipfix 2>a.log || rc=$?
[ $rc -eq 3 ] || { cat a.log >&2; tt_fail "a file done in an old ledger: exit $rc, expected 3"; }
grep -q "small.ipfix: not read: already read whole (finished 2024-05-01T10:00:12Z, sensor s1, sha256 $S)" a.log ||
    { cat a.log >&2; tt_fail "no refusal naming the file's SHA-256"; }
[ "$(tt_buckets a/rollup.sqlite)" = 0 ] || tt_fail "the refused file was counted"

# b. a new file beside the old groups: xxh3; --force keeps the old file's SHA-256
"$TEITEND" -c a.conf --read other.ipfix 2>b1.log || { cat b1.log >&2; tt_fail "a new file beside an old ledger"; }
g=$(groups a other.ipfix)
[[ $g =~ ^xxh3:([0-9a-f]{32})\ done\ 1\ xxh3:([0-9a-f]{32})\;$ ]] && [ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ] ||
    tt_fail "the new file's group: $g"
[ "$(groups a small.ipfix)" = "sha256:$S done 1 $S" ] || tt_fail "the old group changed: $(groups a small.ipfix)"
rank_check b1 a other.jsonl
"$TEITEND" -c a.conf --force --read small.ipfix 2>b2.log || { cat b2.log >&2; tt_fail "--force of an old ledger's file"; }
[ "$(groups a small.ipfix)" = "sha256:$S done 2 sha256:$S;" ] || tt_fail "after --force: $(groups a small.ipfix)"
rank_check b2 a other.jsonl small.jsonl

# c. a legacy batch left `reading`: the store holds other.ipfix's buckets, not tail's
rank_conf c.conf "$TT_TMP/c" UTC s1
"$TEITEND" -c c.conf --read other.ipfix 2>c0.log || { cat c0.log >&2; tt_fail "reading other.ipfix"; }
held=$(buckets other.jsonl) lack=$(buckets tail.jsonl)
[ "$(tt_buckets c/rollup.sqlite)" = "$held" ] || tt_fail "other.ipfix: $(tt_buckets c/rollup.sqlite) buckets, expected $held"
legacy() { # FILE DIGEST
    printf '[sha256:%s]\npath=%s\nsize=%s\nsensor=s1\nstate=reading\nstarted=2024-05-01T10:00:00Z\nbatch=%s;%s\nreads=1\n\n' \
        "$2" "$TT_TMP/$1" "$(stat -c %s "$1")" "$O" "$T"
}
{ legacy other.ipfix "$O"; legacy tail.ipfix "$T"; } >c/ingest-ledger.ini
rc=0; "$TEITEND" -c c.conf --read tail.ipfix 2>c1.log || rc=$?
[ $rc -eq 2 ] || { cat c1.log >&2; tt_fail "a part of a legacy batch: exit $rc, expected 2"; }
grep -q "stopped while reading it with: .*other.ipfix .*tail.ipfix" c1.log || { cat c1.log >&2; tt_fail "the batch is not named"; }
"$TEITEND" -c c.conf --read other.ipfix tail.ipfix 2>c2.log || { cat c2.log >&2; tt_fail "resume of a legacy batch"; }
grep -q "replay: skipped $held buckets already stored, committed $lack it lacked" c2.log ||
    { cat c2.log >&2; tt_fail "resume: expected $held buckets skipped and $lack committed"; }
for f in other:$O tail:$T; do
    [ "$(groups c "${f%%:*}.ipfix")" = "sha256:${f#*:} done 2 sha256:$O;sha256:$T;" ] ||
        tt_fail "after the resume: $(groups c "${f%%:*}.ipfix")"
done
rank_check c c other.jsonl tail.jsonl
