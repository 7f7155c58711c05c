"""The chain reader: what the TRON chain itself says about an address's energy and delegations.

A witness, not a provider (DESIGN, round 3): it has its own request budget, vets every answer,
and never blocks placement. When no node is configured its readings say "not verified".
"""
