"""Logging a test client in the way the console's two steps leave a session.

sign_in: force_login, and when the user's role needs a second factor, an enrolled authenticator
that verified the session (what the code step records). The login itself counts as the recent
authentication sudo mode asks for (core/second_factor.py).
"""

from __future__ import annotations

from typing import Any

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from energydash.core import second_factor


def enrol(user: Any) -> TOTPDevice:
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)


def totp_now(device: TOTPDevice) -> str:
    """The code an authenticator app holding this device's key shows now (time-machine aware)."""
    code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{code:0{device.digits}d}"


def sign_in(client: Any, user: Any) -> Any:
    client.force_login(user)
    if second_factor.required_for(user):
        device = enrol(user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client
