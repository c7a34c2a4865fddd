"""Qt-free domain: the canonical order model, transaction modes, errors and progress."""
