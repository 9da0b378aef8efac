"""Hypothesis is CPython-only: under MicroPython, property tests are collected and
reported as skipped (tests/mpy/runner.py); the rest of their module still runs."""

GIVEN = set()       # test functions that take Hypothesis examples


class _Anything:
    """Stands for every strategy, setting and health check: any use gives itself."""

    def __call__(self, *args, **kwargs):
        return self

    def __getattr__(self, name):
        return self

    def __iter__(self):
        return iter(())


strategies = HealthCheck = _Anything()


def given(*args, **kwargs):
    def decorate(fn):
        GIVEN.add(fn)
        return fn
    return decorate


class _Settings:
    def __call__(self, *args, **kwargs):
        return lambda fn: fn

    def register_profile(self, *args, **kwargs):
        pass

    def load_profile(self, *args, **kwargs):
        pass


settings = _Settings()
