"""Second factor (README "Users and roles"): enrolment, the code step at login, recovery codes,
an admin's reset after a lost device, lockout after wrong codes, the all-roles setting, and API
tokens left alone."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from energydash.api.models import ApiToken
from energydash.core import second_factor
from energydash.core.models import AuditEvent
from tests.signin import enrol, sign_in, totp_now

IP = "198.51.100.7"


def password_step(client, user, ip: str = IP, next_url: str = ""):
    data = {"username": user.username, "password": "pw-" + user.username}
    if next_url:
        data["next"] = next_url
    return client.post(reverse("login"), data, REMOTE_ADDR=ip)


def code_step(client, code: str, ip: str = IP):
    return client.post(reverse("login_code"), {"code": code}, REMOTE_ADDR=ip)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def with_recovery_codes(user) -> list[str]:
    return second_factor._replace_recovery_codes(user)


@pytest.fixture
def no_otp_backoff(settings):
    """django-otp doubles a wait after each wrong code; lockout tests count axes failures."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def test_an_admin_without_a_second_factor_must_enrol_and_enrols_with_a_code_from_the_app(
    client, admin_user
):
    assert password_step(client, admin_user).status_code == 302
    assert logged_in(client)  # no device yet: the password logs in, but only to enrol
    home = client.get(reverse("home"))
    assert home.status_code == 302 and home["Location"] == reverse("security")
    assert client.get(reverse("providers"))["Location"] == reverse("security")

    page = client.get(reverse("security"))
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    body = page.content.decode()
    assert 'src="data:image/svg+xml' in body and 'id="setup-key"' in body
    device = TOTPDevice.objects.get(user=admin_user, confirmed=False)
    assert client.get(reverse("security")).status_code == 200
    assert TOTPDevice.objects.filter(user=admin_user).count() == 1  # a reload keeps the key

    with time_machine.travel(timezone.now(), tick=False) as clock:
        bad = "000000" if totp_now(device) != "000000" else "111111"
        wrong = client.post(reverse("security"), {"code": bad})
        assert wrong.status_code == 400 and not second_factor.enrolled(admin_user)
        clock.shift(timedelta(seconds=3))  # django-otp's backoff after a wrong code
        done = client.post(reverse("security"), {"code": totp_now(device)})
    assert done.status_code == 200
    codes = done.context["codes"]
    assert len(codes) == 10 and all(c in done.content.decode() for c in codes)
    device.refresh_from_db()
    assert device.confirmed
    assert AuditEvent.objects.filter(
        action="user.second_factor_enrolled", actor=admin_user
    ).exists()
    assert client.get(reverse("home")).status_code == 200  # this session is verified


def test_an_enrolled_admin_is_not_logged_in_until_the_code_step(client, admin_user):
    device = enrol(admin_user)
    response = password_step(client, admin_user, next_url=reverse("providers"))
    assert response.status_code == 302 and response["Location"] == reverse("login_code")
    assert not logged_in(client)
    assert client.get(reverse("home")).status_code == 302  # to the login page: not in yet

    wrong = code_step(client, "123456" if totp_now(device) != "123456" else "654321")
    assert wrong.status_code == 400 and "not right" in wrong.content.decode()
    assert not logged_in(client)


def test_the_right_code_finishes_the_login_and_returns_to_next(client, admin_user):
    device = enrol(admin_user)
    password_step(client, admin_user, next_url=reverse("providers"))
    done = code_step(client, totp_now(device))
    assert done.status_code == 302 and done["Location"] == reverse("providers")
    assert logged_in(client)
    assert client.get(reverse("providers")).status_code == 200
    assert client.get(reverse("admin:index")).status_code == 200


def test_an_unsafe_next_goes_home_instead(client, admin_user):
    device = enrol(admin_user)
    client.post(
        reverse("login"),
        {"username": "ada", "password": "pw-ada", "next": "https://evil.example/x"},
    )
    done = code_step(client, totp_now(device))
    assert done["Location"] == reverse("home")


def test_the_code_step_needs_a_fresh_password_step(client, admin_user):
    device = enrol(admin_user)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        password_step(client, admin_user)
        clock.shift(timedelta(seconds=second_factor.PENDING_SECONDS + 1))
        late = code_step(client, totp_now(device))
    assert late.status_code == 302 and late["Location"] == reverse("login")
    assert not logged_in(client)


def test_a_quick_second_guess_waits_out_django_otps_backoff(client, admin_user):
    device = enrol(admin_user)
    password_step(client, admin_user)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        code_step(client, "000000" if totp_now(device) != "000000" else "111111")
        refused = code_step(client, totp_now(device))  # even the right code, right away
        assert refused.status_code == 400 and "wait" in refused.content.decode()
        assert not logged_in(client)
        clock.shift(timedelta(seconds=5))
        assert code_step(client, totp_now(device)).status_code == 302
    assert logged_in(client)


def test_a_recovery_code_logs_in_once_only(client, admin_user):
    enrol(admin_user)
    codes = with_recovery_codes(admin_user)
    password_step(client, admin_user)
    first = code_step(client, codes[0].upper())  # typed in capitals: still the code
    assert first.status_code == 302 and logged_in(client)
    assert not StaticToken.objects.filter(token=codes[0]).exists()
    assert second_factor.recovery_codes_left(admin_user) == 9

    other = Client()
    password_step(other, admin_user)
    again = code_step(other, codes[0])
    assert again.status_code == 400 and not logged_in(other)


@pytest.mark.django_db(transaction=True)
def test_one_recovery_code_used_twice_at_once_logs_in_once(admin_user):
    enrol(admin_user)
    code = with_recovery_codes(admin_user)[0]
    barrier = threading.Barrier(2)
    results = []

    def use():
        from django.db import connection

        try:
            barrier.wait(timeout=30)
            results.append(second_factor.verify(admin_user, code) is not None)
        finally:
            connection.close()

    threads = [threading.Thread(target=use) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results) == [False, True]


def test_wrong_codes_lock_the_login_like_wrong_passwords(
    client, admin_user, settings, no_otp_backoff
):
    settings.AXES_FAILURE_LIMIT = 3
    device = enrol(admin_user)
    bad = "000000" if totp_now(device) != "000000" else "111111"
    password_step(client, admin_user)
    assert code_step(client, bad).status_code == 400
    assert code_step(client, bad).status_code == 400
    locked = code_step(client, bad)
    assert locked.status_code == 429 and "locked" in locked.content.decode()
    assert not logged_in(client)
    # The right password and then the right code are refused too while locked.
    assert password_step(client, admin_user).status_code == 429
    again = code_step(client, totp_now(device))  # nothing pending: back to the password
    assert again.status_code == 302 and again["Location"] == reverse("login")
    assert not logged_in(client)
    # The typed codes are not kept in django-axes's records.
    attempt = AccessAttempt.objects.get(username="ada")
    assert bad not in attempt.post_data


def test_a_session_that_skipped_the_code_step_is_logged_out(client, admin_user):
    enrol(admin_user)
    client.force_login(admin_user)  # a session without a verified device
    response = client.get(reverse("providers"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert not logged_in(client)


def test_the_admin_login_page_is_the_consoles(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"] == reverse("login") + "?next=/admin/"


def test_viewers_and_operators_need_no_second_factor_by_default(client, viewer):
    client.force_login(viewer)
    assert client.get(reverse("home")).status_code == 200
    assert not second_factor.required_for(viewer)


def test_a_setting_requires_it_of_every_role(client, viewer, operator, settings):
    settings.ENERGYDASH_MFA_REQUIRED_FOR_ALL_ROLES = True
    for user in (viewer, operator):
        client.force_login(user)
        response = client.get(reverse("orders:list"))
        assert response.status_code == 302 and response["Location"] == reverse("security")


def test_a_viewer_may_enrol_by_choice_and_then_needs_the_code(client, viewer):
    client.force_login(viewer)
    client.get(reverse("security"))
    device = TOTPDevice.objects.get(user=viewer)
    assert client.post(reverse("security"), {"code": totp_now(device)}).status_code == 200
    client.logout()
    assert password_step(client, viewer)["Location"] == reverse("login_code")


def test_an_admin_resets_a_lost_second_factor_and_it_is_audited(
    admin_client_, admin_user, operator
):
    enrol(operator)
    with_recovery_codes(operator)
    response = admin_client_.post(
        reverse("admin:auth_user_changelist"),
        {"action": "reset_second_factor", "_selected_action": [operator.pk]},
    )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=operator).exists()
    assert second_factor.recovery_codes_left(operator) == 0
    event = AuditEvent.objects.get(action="user.second_factor_reset", object_code=str(operator.pk))
    assert event.actor == admin_user and event.details == {"devices_removed": 2}
    # Their next login needs no code (an operator enrols again when they choose to).
    other = Client()
    assert password_step(other, operator)["Location"] == reverse("home")


def test_an_admin_cannot_reset_a_superusers_second_factor(admin_client_, django_user_model):
    root = django_user_model.objects.create_superuser("root", password="pw-root")
    enrol(root)
    admin_client_.post(
        reverse("admin:auth_user_changelist"),
        {"action": "reset_second_factor", "_selected_action": [root.pk]},
    )
    assert TOTPDevice.objects.filter(user=root).exists()
    assert not AuditEvent.objects.filter(action="user.second_factor_reset").exists()


def test_the_shell_command_resets_the_last_admin(admin_user):
    from django.core.management import call_command

    enrol(admin_user)
    call_command("reset_second_factor", "ada")
    assert not second_factor.enrolled(admin_user)
    event = AuditEvent.objects.get(action="user.second_factor_reset")
    assert event.actor_label == "command:reset_second_factor"


def test_new_recovery_codes_replace_the_old_ones(client, admin_user):
    sign_in(client, admin_user)
    old = with_recovery_codes(admin_user)
    response = client.post(reverse("recovery_codes"))
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    new = response.context["codes"]
    assert len(new) == 10 and not set(new) & set(old)
    assert second_factor.verify(admin_user, old[0]) is None
    assert AuditEvent.objects.filter(action="user.recovery_codes_replaced").exists()


def test_api_tokens_are_unaffected(client, settings, admin_user):
    settings.ENERGYDASH_MFA_REQUIRED_FOR_ALL_ROLES = True
    enrol(admin_user)
    token = ApiToken(name="backend", role="viewer")
    raw, _signing = token.assign_new_secrets()
    token.save()
    response = client.get("/api/v1/orders", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
