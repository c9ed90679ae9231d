"""asv suites for vkdispatch (run from the repository root: `asv run --python=same
--quick`, see docs/benchmarks.rst). Each suite is parametrized over the backends;
a backend this machine lacks is skipped in setup (asv's NotImplementedError)."""
