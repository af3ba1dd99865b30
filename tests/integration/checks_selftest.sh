#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The CI checks can fail: each one is given a known-bad input and must fail on it,
# and a known-good one and must pass (a check that always passes, or always fails,
# checks nothing). The inputs are made up here, in a temp dir.
#  - the compiler with the tree's warning flags (tt_warnings' options, from the build,
#    in TT_WARN_FLAGS) and -Werror, as CI builds (TT_WERROR=ON): a file with one
#    warning of each kind the flags ask for beyond -Wall.
#  - scripts/check-tree.sh: an include cycle; an 801-line file.
#  - scripts/check-format.sh: a file clang-format-14 would change.
#  - scripts/check-static.sh: a null dereference; a write past an array's end.
# A check whose tool is missing here is left out, named; the test then ends skipped
# (77) if the others passed.
. "$(dirname "$0")/lib.sh"
tt_tmpdir
T=$TT_TMP
bad=0
skipped=()

# expect RC NAME CMD...: CMD exits with RC, or the test fails with CMD's output shown.
expect() {
    local want=$1 what=$2 rc=0
    shift 2
    "$@" >"$T/out" 2>&1 || rc=$?
    if [ "$rc" -eq "$want" ]; then
        tt_note "ok: $what (exit $rc)"
    else
        echo "FAIL: $what: exit $rc, expected $want; output:" >&2
        sed 's/^/    /' "$T/out" >&2
        bad=1
    fi
}
# expect_said PATTERN NAME: the last command's output matches PATTERN (grep -E).
expect_said() {
    grep -Eq "$1" "$T/out" || {
        echo "FAIL: $2: output does not match /$1/:" >&2
        sed 's/^/    /' "$T/out" >&2
        bad=1
    }
}

# --- the compiler's warnings ---------------------------------------------------
[ -n "${TT_WARN_FLAGS:-}" ] && [ -n "${TT_CC:-}" ] || tt_fail "TT_CC, TT_WARN_FLAGS not set (run by ctest)"
mkdir -p "$T/warn"
# warn NAME: compile $T/warn/NAME.c as the tree's files are, -Werror added
# (TT_WARN_FLAGS is split into words on purpose: it is a list of options).
# shellcheck disable=SC2086
warn() { "$TT_CC" -std=gnu11 $TT_WARN_FLAGS -Werror -c "$T/warn/$1.c" -o "$T/warn/$1.o"; }
cat >"$T/warn/good.c" <<'CEOF'
#include <stdio.h>

int twice(int x);
int twice(int x)
{
    printf("%d\n", x);
    return 2 * x;
}
CEOF
expect 0 "the warning flags pass clean code" warn good
printf 'int f(int x);\nint f(int x)\n{\n    int y = 1;\n    return x;\n}\n' >"$T/warn/unused_var.c"
expect 1 "the warning flags fail an unused variable (-Wall)" warn unused_var
expect_said "Werror(=|,-W)unused-variable" "... for that reason"
printf 'int f(int x);\nint f(int x)\n{\n    for (int x = 0; x < 2; x++)\n        ;\n    return x;\n}\n' \
    >"$T/warn/shadow.c"
expect 1 "the warning flags fail a shadowed name (-Wshadow)" warn shadow
expect_said "Werror(=|,-W)shadow" "... for that reason"
printf 'int f(int n);\nint f(int n)\n{\n    int a[n];\n    a[0] = n;\n    return a[0];\n}\n' \
    >"$T/warn/vla.c"
expect 1 "the warning flags fail a variable-length array (-Wvla)" warn vla
expect_said "Werror(=|,-W)vla" "... for that reason"
printf 'int f(int x)\n{\n    return x;\n}\n' >"$T/warn/noproto.c"
expect 1 "the warning flags fail a global function without a prototype" warn noproto
expect_said "Werror(=|,-W)missing-prototypes" "... for that reason"
printf '#include <stdio.h>\nvoid f(const char *s);\nvoid f(const char *s)\n{\n    printf(s);\n}\n' \
    >"$T/warn/format.c"
expect 1 "the warning flags fail a non-literal format (-Wformat=2)" warn format
expect_said "Werror(=|,-W)format-(security|nonliteral)" "... for that reason"
printf 'int f(int x, int y);\nint f(int x, int y)\n{\n    return x;\n}\n' >"$T/warn/unused_param.c"
expect 1 "the warning flags fail an unused parameter (-Wextra)" warn unused_param
expect_said "Werror(=|,-W)unused-parameter" "... for that reason"
printf 'int f();\nint f()\n{\n    return 0;\n}\n' >"$T/warn/oldstyle.c"
expect 1 "the warning flags fail an old-style declaration (-Wstrict-prototypes)" warn oldstyle
expect_said "Werror(=|,-W)strict-prototypes" "... for that reason"

# --- check-tree ---------------------------------------------------------------
tree=$TT_SRC/scripts/check-tree.sh
mkdir -p "$T/tree/good/sub" "$T/tree/cycle/sub" "$T/tree/long"
# good: a diamond (main.c -> a.h, b.h -> c.h), a header in a subdirectory reached
# from the top, an include of another directory's header, an 800-line file.
printf '#include "a.h"\n#include "b.h"\n#include <stdio.h>\n' >"$T/tree/good/main.c"
printf '#include "sub/c.h"\n#include "store.h" /* not here */\n' >"$T/tree/good/a.h"
printf '#include "sub/c.h"\n' >"$T/tree/good/b.h"
printf '#include "d.h"\n' >"$T/tree/good/sub/c.h"
printf '/* leaf */\n' >"$T/tree/good/sub/d.h"
for i in $(seq 800); do echo "/* $i */"; done >"$T/tree/good/long800.c"
expect 0 "check-tree passes a tree with a diamond and an 800-line file" "$tree" "$T/tree/good"
# cycle: x.h -> sub/y.h -> ../z.h -> x.h, behind a file outside the cycle.
printf '#include "x.h"\n' >"$T/tree/cycle/main.c"
printf '#include "sub/y.h"\n' >"$T/tree/cycle/x.h"
printf '#  include "../z.h"\n' >"$T/tree/cycle/sub/y.h"
printf '#include "x.h"\n' >"$T/tree/cycle/z.h"
expect 1 "check-tree fails on an include cycle" "$tree" "$T/tree/cycle"
expect_said 'include cycle: cycle/x\.h -> cycle/sub/y\.h -> cycle/z\.h -> cycle/x\.h' \
    "check-tree prints the cycle"
# a file including itself is a cycle too
printf '#include "self.h"\n' >"$T/tree/long/self.h"
expect 1 "check-tree fails on a file that includes itself" "$tree" "$T/tree/long"
rm "$T/tree/long/self.h"
for i in $(seq 801); do echo "/* $i */"; done >"$T/tree/long/big.c"
printf '/* short */\n' >"$T/tree/long/small.h"
expect 1 "check-tree fails on an 801-line file" "$tree" "$T/tree/long"
expect_said 'long/big\.c has 801 lines' "check-tree names the long file"
expect 0 "check-tree warns only on a known exception" "$tree" --known-long big.c "$T/tree/long"
expect_said 'warning: long/big\.c has 801 lines' "check-tree warns on the known exception"
expect 2 "check-tree refuses a missing directory" "$tree" "$T/tree/none"

# --- check-format -------------------------------------------------------------
if command -v clang-format-14 >/dev/null; then
    fmt=$TT_SRC/scripts/check-format.sh
    mkdir -p "$T/format"
    printf '#include <stdio.h>\n\nint main(void)\n{\n    puts("hi");\n    return 0;\n}\n' \
        >"$T/format/good.c"
    expect 0 "check-format passes a formatted file" "$fmt" "$T/format/good.c"
    # the tree's style, not clang-format's default (LLVM's 2-space indent)
    sed 's/^    /  /' "$T/format/good.c" >"$T/format/indent.c"
    expect 1 "check-format fails on a 2-space indent" "$fmt" "$T/format/indent.c"
    expect_said 'indent\.c:5:.*clang-format-violations' "check-format names the line"
    printf 'int  f(int x){return x;}\n' >"$T/format/spaces.c"
    expect 1 "check-format fails on one file of two" "$fmt" "$T/format/good.c" "$T/format/spaces.c"
    expect 77 "check-format skips without clang-format-14" env TT_CLANG_FORMAT=no-such-tool "$fmt"
    expect_said 'SKIP: no-such-tool is not installed' "check-format says why it skips"
else
    skipped+=(check-format)
fi

# --- check-static (cppcheck) --------------------------------------------------
if command -v cppcheck >/dev/null; then
    st=$TT_SRC/scripts/check-static.sh
    mkdir -p "$T/static"
    # good: GLib code in the tree's manner, with what cppcheck 2.10 misreads unless
    # scripts/cppcheck/glib.cfg says otherwise: MIN of unsigned values (a false
    # "always false"), a g_autofree string left by a goto (a false "memleak")
    cat >"$T/static/good.c" <<'CEOF'
#include <glib.h>
#include <string.h>

char *pick(const char *spec);
char *pick(const char *spec)
{
    char *s = g_new0(char, 1);
    g_autofree char *rel = NULL;
    if (strcmp(spec, "total") == 0)
        rel = g_strdup("total.rrd");
    else if (strcmp(spec, "icmp") == 0)
        rel = g_strdup("icmp.rrd");
    else
        goto err;
    char *r = g_strconcat(s, rel, NULL);
    g_free(s);
    return r;
err:
    g_free(s);
    return NULL;
}

guint sum(const guint *v, guint n);
guint sum(const guint *v, guint n)
{
    guint total = 0;
    for (guint base = 0; base < n; base += 32) {
        guint m = MIN(n - base, 32u);
        for (guint j = 0; j < m; j++)
            total += v[base + j];
    }
    return total;
}
CEOF
    expect 0 "check-static passes clean code" "$st" "$T/static/good.c"
    cat >"$T/static/null.c" <<'CEOF'
#include <stddef.h>

int first(void);
int first(void)
{
    int *p = NULL;
    return *p;
}
CEOF
    expect 1 "check-static fails on a null dereference" "$st" "$T/static/null.c"
    expect_said 'null\.c:7: error: nullPointer' "check-static names the null dereference"
    cat >"$T/static/bounds.c" <<'CEOF'
int fill(void);
int fill(void)
{
    int a[4];
    for (int i = 0; i <= 4; i++)
        a[i] = i;
    return a[0];
}
CEOF
    expect 1 "check-static fails on a write past an array" "$st" "$T/static/bounds.c"
    expect_said 'bounds\.c:6: error: arrayIndexOutOfBounds' "check-static names the overflow"
    expect 77 "check-static skips without cppcheck" env TT_CPPCHECK=no-such-tool "$st"
else
    skipped+=(check-static)
fi

# ------------------------------------------------------------------------------
[ "$bad" -eq 0 ] || tt_fail "a check did not do what it should (above)"
[ ${#skipped[@]} -eq 0 ] || tt_skip "not checked here: ${skipped[*]} (the others passed)"
tt_note "every check fails on its bad input and passes on its good one"
