/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * completeness.h - what a period's numbers are missing: the losses the
 * collector counted (the rollup's loss table) beside the records stored,
 * said in one plain line by `teiten rank` and `teiten report`.
 */
#ifndef TT_COMPLETENESS_H
#define TT_COMPLETENESS_H

#include <glib.h>

#include "rollup_db.h"

typedef struct tt_completeness {
    gboolean recorded; /* every database keeps a loss table */
    guint64 records;   /* records stored in the period (every class) */
    GArray *losses;    /* tt_rollup_loss, summed over the databases */
} tt_completeness;

/** The losses and stored records of [@a from, @a to] in @a dbs. (transfer full) */
tt_completeness *tt_completeness_build(GPtrArray *dbs, const char *from, const char *to,
                                       const char *sensor, GError **error);
void tt_completeness_free(tt_completeness *c);
/** TRUE when losses were recorded and none was counted. */
gboolean tt_completeness_complete(const tt_completeness *c);
/**
 * One line without newline: "complete: no loss counted; N records stored", or
 * "INCOMPLETE: 9954 kernel drops on ipfix+udp://..., ...; N records stored"
 * (Japanese with @a ja).
 */
void tt_completeness_line(const tt_completeness *c, gboolean ja, GString *out);
/** A JSON object: complete, recorded, records and the losses. */
void tt_completeness_json(const tt_completeness *c, GString *out);

#endif
