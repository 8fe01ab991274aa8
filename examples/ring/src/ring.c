// SPDX-License-Identifier: GPL-2.0
#include <string.h>
#include "ring.h"

void ring_lock(int *lock)
{
	*lock = 1;
}

void ring_unlock(int *lock)
{
	*lock = 0;
}

void ring_store(char *slot, const char *text)
{
	strncpy(slot, text, 31);
	slot[31] = '\0';
}

void slot_clear(char *slot)
{
	slot[0] = '\0';
}

char *ring_slot(struct ring *r, unsigned int idx, int **lockp)
{
	*lockp = &r->lock;
	return r->slots[idx % 64];
}
