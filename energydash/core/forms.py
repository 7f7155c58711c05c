"""Form pieces shared by the admin pages that take credentials."""

from __future__ import annotations

from django import forms


def write_only_field(label: str, help_text: str) -> forms.CharField:
    """A credential typed into an empty password input, never rendered back; blank keeps the
    stored value (the form's save decides what to do with it)."""
    return forms.CharField(
        label=label,
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=help_text,
    )
