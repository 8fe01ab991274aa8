// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include "ring.h"

/* Print every slot; only reads them. */
void dump_ring(struct ring *r)
{
	unsigned int i;

	for (i = 0; i < 64; i++) {
		int *lock;
		char *slot = ring_slot(r, i, &lock);

		ring_lock(lock);
		if (slot[0])
			printf("%u: %s\n", i, slot);
		ring_unlock(lock);
	}
}
