"""URL rules whose builders are compiled on first use.

Werkzeug compiles two Python functions per rule when the rule is added (one to build its URL with unknown values
appended as a query string, one without): `ast` work plus `compile()`, about a third of a millisecond per rule, so
about 70 ms of every start for our 200 rules, although a worker builds URLs for a few dozen of them. `LazyRule`
compiles each builder the first time `url_for` needs it; matching requests is unchanged (Werkzeug's state machine
matcher does not use the builders).
"""
import threading

from flask import Flask
from werkzeug.routing import Rule

_compile_lock = threading.Lock()


class LazyRule(Rule):
    """A Werkzeug Rule whose URL builders are compiled when first called, not when the rule is added."""

    def _compile_builder(self, append_unknown=True):
        """A stand-in for Werkzeug's compiled builder `(rule, *values, **values) -> (domain part, path part)`:
        on its first call it compiles the real one (once, under a lock) and calls that from then on."""
        compiled = None

        def build(rule, *args, **kwargs):
            nonlocal compiled
            if compiled is None:
                with _compile_lock:
                    if compiled is None:
                        compiled = Rule._compile_builder(rule, append_unknown)
            return compiled(rule, *args, **kwargs)

        return build


class TicketwerkFlask(Flask):
    """Flask with `LazyRule` for every URL rule, the static one included."""

    url_rule_class = LazyRule
