// SPDX-License-Identifier: GPL-2.0
#include "ring.h"

static void fill(char *slot, const char *text)
{
	ring_store(slot, text);
}

/* Append one line of text at the head of the ring. */
int ring_put(struct ring *r, const char *text)
{
	int *lock;
	char *slot;

	slot = ring_slot(r, r->head, &lock);
	ring_lock(lock);
	fill(slot, text);
	r->head++;
	ring_unlock(lock);
	return 0;
}
