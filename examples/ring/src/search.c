// SPDX-License-Identifier: GPL-2.0
#include <string.h>
#include "ring.h"

/* Return the index of the first slot holding @text, or -1. */
int ring_find(struct ring *r, const char *text)
{
	unsigned int i;

	for (i = 0; i < 64; i++) {
		int *lock;
		const char *slot = ring_slot(r, i, &lock);
		int found;

		ring_lock(lock);
		found = strcmp(slot, text) == 0;
		ring_unlock(lock);
		if (found)
			return (int)i;
	}
	return -1;
}
