"""django-q2 entry points for bulk orders."""

from __future__ import annotations

from energydash.batches import services
from energydash.batches.models import Batch

# Well under django-q2's task timeout (Q_CLUSTER["timeout"], 120 s): one slice of a batch.
SLICE_SECONDS = 60


def run_batch(batch_id: int) -> str:
    """Run one slice of a batch, then queue the next slice while lines are pending."""
    from django_q.tasks import async_task

    batch = services.run_batch(batch_id, budget_seconds=SLICE_SECONDS)
    if batch is None:
        return f"batch {batch_id} does not exist"
    if batch.status == Batch.Status.RUNNING:
        async_task("energydash.batches.tasks.run_batch", batch_id, group="batches")
    figures = services.progress(batch)
    return f"batch {batch.short_code} {batch.status}: {figures}"
