"""Health checkers: one per kind of service, built from config specs by ``build_checker``."""

from studio_status.hub.checks.base import Checker, CheckResult
from studio_status.hub.checks.registry import build_checker
from studio_status.hub.checks.specs import CheckSpec

__all__ = ["CheckResult", "CheckSpec", "Checker", "build_checker"]
