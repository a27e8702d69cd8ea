from django.apps import AppConfig


class BenchmarksConfig(AppConfig):
    """The performance harness: management commands only, no models."""

    name = "benchmarks"
    verbose_name = "Benchmarks"
