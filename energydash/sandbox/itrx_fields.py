"""itrx request validation, answering like its serializers: {"field": ["reason", ...]}."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from energydash.lib.tron import InvalidAddress, validate_address
from energydash.sandbox.http import as_int

PERIOD_RE = re.compile(r"^(1H|([1-9]|[12][0-9]|30)D)$")
Errors = dict[str, list[str]]


class Fields:
    """Collects cleaned values and per-field errors."""

    def __init__(self, data: Any) -> None:
        self.data = data if isinstance(data, dict) else {}
        self.errors: Errors = {}
        self.cleaned: dict[str, Any] = {}

    def _missing(self, name: str, required: bool) -> bool:
        value = self.data.get(name)
        if value is None or value == "":
            if required:
                self.errors[name] = ["This field is required."]
            return True
        return False

    def integer(
        self, name: str, *, required: bool, lo: int | None = None, hi: int | None = None
    ) -> None:
        if self._missing(name, required):
            return
        value = as_int(self.data[name])
        if value is None:
            self.errors[name] = ["A valid integer is required."]
        elif lo is not None and value < lo:
            self.errors[name] = [f"Please make sure the value is greater than or equal to {lo}."]
        elif hi is not None and value > hi:
            self.errors[name] = [f"Please make sure the value is less than or equal to {hi}."]
        else:
            self.cleaned[name] = value

    def choice(self, name: str, *, required: bool, allowed: set[int] | None = None) -> None:
        if self._missing(name, required):
            return
        value = self.data[name]
        ok = PERIOD_RE.match(str(value)) if allowed is None else as_int(value) in allowed
        if not ok:
            self.errors[name] = [f"'{value}' is not a legal option."]
        else:
            self.cleaned[name] = str(value) if allowed is None else as_int(value)

    def address(self, name: str, *, required: bool) -> None:
        if self._missing(name, required):
            return
        try:
            self.cleaned[name] = validate_address(str(self.data[name]))
        except InvalidAddress:
            self.errors[name] = ["Invalid TRON address."]

    def text(self, name: str, *, max_length: int, url: bool = False) -> None:
        """A string field; numbers are taken as their text, as a serializer CharField does."""
        if self._missing(name, False):
            self.cleaned[name] = ""
            return
        value = self.data[name]
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.errors[name] = ["Not a valid string."]
            return
        value = str(value)
        if len(value) > max_length:
            self.errors[name] = [
                f"Please make sure this field has no more than {max_length} characters."
            ]
        elif url and not _is_http_url(value):
            self.errors[name] = ["Please enter a valid URL."]
        else:
            self.cleaned[name] = value


def _is_http_url(value: str) -> bool:
    """http(s) with a host; lenient on host names (docker service names have no dot)."""
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and " " not in value
