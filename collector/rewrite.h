/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rewrite.h - the decoder's passes over a checked IPFIX message before
 * libfixbuf reads it: the template cap, template withdrawals, and data sets
 * libfixbuf 2.4 would misread. Each walks the message with wire.h's set and
 * template cursors and cuts with its cut functions; they need the exporter's
 * libfixbuf session (templates defined by earlier messages), which is why they
 * are not in wire.c.
 */
#ifndef TT_REWRITE_H
#define TT_REWRITE_H

#include <glib.h>
#include <stdint.h>

#include "exporters.h"
#include "wire.h"

/**
 * Admit a checked message under the template cap: FALSE when its new template
 * IDs (per domain) would take @a exporter past @a max_templates (the message
 * is then dropped whole, so a flood of IDs cannot grow memory); TRUE records
 * them. *@a template_records gets the message's template records
 * (withdrawals included), for sequence tracking.
 */
gboolean tt_rewrite_template_cap(tt_exporter *exporter, uint32_t max_templates, const uint8_t *msg,
                                 size_t len, uint32_t domain, uint32_t *template_records);

/**
 * Cut template withdrawals and templates whose records would be 0 bytes long
 * out of @a msg; honour the withdrawal (drop the template from the session)
 * except over UDP (counted as withdrawals_ignored). Returns the new length.
 */
size_t tt_rewrite_withdrawals(tt_exporter *exporter, uint8_t *msg, size_t len, uint32_t domain);

/**
 * Cut data sets shorter than one record of their template out of @a msg; a
 * variable-length record that runs past its set sets *@a status to
 * TT_WIRE_RECORD_OVERRUN (drop the message). Returns the new length.
 */
size_t tt_rewrite_data_sets(tt_exporter *exporter, uint8_t *msg, size_t len, uint32_t domain,
                            tt_wire_status *status);

#endif
