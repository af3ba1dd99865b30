/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * countries.h - ISO 3166-1 alpha-2 codes with the English and Japanese names
 * `teiten rank` prints (cli/countries.c: the table, shipped with teiten).
 */
#ifndef TT_COUNTRIES_H
#define TT_COUNTRIES_H

#include <stddef.h>

typedef struct tt_country_name {
    char code[3];   /* "RU"; "ZZ" = unknown */
    const char *en; /* "Russia" */
    const char *ja; /* "ロシア" (UTF-8) */
} tt_country_name;

/** The entry of upper-case @a code, or NULL when it is not assigned. (transfer none) */
const tt_country_name *tt_country_lookup(const char *code);

#endif
