"""The sync engine: plan, execute, reconcile, rate limits and cancellation."""
