from __future__ import annotations

from assignment.models import Pool


def pool_name_map() -> dict[int, str]:
    """The tenant's pools by id, for filters and labels (a tenant has a handful)."""
    return dict(Pool.objects.order_by("name").values_list("id", "name"))


def pool_default() -> Pool:
    return Pool.objects.get(is_default=True)
