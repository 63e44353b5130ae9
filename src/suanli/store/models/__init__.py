"""ORM rows, split by area. Importing this package registers every table on ``Base.metadata``.

Rows are persistence only; services convert them to the domain types of ``suanli.core``.
"""

from suanli.store.models.billing import (
    CreditApplicationRow,
    CreditReleaseRow,
    InvoiceLineRow,
    InvoiceRow,
    InvoiceSeriesRow,
    PaymentAllocationRow,
    PaymentRow,
    RecoveryRow,
    WriteOffRow,
)
from suanli.store.models.cluster import (
    CloudJobNodeRow,
    CloudJobRow,
    ClusterNodeRow,
    ClusterPollRow,
    ClusterWatermarkRow,
)
from suanli.store.models.fleet import CabinetRow, ServerRow, ServerTransitionRow, SiteRow
from suanli.store.models.leasing import (
    ContractRenewalRow,
    ContractRow,
    LeaseAllocationRow,
    PriceRow,
    SlaEventRow,
    UsageRecordRow,
)
from suanli.store.models.procurement import (
    DeliveryRow,
    PurchaseOrderLineRow,
    PurchaseOrderRow,
    SupplierRow,
)
from suanli.store.models.reports import (
    AnnouncementOrderRow,
    AnnouncementRow,
    FundTransferRow,
    ReportArchiveRow,
)
from suanli.store.models.tenancy import ApiTokenRow, CustomerRow, IdempotencyKeyRow, UserRow
from suanli.store.models.tokens import InferencePriceRow, TokenUsageRow

__all__ = [
    "AnnouncementOrderRow",
    "AnnouncementRow",
    "ApiTokenRow",
    "CabinetRow",
    "CloudJobNodeRow",
    "CloudJobRow",
    "ClusterNodeRow",
    "ClusterPollRow",
    "ClusterWatermarkRow",
    "ContractRenewalRow",
    "ContractRow",
    "CreditApplicationRow",
    "CreditReleaseRow",
    "CustomerRow",
    "DeliveryRow",
    "FundTransferRow",
    "IdempotencyKeyRow",
    "InferencePriceRow",
    "InvoiceLineRow",
    "InvoiceRow",
    "InvoiceSeriesRow",
    "LeaseAllocationRow",
    "PaymentAllocationRow",
    "PaymentRow",
    "PriceRow",
    "PurchaseOrderLineRow",
    "PurchaseOrderRow",
    "RecoveryRow",
    "ReportArchiveRow",
    "ServerRow",
    "ServerTransitionRow",
    "SiteRow",
    "SlaEventRow",
    "SupplierRow",
    "TokenUsageRow",
    "UsageRecordRow",
    "UserRow",
    "WriteOffRow",
]
