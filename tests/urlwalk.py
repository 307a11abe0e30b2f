"""Every named page of the site (the admin and the API left out), for tests that try them all."""

from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver


@dataclass(frozen=True)
class Page:
    name: str  # "namespace:name" (or "name" outside a namespace)
    namespace: str | None
    pattern: URLPattern
    includes: tuple  # the URLResolvers above it, outermost first

    @property
    def view(self):
        return self.pattern.callback


def pages():
    def walk(patterns, namespace, includes):
        for p in patterns:
            if isinstance(p, URLResolver):
                if str(p.pattern).startswith(("admin/", "api/")):
                    continue
                yield from walk(p.url_patterns, p.namespace or namespace, (*includes, p))
            elif isinstance(p, URLPattern) and p.name:
                yield Page(f"{namespace}:{p.name}" if namespace else p.name, namespace, p, includes)

    yield from walk(get_resolver().url_patterns, None, ())
