"""django-q2 entry points for bulk orders."""

from __future__ import annotations

from energydash.batches import services
from energydash.batches.models import Batch

# Well under django-q2's task timeout (Q_CLUSTER["timeout"], 120 s): one slice of a batch.
SLICE_SECONDS = 60


def run_batch(batch_id: int) -> str:
    """Run one slice of a batch, then queue the next slice while lines are pending.

    A slice that finds the batch's lease held by a live worker does nothing and queues nothing:
    that worker queues its own next slice (and if it dies, the watchdog below resumes it).
    """
    from django_q.tasks import async_task

    batch = services.run_batch(batch_id, budget_seconds=SLICE_SECONDS)
    if batch is None:
        return f"batch {batch_id} does not exist"
    if not getattr(batch, "slice_ran", False):
        return f"batch {batch.short_code} {batch.status}: held by another worker"
    if batch.status == Batch.Status.RUNNING:
        async_task("energydash.batches.tasks.run_batch", batch_id, group="batches")
    figures = services.progress(batch)
    return f"batch {batch.short_code} {batch.status}: {figures}"


def resume_stalled_batches() -> str:
    """The watchdog (every minute): queue batches whose worker died; alert on long stalls."""
    found = services.resume_stalled()
    return f"{len(found)} stalled batch(es) queued again"
