"""The public catalogue blueprint (``/``): search and pages of the published offer."""

from sofi.catalogue.views import catalogue

__all__ = ["catalogue"]
