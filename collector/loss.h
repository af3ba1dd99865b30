/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * loss.h - every loss counter of the collector, in one walk (loss.c), and a
 * list of owned tt_loss copies.
 */
#ifndef TT_LOSS_H
#define TT_LOSS_H

#include <glib.h>
#include <teiten/plugin.h>

#include "counters.h"

/* A list of owned tt_loss copies: new, add (a tt_loss_fn), walk. */
GPtrArray *tt_loss_list_new(void);
void tt_loss_list_add(const tt_loss *loss, void *list);
void tt_loss_list_foreach(GPtrArray *list, tt_loss_fn fn, void *data);
/**
 * Every loss counter of @a c that is not 0, cumulative (tt_host.loss_foreach):
 * @a c needs its listener_losses.
 */
void tt_loss_foreach(const tt_counters *c, tt_loss_fn fn, void *data);

#endif
