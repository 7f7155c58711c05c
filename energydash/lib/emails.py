"""One way to send mail: templates/emails/<name>-subject.txt, -body.txt and -body.html."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def render_email(name: str, context: dict[str, Any]) -> RenderedEmail:
    subject = render_to_string(f"emails/{name}-subject.txt", context)
    # A subject is one line; template newlines would be a header-injection error.
    subject = " ".join(subject.split())
    return RenderedEmail(
        subject=subject,
        text=render_to_string(f"emails/{name}-body.txt", context),
        html=render_to_string(f"emails/{name}-body.html", context),
    )


def send_email(name: str, context: dict[str, Any], to: Sequence[str]) -> RenderedEmail:
    """Render and send one message (text with an HTML alternative); raises if sending fails."""
    rendered = render_email(name, context)
    message = EmailMultiAlternatives(subject=rendered.subject, body=rendered.text, to=list(to))
    message.attach_alternative(rendered.html, "text/html")
    message.send()
    return rendered
