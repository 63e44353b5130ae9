"""ORM rows, split by area. Importing this package registers every table on ``Base.metadata``.

Rows are persistence only; services convert them to the domain types of ``suanli.core``.
"""

from suanli.store.models.fleet import CabinetRow, ServerRow, ServerTransitionRow, SiteRow
from suanli.store.models.procurement import (
    DeliveryRow,
    PurchaseOrderLineRow,
    PurchaseOrderRow,
    SupplierRow,
)

__all__ = [
    "CabinetRow",
    "DeliveryRow",
    "PurchaseOrderLineRow",
    "PurchaseOrderRow",
    "ServerRow",
    "ServerTransitionRow",
    "SiteRow",
    "SupplierRow",
]
