#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The shape of a source directory (collector/ unless told otherwise): two rules of
# the house style that no compiler checks:
#  - no include cycle among the directory's own files: the quoted #include lines of
#    every .c and .h file form a graph; a cycle is printed file by file;
#  - no file over 800 lines ("a file past ~800 lines is two files"); each one is
#    printed with its length.
# A quoted include is resolved as the preprocessor does first: beside the file that
# includes it; then from the directory's top. One found in neither (rrd's store.h
# from collector/, say) is another directory's and not followed. Angle-bracket
# includes are never followed.
#
# usage: check-tree.sh [--max-lines N] [--known-long FILE]... [DIR]
#   --known-long FILE  FILE (relative to DIR) may be over the limit for now: it is
#                      printed as a warning, not a failure (a list for a split still
#                      under way; drop the entry once the file is short).
# Exit 0 when the tree is clean, 1 on any cycle or long file, 2 on bad usage.
# (tests/integration/checks_selftest.sh checks both failures on made-up trees.)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

max_lines=800
declare -A known_long=()
dir=""
while [ $# -gt 0 ]; do
    case "$1" in
        --max-lines) max_lines=$2; shift 2 ;;
        --known-long) known_long[$2]=1; shift 2 ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) echo "check-tree: unknown option $1" >&2; exit 2 ;;
        *) [ -z "$dir" ] || { echo "check-tree: one directory only" >&2; exit 2; }
           dir=$1; shift ;;
    esac
done
dir=${dir:-$top/collector}
[ -d "$dir" ] || { echo "check-tree: $dir is not a directory" >&2; exit 2; }
dir=$(cd "$dir" && pwd)
name=$(basename "$dir")

# Every .c and .h file under DIR, as paths relative to it.
mapfile -t files < <(cd "$dir" && find . -type f \( -name '*.c' -o -name '*.h' \) |
    sed 's|^\./||' | LC_ALL=C sort)
declare -A present=()
for f in "${files[@]}"; do present[$f]=1; done

# norm PATH: PATH with ./ and dir/../ folded (no symlinks followed: it names a file of
# the tree, not of the disk); printed on stdout.
norm() {
    local IFS=/ part out=()
    for part in $1; do
        case "$part" in
            '' | .) ;;
            ..) if [ ${#out[@]} -gt 0 ]; then unset 'out[-1]'; else out+=(..); fi ;;
            *) out+=("$part") ;;
        esac
    done
    echo "${out[*]}"
}

fail=0

# Line counts.
for f in "${files[@]}"; do
    n=$(wc -l <"$dir/$f")
    [ "$n" -gt "$max_lines" ] || continue
    if [ -n "${known_long[$f]:-}" ]; then
        echo "check-tree: warning: $name/$f has $n lines (over $max_lines; a known exception for now)"
    else
        echo "check-tree: $name/$f has $n lines, over $max_lines: split it"
        fail=1
    fi
done
for f in "${!known_long[@]}"; do
    if [ -z "${present[$f]:-}" ]; then
        echo "check-tree: note: known exception $name/$f does not exist: drop it from the list"
    elif [ "$(wc -l <"$dir/$f")" -le "$max_lines" ]; then
        echo "check-tree: note: known exception $name/$f is $max_lines lines or fewer now: drop it from the list"
    fi
done

# The include graph: edges[f] = the tree's files that f includes, space-separated.
declare -A edges=()
for f in "${files[@]}"; do
    fdir=$(dirname "$f")
    [ "$fdir" = . ] && fdir=""
    list=""
    while IFS= read -r inc; do
        for cand in "$(norm "${fdir:+$fdir/}$inc")" "$(norm "$inc")"; do
            if [ -n "${present[$cand]:-}" ]; then
                list+=" $cand"
                break
            fi
        done
    done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$dir/$f")
    edges[$f]=$list
done

# Depth-first search; a back edge (to a file still on the stack) closes a cycle.
declare -A state=() # unset: not seen, 1: on the stack, 2: done
stack=()
cycles=0
visit() {
    local n=$1 m i path
    state[$n]=1
    stack+=("$n")
    for m in ${edges[$n]}; do
        case "${state[$m]:-}" in
            1)
                path=""
                for ((i = ${#stack[@]} - 1; i >= 0; i--)); do
                    path="$name/${stack[i]} -> $path"
                    [ "${stack[i]}" = "$m" ] && break
                done
                echo "check-tree: include cycle: ${path}$name/$m"
                cycles=$((cycles + 1))
                ;;
            2) ;;
            *) visit "$m" ;;
        esac
    done
    unset 'stack[-1]'
    state[$n]=2
}
for f in "${files[@]}"; do
    [ -n "${state[$f]:-}" ] || visit "$f"
done
[ "$cycles" -eq 0 ] || fail=1

if [ "$fail" -eq 0 ]; then
    echo "check-tree: $name/: ${#files[@]} files, no include cycle," \
        "none over $max_lines lines${known_long[*]:+ (known exceptions aside)}"
fi
exit "$fail"
