"""Demo data for `make demo` and the browser tests. Installed only in local and test settings."""
