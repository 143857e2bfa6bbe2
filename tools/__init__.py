"""Developer tooling: the make launcher, the benchmark and its bare-DRF baseline. Never deployed."""
