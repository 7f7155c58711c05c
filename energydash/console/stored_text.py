"""Words the workers wrote in English, shown in the reader's language.

Order timeline events, routing and limit reasons and route rankings are written once, in English,
by workers and requests that have no reader (a poll at 3 a.m., an API call): the database and the
API keep that English. The console translates them when it shows them: each known sentence is a
msgid below whose placeholders match what the writer put in (`%(name)s` matches any text, `%%` a
percent sign). A sentence the list does not know is shown as written. A placeholder's text is
itself looked up (a routing note carries a rate sentence), so nested known sentences translate
too; values (names, ids, amounts, a provider's own words) stay as they are.

Adding a sentence: write its msgid here exactly as the writer formats it, then `make messages`
and translate it. tests/i18n/test_stored_text.py holds every msgid to a sentence really written.
"""

from __future__ import annotations

import re
from functools import cache

from django.utils.translation import get_language, gettext, gettext_noop, pgettext_lazy

SENTENCES: tuple[str, ...] = (
    # orders/placement_outcome.py, provider_state.py, tracking.py, reconciliation.py
    gettext_noop("Accepted by the provider as %(ref)s; cost %(cost)s TRX."),
    gettext_noop("Provider reports %(status)s."),
    gettext_noop(
        "The provider's record states a cost of %(reported)s TRX, below the %(recorded)s TRX "
        "recorded before, without a refund: the recorded cost is kept."
    ),
    gettext_noop("Reconciled: the provider has this order."),
    gettext_noop("Weighed again in review: the provider has this order."),
    gettext_noop("Not found by reference %(reference)s (look %(look)s); will look again."),
    gettext_noop(
        "Placement was interrupted after the order was saved; it may or may not have reached "
        "the provider."
    ),
    gettext_noop("Still %(status)s after %(minutes)s minutes; check it at the provider."),
    gettext_noop("Processing failed (%(count)s of %(max)s before review): %(error)s."),
    # orders/review.py, review_check.py
    gettext_noop("Marked as placed by %(user)s (provider order %(ref)s). %(found)s"),
    gettext_noop("Marked as not placed by %(user)s."),
    gettext_noop("Marked as not placed by %(user)s against the evidence (%(signs)s)."),
    gettext_noop("Reopened for review by %(user)s (was %(was)s): %(reason)s"),
    gettext_noop("Checked by %(user)s: %(found)s; its record is applied."),
    gettext_noop("Not placed (decided on review)."),
    # orders/approvals.py
    gettext_noop("Rejected: %(comment)s"),
    gettext_noop("Approved at %(price)s TRX: %(comment)s"),
    gettext_noop("Approval expired: nobody decided it within %(hours)s h."),
    gettext_noop(
        "Re-quoted at approval: the price rose from %(seen)s to %(price)s TRX; it needs approval "
        "again at the new price. Nothing was sent."
    ),
    # orders/late_refunds.py
    gettext_noop(
        "%(account)s refunded %(refund)s TRX after the order was final (refund now %(total)s of "
        "%(charged)s TRX charged; it reports %(status)s)."
    ),
    # console/orders/callbacks.py
    gettext_noop("Callback: itrx says the order is %(words)s."),
    gettext_noop("Callback: itrx says the order is %(words)s"),
    gettext_noop("%(said)s; confirmed by looking the order up."),
    # orders/quotes.py plain_quote_problem, as the price board's task stores it
    gettext_noop("%(provider)s is not answering right now; compare again in a minute."),
    gettext_noop(
        "%(provider)s sent an answer energydash could not read; compare again in a minute."
    ),
    gettext_noop(
        "%(provider)s refused this account's credentials (authentication failed): check its "
        "API key and secret, and the allowed IP, in admin."
    ),
    gettext_noop(
        "%(provider)s would not price this request: check the energy amount, period and "
        "address against what it accepts."
    ),
    # orders/limits.py (limit_violation, token cap)
    gettext_noop(
        "This order costs %(cost)s TRX, above %(account)s's maximum of %(max)s TRX per order."
    ),
    gettext_noop(
        "This order costs %(cost)s TRX but only %(left)s TRX of %(account)s's daily budget of "
        "%(budget)s TRX is left today (%(spent)s TRX spent)."
    ),
    gettext_noop(
        "This order costs %(cost)s TRX but only %(left)s TRX of the API token's daily cap of "
        "%(cap)s TRX is left today (%(spent)s TRX spent)."
    ),
    # orders/candidates.py (routing reasons and notes)
    gettext_noop("%(account)s quotes %(price)s TRX, above the maximum cost of %(max)s TRX."),
    gettext_noop("%(account)s's last known balance of %(balance)s TRX cannot pay %(price)s TRX."),
    gettext_noop(
        "only %(percent)s%% of its %(judged)s orders judged on chain in the last %(minutes)s min "
        "were verified, below the health floor of %(floor)s%% "
        "(ENERGYDASH_ROUTING_HEALTH_FLOOR_PERCENT)."
    ),
    gettext_noop("Lowest effective price: %(rate)s."),
    gettext_noop(
        "Effective price %(effective)s TRX (%(rate)s), not below %(winner)s's %(price)s TRX."
    ),
    gettext_noop(
        "%(judged)s chain verdict(s) in the window, fewer than %(enough)s: ranked on its price "
        "alone"
    ),
    gettext_noop(
        "%(price)s TRX / %(percent)s%% verified of %(judged)s = %(effective)s TRX effective"
    ),
    gettext_noop("No enabled provider account: add one in admin."),
    gettext_noop("No account can take this order. %(reasons)s"),
)

# A route ranking's standing (orders/candidates.py), one word each.
STANDINGS = {
    "won": pgettext_lazy("route standing", "won"),
    "lost": pgettext_lazy("route standing", "lost"),
    "out": pgettext_lazy("route standing", "out"),
    "ineligible": pgettext_lazy("route standing", "ineligible"),
}

PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")
MAX_DEPTH = 2  # a note's rate sentence inside a routing note; deeper text stays as written


def _pattern(msgid: str) -> re.Pattern[str]:
    parts, last = [], 0
    for m in PLACEHOLDER.finditer(msgid):
        parts.append(re.escape(msgid[last : m.start()]))
        parts.append("%" if m.group(0) == "%%" else f"(?P<{m.group(1)}>.+?)")
        last = m.end()
    parts.append(re.escape(msgid[last:]))
    return re.compile("".join(parts), re.S)


@cache
def _patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    # Longer (more specific) sentences first, so "%(said)s; confirmed…" does not swallow more.
    ordered = sorted(SENTENCES, key=lambda m: -len(PLACEHOLDER.sub("", m)))
    return tuple((_pattern(m), m) for m in ordered)


def _english() -> bool:
    return (get_language() or "en").split("-")[0] == "en"


def _translate(text: str, depth: int) -> str | None:
    for pattern, msgid in _patterns():
        m = pattern.fullmatch(text)
        if m is None:
            continue
        values = {
            name: (_translate(value, depth + 1) or value) if depth < MAX_DEPTH else value
            for name, value in m.groupdict().items()
        }
        return gettext(msgid) % values
    return None


def translate_stored(text: object) -> str:
    """Stored English words in the active language when they are a known sentence (or known
    sentences one after another); anything else exactly as stored."""
    words = "" if text is None else str(text)
    if not words or _english():
        return words
    whole = _translate(words.strip(), 0)
    if whole is not None:
        return whole
    # Two sentences written one after another ("Provider reports done. The provider's record
    # states…"): translate each known one; an unknown one keeps its words.
    pieces = re.split(r"(?<=[.:]) (?=[A-Z])", words.strip())
    if len(pieces) < 2:
        return words
    done = [_translate(p, 0) for p in pieces]
    if all(d is None for d in done):
        return words
    return " ".join(d if d is not None else p for d, p in zip(done, pieces, strict=True))


def standing_words(standing: str) -> str:
    label = STANDINGS.get(standing)
    return str(label) if label is not None else standing


__all__ = ["SENTENCES", "standing_words", "translate_stored"]
