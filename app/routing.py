"""URL rules whose builders are compiled on first use.

Werkzeug compiles two Python functions per rule when the rule is added (one that appends unknown values as a query
string, one that does not): `ast` work plus `compile()`, about a third of a millisecond per rule, so about 70 ms of
every start for our 200 rules, although a worker builds URLs for a few dozen of them. `LazyRule` compiles each
builder the first time `url_for` needs it. Matching requests is unchanged: Werkzeug's state-machine matcher does not
use the builders.
"""
import threading
import types

from flask import Flask
from werkzeug.routing import Rule

_compile_lock = threading.Lock()


class LazyBuilder:
    """Stands in for one of Werkzeug's compiled builders, `(rule, *values, **values) -> (domain part, path part)`:
    the first call compiles the real one (once, under a lock) and every call goes to it. `compiled` is None until
    then."""

    __slots__ = ("append_unknown", "compiled")

    def __init__(self, append_unknown):
        self.append_unknown = append_unknown
        self.compiled = None

    def __get__(self, rule, owner=None):
        """Bound to its rule, as Rule.compile binds the function it compiled."""
        return types.MethodType(self, rule)

    def __call__(self, rule, *args, **kwargs):
        if self.compiled is None:
            with _compile_lock:
                if self.compiled is None:
                    self.compiled = Rule._compile_builder(rule, self.append_unknown)
        return self.compiled(rule, *args, **kwargs)


class LazyRule(Rule):
    """A Werkzeug Rule whose URL builders are compiled when first called, not when the rule is added."""

    def _compile_builder(self, append_unknown=True):
        """A LazyBuilder in place of the compiled function (Rule.compile binds it as `_build`/`_build_unknown`)."""
        return LazyBuilder(append_unknown)


class TicketwerkFlask(Flask):
    """Flask with `LazyRule` for every URL rule, the static one included."""

    url_rule_class = LazyRule
