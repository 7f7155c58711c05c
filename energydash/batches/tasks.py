"""django-q2 entry points for bulk orders."""

from __future__ import annotations

from energydash.batches import services


def run_batch(batch_id: int) -> str:
    batch = services.run_batch(batch_id)
    if batch is None:
        return f"batch {batch_id} does not exist"
    figures = services.progress(batch)
    return f"batch {batch.short_code} {batch.status}: {figures}"
