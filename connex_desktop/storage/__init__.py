"""Local state: SQLite with migrations, secrets in the OS keyring."""
