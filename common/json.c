/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * json.c - a recursive-descent JSON reader (RFC 8259) for stats.json.
 *
 * teitend writes stats.json by hand with GString (collector/stats.c); this
 * reads it back into a tree: `teiten stats` prints its tables from it and
 * teitend renders it as Prometheus text (collector/prom.c). Numbers keep their
 * text: counters are 64-bit and a double would round them. Depth is bounded
 * (64) so a hostile file cannot exhaust the stack.
 *
 * Rejected: json-glib (one more dependency for one small file) and scanning
 * the text with regular expressions (the document nests per listener,
 * exporter and sensor).
 */
#include "json.h"

#include <stdlib.h>
#include <string.h>

#define JSON_MAX_DEPTH 64

typedef struct {
    const char *s, *p;
} json_in;

void tt_json_free(tt_json *j)
{
    if (j == NULL)
        return;
    g_free(j->text);
    g_free(j->key);
    if (j->kids != NULL)
        g_ptr_array_unref(j->kids);
    g_free(j);
}

static gboolean json_fail(json_in *in, const char *what, GError **error)
{
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "JSON: %s at byte %ld", what,
                (long)(in->p - in->s));
    return FALSE;
}

static void json_ws(json_in *in)
{
    while (*in->p == ' ' || *in->p == '\t' || *in->p == '\n' || *in->p == '\r')
        in->p++;
}

static char *json_string(json_in *in, GError **error)
{
    GString *out = g_string_new(NULL);
    in->p++; /* the opening quote */
    for (;;) {
        unsigned char c = (unsigned char)*in->p;
        if (c == '"') {
            in->p++;
            return g_string_free(out, FALSE);
        }
        if (c < 0x20) {
            json_fail(in, c == 0 ? "unterminated string" : "control character in a string", error);
            break;
        }
        if (c != '\\') {
            g_string_append_c(out, (char)c);
            in->p++;
            continue;
        }
        in->p++;
        const char *esc = strchr("\"\\/bfnrtu", *in->p);
        if (*in->p == '\0' || esc == NULL) {
            json_fail(in, "bad escape", error);
            break;
        }
        if (*in->p == 'u') {
            char hex[5] = {0};
            for (int i = 0; i < 4; i++) {
                if (!g_ascii_isxdigit(in->p[1 + i])) {
                    json_fail(in, "bad \\u escape", error);
                    g_string_free(out, TRUE);
                    return NULL;
                }
                hex[i] = in->p[1 + i];
            }
            g_string_append_unichar(out, (gunichar)strtoul(hex, NULL, 16));
            in->p += 5;
            continue;
        }
        static const char plain[] = "\"\\/\b\f\n\r\t";
        g_string_append_c(out, plain[esc - "\"\\/bfnrtu"]);
        in->p++;
    }
    g_string_free(out, TRUE);
    return NULL;
}

static tt_json *json_value(json_in *in, int depth, GError **error);

static gboolean json_members(json_in *in, tt_json *j, int depth, GError **error)
{
    gboolean object = j->kind == TT_JSON_OBJECT;
    char close = object ? '}' : ']';
    in->p++;
    json_ws(in);
    if (*in->p == close) {
        in->p++;
        return TRUE;
    }
    for (;;) {
        char *key = NULL;
        json_ws(in);
        if (object) {
            if (*in->p != '"')
                return json_fail(in, "expected a member name", error);
            key = json_string(in, error);
            if (key == NULL)
                return FALSE;
            json_ws(in);
            if (*in->p != ':') {
                g_free(key);
                return json_fail(in, "expected ':'", error);
            }
            in->p++;
        }
        tt_json *kid = json_value(in, depth + 1, error);
        if (kid == NULL) {
            g_free(key);
            return FALSE;
        }
        kid->key = key;
        g_ptr_array_add(j->kids, kid);
        json_ws(in);
        if (*in->p == ',') {
            in->p++;
            continue;
        }
        if (*in->p == close) {
            in->p++;
            return TRUE;
        }
        return json_fail(in, object ? "expected ',' or '}'" : "expected ',' or ']'", error);
    }
}

static tt_json *json_value(json_in *in, int depth, GError **error)
{
    if (depth > JSON_MAX_DEPTH) {
        json_fail(in, "nested too deep", error);
        return NULL;
    }
    json_ws(in);
    tt_json *j = g_new0(tt_json, 1);
    char c = *in->p;
    if (c == '{' || c == '[') {
        j->kind = c == '{' ? TT_JSON_OBJECT : TT_JSON_ARRAY;
        j->kids = g_ptr_array_new_with_free_func((GDestroyNotify)tt_json_free);
        if (json_members(in, j, depth, error))
            return j;
    } else if (c == '"') {
        j->kind = TT_JSON_STRING;
        j->text = json_string(in, error);
        if (j->text != NULL)
            return j;
    } else if (c == '-' || g_ascii_isdigit(c)) {
        const char *start = in->p;
        in->p++;
        while (g_ascii_isdigit(*in->p) || strchr(".eE+-", *in->p) != NULL)
            in->p++;
        j->kind = TT_JSON_NUMBER;
        j->text = g_strndup(start, (gsize)(in->p - start));
        return j;
    } else {
        static const struct {
            const char *word;
            tt_json_kind kind;
        } words[] = {{"true", TT_JSON_BOOL}, {"false", TT_JSON_BOOL}, {"null", TT_JSON_NULL}};
        for (guint i = 0; i < G_N_ELEMENTS(words); i++) {
            if (strncmp(in->p, words[i].word, strlen(words[i].word)) == 0) {
                in->p += strlen(words[i].word);
                j->kind = words[i].kind;
                j->text = g_strdup(words[i].word);
                return j;
            }
        }
        json_fail(in, "expected a value", error);
    }
    tt_json_free(j);
    return NULL;
}

tt_json *tt_json_parse(const char *text, GError **error)
{
    json_in in = {text, text};
    tt_json *j = json_value(&in, 0, error);
    if (j == NULL)
        return NULL;
    json_ws(&in);
    if (*in.p != '\0') {
        json_fail(&in, "text after the document", error);
        tt_json_free(j);
        return NULL;
    }
    return j;
}

const tt_json *tt_json_get(const tt_json *obj, const char *key)
{
    if (obj == NULL || obj->kind != TT_JSON_OBJECT)
        return NULL;
    for (guint i = 0; i < obj->kids->len; i++) {
        const tt_json *kid = g_ptr_array_index(obj->kids, i);
        if (strcmp(kid->key, key) == 0)
            return kid;
    }
    return NULL;
}

const char *tt_json_text(const tt_json *obj, const char *key, const char *fallback)
{
    const tt_json *j = tt_json_get(obj, key);
    return j != NULL && j->text != NULL ? j->text : fallback;
}

guint64 tt_json_u64(const tt_json *obj, const char *key)
{
    const tt_json *j = tt_json_get(obj, key);
    guint64 v = 0;
    if (j == NULL || j->kind != TT_JSON_NUMBER ||
        !g_ascii_string_to_unsigned(j->text, 10, 0, G_MAXUINT64, &v, NULL))
        return 0;
    return v;
}

void tt_json_append_string(GString *out, const char *s)
{
    g_string_append_c(out, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\')
            g_string_append_printf(out, "\\%c", *p);
        else if (*p < 0x20)
            g_string_append_printf(out, "\\u%04x", *p);
        else
            g_string_append_c(out, (char)*p);
    }
    g_string_append_c(out, '"');
}
