#ifndef _CORE_DEV_H
#define _CORE_DEV_H

struct device {
	int id;
	int state;
	int lock;
};

struct request {
	int len;
};

struct drv_config {
	const char *name;
	int irq;
};

struct drv_info {
	const char *name;
	int (*validate)(struct device *dev, struct request *req);
};

int old_reset(struct device *dev);
int dev_reset(struct device *dev, int flags);

void old_enable(struct device *dev);

int old_validate(struct device *dev, struct request *req);
int generic_validate(struct request *req, struct device *dev);

void dev_take(int *lock);
#define OLD_TAKE(l) do { dev_take(l); } while (0)

int register_info(const struct drv_info *info);
int register_config(const struct drv_config *cfg);

#endif
