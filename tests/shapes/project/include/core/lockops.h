#ifndef _CORE_LOCKOPS_H
#define _CORE_LOCKOPS_H

#include <core/dev.h>

void __dev_lock(struct device *dev, int mode);

static inline void old_read_lock(struct device *dev)
{
	__dev_lock(dev, 0);
}

static inline void old_write_lock(struct device *dev)
{
	__dev_lock(dev, 1);
}

#endif
