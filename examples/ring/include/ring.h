/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RING_H
#define RING_H

#include <stddef.h>

struct ring {
	char slots[64][32];
	unsigned int gen[64];
	int lock;
	unsigned int head;
};

void ring_lock(int *lock);
void ring_unlock(int *lock);
void ring_store(char *slot, const char *text);
void slot_clear(char *slot);

/*
 * ring_slot - find the slot for @idx and the lock that protects it.
 * The lock is not taken.
 */
char *ring_slot(struct ring *r, unsigned int idx, int **lockp);

#endif /* RING_H */
