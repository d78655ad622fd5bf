"""Delete abandoned carts (run by the cleanup-carts CronJob)."""
