#include <core/dev.h>
#include <core/lockops.h>
#include <core/legacy.h>

static struct device alpha_dev;

static const struct drv_config alpha_config = {
	.name = "alpha",
	.irq = 3,
};

static const struct drv_info alpha_info = {
	.name = "alpha",
	.validate = old_validate,
};

int alpha_probe(void)
{
	int ret;

	ret = old_reset(&alpha_dev);
	if (ret)
		return ret;
	old_enable(&alpha_dev);
	ret = register_config(&alpha_config);
	if (ret < 0)
		return ret;
	if (legacy_probe(&alpha_dev))
		return -1;
	return register_info(&alpha_info);
}

void alpha_work(void)
{
	old_read_lock(&alpha_dev);
	OLD_TAKE(&alpha_dev.lock);
	alpha_dev.state++;
}
