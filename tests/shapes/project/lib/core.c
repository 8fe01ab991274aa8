#include <core/export.h>
#include <core/dev.h>
#include <core/lockops.h>
#include <core/legacy.h>

int dev_reset(struct device *dev, int flags)
{
	dev->state = flags;
	return 0;
}
EXPORT_SYMBOL(dev_reset);

int old_reset(struct device *dev)
{
	return dev_reset(dev, 0);
}
EXPORT_SYMBOL(old_reset);

void old_enable(struct device *dev)
{
	dev->state = 1;
}
EXPORT_SYMBOL(old_enable);

int register_config(const struct drv_config *cfg)
{
	return cfg->irq;
}

int old_validate(struct device *dev, struct request *req)
{
	return dev->id < req->len;
}
EXPORT_SYMBOL(old_validate);

int generic_validate(struct request *req, struct device *dev)
{
	return req->len > dev->id;
}

int register_info(const struct drv_info *info)
{
	return info->validate != 0;
}

void dev_take(int *lock)
{
	*lock = 1;
}

void __dev_lock(struct device *dev, int mode)
{
	dev->lock = mode + 1;
}

int legacy_probe(struct device *dev)
{
	return dev->id == LEGACY_MAGIC;
}
