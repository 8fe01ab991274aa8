#ifndef _CORE_LEGACY_H
#define _CORE_LEGACY_H

#include <core/dev.h>

#define LEGACY_MAGIC 42

int legacy_probe(struct device *dev);

#endif
