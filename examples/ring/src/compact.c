// SPDX-License-Identifier: GPL-2.0
#include "ring.h"

/* Drop every slot older than @keep entries behind the head. */
void ring_compact(struct ring *r, unsigned int keep)
{
	unsigned int i;

	for (i = 0; i + keep < r->head; i++) {
		int *lock;
		char *slot;

		slot = ring_slot(r, i, &lock);
		ring_lock(lock);
		slot_clear(slot);
		ring_unlock(lock);
	}
}
