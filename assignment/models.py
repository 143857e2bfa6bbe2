from django.db import models

from leadcrm.models import TenantOwnedModel


class Pool(TenantOwnedModel):
    """A lead pool (线索池). Membership, claim and recycle rules arrive with assignment."""

    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)
    is_default = models.BooleanField(default=False)

    class Meta(TenantOwnedModel.Meta):
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="pool_unique_name_per_tenant")]

    def __str__(self) -> str:
        return self.name
