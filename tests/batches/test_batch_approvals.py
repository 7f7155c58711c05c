"""A batch whose planned total is above ENERGYDASH_BATCH_APPROVAL_ABOVE_TRX waits for a second
person before any line is placed."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from energydash.batches import approvals, services
from energydash.batches.models import Batch, BatchLine
from energydash.core.models import AuditEvent
from energydash.lib.tron import SUN_PER_TRX
from energydash.sandbox.models import SandboxOrder
from tests.api.conftest import address, box

A, B = address("ba-1"), address("ba-2")


@pytest.fixture
def checker(db, django_user_model):
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user(username="chen", password="pw-chen")
    user.groups.add(Group.objects.get(name="operator"))
    return user


@pytest.fixture
def big(db, http, settings, operator):
    settings.ENERGYDASH_BATCH_APPROVAL_ABOVE_SUN = 1 * SUN_PER_TRX
    tz = box("tronzap", "tz-batch", price="50")
    parsed, errors = services.parse(f"{A}\n{B}", 65_000)
    assert not errors
    batch = services.create_batch(parsed, period="1H", via="console:batch", actor=operator)
    services.plan(batch, client=http)
    assert batch.planned_total_sun > SUN_PER_TRX
    return batch, tz


def test_a_batch_above_the_threshold_waits_and_places_nothing(
    big, django_capture_on_commit_callbacks
):
    batch, _tz = big
    with django_capture_on_commit_callbacks() as queued:
        assert services.start(batch)
    assert batch.status == Batch.Status.AWAITING and not queued  # no task handed to the worker
    assert services.run_batch(batch.pk).status == Batch.Status.AWAITING  # a stray run does nothing
    assert not SandboxOrder.objects.exists()
    assert AuditEvent.objects.filter(action="batch.approval_requested").exists()


def test_a_batch_below_the_threshold_is_queued_at_once(big, settings):
    batch, _tz = big
    settings.ENERGYDASH_BATCH_APPROVAL_ABOVE_SUN = batch.planned_total_sun
    assert services.start(batch) and batch.status == Batch.Status.QUEUED


def test_another_operator_approves_and_the_lines_are_placed(big, checker, http):
    batch, _tz = big
    services.start(batch)
    assert approvals.approve(batch, checker, "payroll sweep", batch.planned_total_sun, client=http)
    batch.refresh_from_db()
    assert batch.status == Batch.Status.QUEUED and batch.approved_by == checker
    services.run_batch(batch.pk, client=http)
    assert SandboxOrder.objects.count() == 2
    assert set(batch.lines.values_list("status", flat=True)) == {BatchLine.Status.PLACED}
    # A second approval (a second click) queues nothing more.
    with pytest.raises(approvals.BatchApprovalRefused, match="not awaiting"):
        approvals.approve(batch, checker, "again", batch.planned_total_sun, client=http)


def test_the_creator_cannot_approve_their_own_batch(big, operator, http):
    batch, _tz = big
    services.start(batch)
    with pytest.raises(approvals.BatchApprovalRefused, match="You created this batch"):
        approvals.approve(batch, operator, "mine", batch.planned_total_sun, client=http)
    batch.refresh_from_db()
    assert batch.status == Batch.Status.AWAITING


def test_rejection_cancels_and_a_resume_asks_again(big, checker):
    batch, _tz = big
    services.start(batch)
    assert approvals.reject(batch, checker, "not today")
    assert batch.status == Batch.Status.CANCELLED
    assert services.start(batch) and batch.status == Batch.Status.AWAITING  # still unapproved
    assert not SandboxOrder.objects.exists()


def test_an_expired_request_cancels_the_batch(big, checker, http):
    batch, _tz = big
    services.start(batch)
    Batch.objects.filter(pk=batch.pk).update(
        approval_requested_at=timezone.now() - timedelta(hours=25)
    )
    batch.refresh_from_db()
    with pytest.raises(approvals.BatchApprovalRefused, match="expired"):
        approvals.approve(batch, checker, "late", batch.planned_total_sun, client=http)
    batch.refresh_from_db()
    assert batch.status == Batch.Status.CANCELLED and not SandboxOrder.objects.exists()


def test_a_total_that_rose_needs_approval_again(big, checker, http):
    batch, tz = big
    services.start(batch)
    seen = batch.planned_total_sun
    tz.sandbox.price_sun = Decimal("90")
    tz.sandbox.save(update_fields=["price_sun"])
    with pytest.raises(approvals.BatchApprovalRefused, match="needs approval again"):
        approvals.approve(batch, checker, "ok", seen, client=http)
    batch.refresh_from_db()
    assert batch.status == Batch.Status.AWAITING and batch.planned_total_sun > seen
    assert approvals.approve(batch, checker, "ok", batch.planned_total_sun, client=http)


def test_the_batch_page_offers_approval_to_another_operator(big, checker, client, operator):
    batch, _tz = big
    services.start(batch)
    page = reverse("batches:detail", args=[batch.code])
    client.force_login(operator)
    assert reverse("batches:approval", args=[batch.code]) not in client.get(page).content.decode()
    client.force_login(checker)
    assert reverse("batches:approval", args=[batch.code]) in client.get(page).content.decode()
    response = client.post(
        reverse("batches:approval", args=[batch.code]),
        {"decision": "reject", "comment": "no"},
        follow=True,
    )
    assert "rejected; nothing was placed" in response.content.decode()
    assert not SandboxOrder.objects.exists()
