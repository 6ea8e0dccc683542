#!/bin/sh
# bench/maps.sh [POSTMAP] - lookup-table figures for an installed postmap.
#
# Builds a 100,000-key table of each database type with POSTMAP (default:
# $PREFIX/sbin/postmap, else build/bin/postmap), then looks every key up
# in one "postmap -q -" batch and prints the build time, the batch time and
# the cost of one lookup (batch time minus the time of an empty batch,
# divided by the number of keys). When Debian's /usr/sbin/postmap is
# installed, the same figures are printed for it. Scratch files go to
# bench/work/ (removed at the end).
set -eu
cd "$(dirname "$0")/.."
keys=${KEYS:-100000}
ours=${1:-}
if [ -z "$ours" ]; then
    if [ -n "${PREFIX:-}" ] && [ -x "$PREFIX/sbin/postmap" ]; then
        ours=$PREFIX/sbin/postmap
    else
        ours=build/bin/postmap
    fi
fi
[ -x "$ours" ] || { echo "bench/maps.sh: no postmap at $ours (run make first)" >&2; exit 1; }
work=bench/work/maps
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
: > "$work/main.cf"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", b - a }'; }

awk -v n="$keys" 'BEGIN { for (i = 0; i < n; i++)
    printf "user%d@example%d.com relay:[mx%d.example.net]:25\n", i, i % 97, i % 13 }' \
    > "$work/source"
awk '{ print $1 }' "$work/source" > "$work/keys"
: > "$work/nokeys"

# bench_one LABEL POSTMAP TYPE
bench_one() {
    label=$1 postmap=$2 type=$3
    table=$type:$work/source
    t0=$(now)
    "$postmap" -c "$work" "$table" 2>/dev/null
    t1=$(now)
    "$postmap" -c "$work" -q - "$table" < "$work/nokeys" > /dev/null 2>&1 || true
    t2=$(now)
    found=$("$postmap" -c "$work" -q - "$table" < "$work/keys" | wc -l)
    t3=$(now)
    build=$(elapsed "$t0" "$t1")
    batch=$(elapsed "$t2" "$t3")
    empty=$(elapsed "$t1" "$t2")
    per=$(awk -v b="$batch" -v e="$empty" -v n="$keys" 'BEGIN { printf "%.4f", (b - e) * 1e6 / n }')
    printf '%-8s %-6s build %6.3f s   %d lookups %6.3f s   %5.2f us/lookup   (%d found)\n' \
        "$label" "$type" "$build" "$keys" "$batch" "$per" "$found"
}

echo "maps benchmark: $keys keys, $(uname -m), $(nproc) CPUs"
for type in hash btree lmdb cdb; do
    bench_one postern "$ours" "$type"
done
if [ -x /usr/sbin/postmap ]; then
    for type in hash btree lmdb cdb; do
        if /usr/sbin/postconf -c "$work" -m 2>/dev/null | grep -qx "$type"; then
            bench_one postfix /usr/sbin/postmap "$type"
        fi
    done
fi
