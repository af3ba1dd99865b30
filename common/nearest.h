/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nearest.h - the nearest valid name for a mistyped one (nearest.c), shared by
 * the `teiten` command (options, subcommands, sensors) and teitend (plugin
 * names in the configuration).
 */
#ifndef TT_NEAREST_H
#define TT_NEAREST_H

#include <glib.h>

/**
 * The choice nearest to @a word, or NULL when none is within max(2, strlen(word) / 3)
 * edits. @a n: the number of choices, or -1 when @a choices is NULL-terminated.
 * Ties go to the first choice in the order given. (transfer none)
 */
const char *tt_nearest(const char *word, const char *const *choices, gssize n);

#endif
