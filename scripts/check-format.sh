#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The tree's one formatter, checked: clang-format-14 with the top .clang-format over
# every tracked .c and .h file (or the FILEs named), changing nothing. A file that
# is not formatted fails, with clang-format's own report of where; fix it with
#   clang-format-14 -i FILE
# usage: check-format.sh [FILE...]
# Exit 0 when every file is formatted, 1 when one is not, 77 (skipped) when
# clang-format-14 is not installed (Debian: apt-get install clang-format-14; another
# version formats some constructs differently, so none other is used).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cf=${TT_CLANG_FORMAT:-clang-format-14}
if ! command -v "$cf" >/dev/null; then
    echo "check-format: SKIP: $cf is not installed (Debian: apt-get install clang-format-14)" >&2
    exit 77
fi

if [ $# -gt 0 ]; then
    files=("$@")
elif git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    mapfile -t files < <(git -C "$top" ls-files -- '*.c' '*.h' | sed "s|^|$top/|")
else # a tree without git (a release tarball): every source file but the build trees'
    mapfile -t files < <(find "$top" -path "$top/build*" -prune -o -type f \
        \( -name '*.c' -o -name '*.h' \) -print | LC_ALL=C sort)
fi
[ ${#files[@]} -gt 0 ] || { echo "check-format: no files" >&2; exit 1; }

# -style=file:PATH, not the nearest .clang-format: a FILE outside the tree (the
# self-test's) is held to the same style.
if "$cf" --style="file:$top/.clang-format" --dry-run -Werror "${files[@]}"; then
    echo "check-format: ${#files[@]} files formatted"
else
    echo "check-format: not formatted (above): run $cf -i on each file named" >&2
    exit 1
fi
