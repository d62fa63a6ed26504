"""Business rules: small named checks that return problems (field, French message).

Call :func:`check_action` on an action to get every :class:`Problem` of its F-A-S-D tree
(formation, action, each session followed by its dispositifs); :func:`blocking` keeps those
that prevent submission and approval, :func:`warnings` the others. Rules are registered with
``@rule(level)`` in the modules of :data:`RULE_MODULES`, imported here in that order, which is
the order in which the rules of one record run.
"""

from importlib import import_module

from sofi.rules.base import (
    LEVELS,
    Context,
    Problem,
    Rule,
    blocking,
    check_action,
    rule,
    rules,
    tree_options,
    warnings,
)

RULE_MODULES = ("formation", "action", "session", "dispositif", "certification", "programme", "funding")
for _module in RULE_MODULES:
    import_module(f"sofi.rules.{_module}")

__all__ = [
    "LEVELS",
    "Context",
    "Problem",
    "RULE_MODULES",
    "Rule",
    "blocking",
    "check_action",
    "rule",
    "rules",
    "tree_options",
    "warnings",
]
