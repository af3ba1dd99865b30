/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * json.h - a small JSON reader for the documents teitend writes (stats.json):
 * a tree of values, numbers kept as their text so 64-bit counters print exactly.
 */
#ifndef TT_JSON_H
#define TT_JSON_H

#include <glib.h>

typedef enum {
    TT_JSON_NULL,
    TT_JSON_BOOL,
    TT_JSON_NUMBER,
    TT_JSON_STRING,
    TT_JSON_ARRAY,
    TT_JSON_OBJECT
} tt_json_kind;

typedef struct tt_json {
    tt_json_kind kind;
    char *text;      /* NUMBER: as written; STRING: decoded; BOOL: "true"/"false" */
    char *key;       /* the member's name inside an OBJECT, else NULL */
    GPtrArray *kids; /* ARRAY and OBJECT: of tt_json*, in document order */
} tt_json;

/** Parse @a text; NULL with @a error naming the byte offset. (transfer full) */
tt_json *tt_json_parse(const char *text, GError **error);
void tt_json_free(tt_json *j);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(tt_json, tt_json_free)

/** The member @a key of an object, or NULL. (transfer none) */
const tt_json *tt_json_get(const tt_json *obj, const char *key);
/** The member's text (numbers, strings, booleans), or @a fallback. (transfer none) */
const char *tt_json_text(const tt_json *obj, const char *key, const char *fallback);
/** The member as an unsigned count, 0 when absent or not a whole number. */
guint64 tt_json_u64(const tt_json *obj, const char *key);

/** Append @a s to @a out as a JSON string: quoted, `"` and `\` escaped, controls as \u00XX. */
void tt_json_append_string(GString *out, const char *s);

#endif
