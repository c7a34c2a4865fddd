"""Qt-free domain and shared vocabulary: orders, modes, errors, results, QuickBooks' rules."""
