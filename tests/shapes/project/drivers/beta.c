#include <core/dev.h>
#include <core/lockops.h>
#include <core/legacy.h>

static struct device beta_dev;

static const struct drv_config beta_config = {
	.name = "beta",
	.irq = 3,
};

static const struct drv_info beta_info = {
	.name = "beta",
	.validate = old_validate,
};

int beta_probe(void)
{
	int ret;

	ret = old_reset(&beta_dev);
	if (ret)
		return ret;
	old_enable(&beta_dev);
	ret = register_config(&beta_config);
	if (ret < 0)
		return ret;
	if (legacy_probe(&beta_dev))
		return -1;
	return register_info(&beta_info);
}

void beta_work(void)
{
	old_write_lock(&beta_dev);
	OLD_TAKE(&beta_dev.lock);
	beta_dev.state++;
}
