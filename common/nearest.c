/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nearest.c - the nearest valid name for a mistyped one.
 *
 * The distance is Damerau-Levenshtein (optimal string alignment: insertions,
 * deletions, substitutions and swaps of two neighbours each cost 1), ASCII
 * case folded, so "--data-dri", "Sensor:tokyo1", "jsno" and "totals" each
 * find their word. A suggestion is offered only within max(2, length / 3)
 * edits: a suggestion far from what was typed is noise. Ties go to the first
 * choice in the order given, so the same typo always suggests the same word.
 *
 * Rejected: GLib's g_str_match_string (token prefixes, not typos).
 */
#include "nearest.h"

#include <string.h>

/* Damerau-Levenshtein distance (adjacent swaps cost 1), ASCII case folded. */
static guint nearest_distance(const char *a, const char *b)
{
    gsize n = strlen(a), m = strlen(b);
    /* three rows: the one before the previous (for swaps), the previous, the current */
    g_autofree guint *rows = g_new(guint, 3 * (m + 1));
    guint *pp = rows, *p = rows + m + 1, *c = rows + 2 * (m + 1);
    for (gsize j = 0; j <= m; j++)
        p[j] = (guint)j;
    for (gsize i = 1; i <= n; i++) {
        c[0] = (guint)i;
        for (gsize j = 1; j <= m; j++) {
            char ai = g_ascii_tolower(a[i - 1]), bj = g_ascii_tolower(b[j - 1]);
            guint cost = ai == bj ? 0 : 1;
            guint v = MIN(MIN(p[j] + 1, c[j - 1] + 1), p[j - 1] + cost);
            if (i > 1 && j > 1 && ai == g_ascii_tolower(b[j - 2]) &&
                g_ascii_tolower(a[i - 2]) == bj)
                v = MIN(v, pp[j - 2] + 1);
            c[j] = v;
        }
        guint *t = pp;
        pp = p;
        p = c;
        c = t;
    }
    return p[m];
}

const char *tt_nearest(const char *word, const char *const *choices, gssize n)
{
    const char *best = NULL;
    guint best_d = G_MAXUINT;
    guint limit = MAX(2u, (guint)strlen(word) / 3u);
    for (gssize i = 0; n < 0 ? choices[i] != NULL : i < n; i++) {
        guint d = nearest_distance(word, choices[i]);
        if (d < best_d) {
            best_d = d;
            best = choices[i];
        }
    }
    return best != NULL && best_d <= limit ? best : NULL;
}
