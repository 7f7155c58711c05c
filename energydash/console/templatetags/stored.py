"""{{ event.message|stored }}: English words a worker stored, in the reader's language
(console/stored_text.py); {{ row.standing|standing }}: a route ranking's standing."""

from __future__ import annotations

from django import template

from energydash.console.stored_text import standing_words, translate_stored

register = template.Library()


@register.filter
def stored(text: object) -> str:
    return translate_stored(text)


@register.filter
def standing(word: str) -> str:
    return standing_words(word)
