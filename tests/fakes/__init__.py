"""Stand-ins shared by the tests: fake stores, keyrings and a disk that fills up."""
