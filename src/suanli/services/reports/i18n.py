"""Wording of the operating report in Chinese and English: titles, labels, and the templates
that turn a :class:`~.model.Message` into a sentence. A key without a label shows as itself,
so a missing translation is visible, never silent."""

from __future__ import annotations

from collections.abc import Mapping

from suanli.core.errors import ValidationError
from suanli.services.reports.model import Message

LANGS = ("zh", "en")

TITLES: Mapping[str, Mapping[str, str]] = {
    "en": {
        "report": "Operating report", "period": "Period", "currency": "Currency",
        "version": "Version", "generated": "Generated", "digest": "Figures digest (SHA-256)",
        "restates": "restates version", "flags": "Flags", "notes": "Notes",
        "capacity": "1. Capacity: announced → contracted → delivered → in service",
        "procurement": "2. Procurement", "contracts": "3. Contract book", "revenue": "4. Revenue",
        "receivables": "5. Receivables and expected credit loss", "operations": "6. Operations",
        "funds": "7. Uses of funds", "risks": "8. Risk factors, quantified",
        "twin": "9. Risk factors from the digital twin (projection)",
    },
    "zh": {
        "report": "经营报告", "period": "报告期", "currency": "币种", "version": "版本",
        "generated": "生成时间", "digest": "数据摘要 (SHA-256)", "restates": "更正版本",
        "flags": "风险提示", "notes": "说明",
        "capacity": "一、算力规模：公告 → 签约 → 交付 → 投运", "procurement": "二、采购",
        "contracts": "三、合同情况", "revenue": "四、收入", "receivables": "五、应收账款与预期信用损失",
        "operations": "六、运营", "funds": "七、资金用途", "risks": "八、风险因素（量化）",
        "twin": "九、数字孪生风险测算（预测）",
    },
}  # fmt: skip

LABELS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "announcements": "Announcements", "announced_p_fp16_sparse": "Announced (P, FP16 sparse)",
        "delivered_p_fp16_sparse": "Delivered (P, FP16 sparse)", "delivered_share": "Delivered share",
        "fleet_in_service_units": "Fleet in service (servers)", "fleet_in_service_gpus": "Fleet in service (GPUs)",
        "fleet_in_service_p_fp16_sparse": "Fleet in service (P, FP16 sparse)",
        "fleet_in_service_p_bf16_dense": "Fleet in service (P, BF16 dense)",
        "stage": "Stage", "units": "Servers", "gpus": "GPUs", "p_fp16_sparse": "P (FP16 sparse)",
        "p_bf16_dense": "P (BF16 dense)", "announced": "Announced", "contracted": "Contracted",
        "delivered": "Delivered", "in_service": "In service", "cause": "Cause of the gap",
        "never_ordered": "Never ordered", "cancelled": "Cancelled", "overdue": "Overdue (supplier shortfall)",
        "not_yet_due": "Not yet due",
        "orders_placed": "Orders placed", "units_ordered": "Servers ordered", "value_ordered": "Value ordered",
        "units_delivered": "Servers delivered", "value_delivered": "Value delivered",
        "units_cancelled": "Servers cancelled", "units_overdue": "Servers overdue at the end",
        "value_overdue": "Value overdue", "deposits_at_risk": "Deposits at risk",
        "line": "Order line", "sku": "SKU", "outstanding": "Outstanding", "promised_on": "Promised",
        "days_overdue": "Days overdue", "reason": "Reason", "sku_quarter": "SKU, order quarter",
        "average_unit_price": "Average unit price",
        "signed": "Contracts signed", "signed_servers": "Servers leased under new contracts",
        "signed_gpus_reserved": "GPUs reserved under new contracts", "ended": "Contracts ended",
        "active_at_end": "Contracts running at the end",
        "rpo_total": "Remaining performance obligations", "year": "Year", "amount": "Amount",
        "contract": "Contract", "end": "Last day", "status": "Status",
        "billed_net": "Billed (net of VAT)", "billed_tax": "VAT billed", "recognised": "Recognised",
        "collected": "Collected", "collected_applied": "Cash applied to invoices", "sla_credits": "SLA credits", "deferred_opening": "Deferred revenue, opening",
        "deferred_closing": "Deferred revenue, closing", "deferred_movement": "Deferred revenue, movement",
        "unbilled_closing": "Unbilled revenue, closing", "cumulative_billed_net": "Billed to date (net)",
        "cumulative_recognised": "Recognised to date", "tie_out_difference": "Billed − recognised to date",
        "top1_customer": "Largest customer", "top1_share": "Largest customer's share",
        "top5_share": "Five largest customers' share", "product": "Product",
        "rent": "Rent", "fee": "Fees", "usage": "Cloud usage", "tokens": "Inference tokens", "true_up": "Commitment true-up",
        "penalty": "Termination penalties", "sla_credit": "SLA credits", "credit_notes": "Credit notes",
        "open_total": "Open receivables", "ecl_provision": "ECL allowance", "ecl_coverage": "Coverage",
        "bucket": "Days since invoice", "open": "Open", "rate_pct": "Loss rate (%)",
        "provision": "Allowance", "customer": "Customer",
        "occupancy": "Occupancy", "breakeven_occupancy": "Break-even occupancy",
        "pool_utilisation": "Cloud pool utilisation", "failures": "Server failures",
        "downtime_server_hours": "Downtime (server-hours)", "sla_events": "SLA downtime events",
        "server_days_serviceable": "Serviceable server-days", "server_days_leased": "Leased server-days",
        "capex_total": "Capex (servers delivered)", "transfers_total": "Transfers",
        "raised_outside_purpose": "Raised funds used outside the announced purpose",
        "source": "Funding source", "capex_delivered": "Capex delivered", "transfers": "Transfers",
        "none_in_period": "None.", "ref": "Reference", "date": "Date", "counterparty": "Counterparty",
        "announcement": "Announcement", "disclosed": "Disclosed", "raised": "Raised funds",
        "own": "Own funds", "loan": "Loans", "unspecified": "Unspecified",
        "p_loss": "P(loss over the horizon)", "payback_p50_months": "Median payback (months)",
        "npv_base_m": "NPV, calibrated base case (M CNY)", "open_order_value": "Open orders (value)",
        "by_product": "Revenue by product", "ecl_matrix": "Provision matrix", "aging": "Aging by customer",
        "rpo_by_year": "Remaining performance obligations by year", "unit_price": "Unit price over time",
        "by_source": "By funding source", "capacity": "Capacity by stage", "gap": "Gap to the announcement",
        "renewed": "Contracts renewed", "renewed_servers": "Servers under renewed contracts",
        "renewed_months": "Months added by renewals", "renewals": "Renewals", "renewal": "Renewal",
        "previous_end": "Previous end", "new_end": "New end", "automatic": "Automatic",
        "ecl_opening": "ECL allowance, opening", "ecl_charge": "ECL charge for the period",
        "write_offs": "Written off in the period", "write_offs_count": "Number of write-offs", "months": "Months",
        "write_off_list": "Write-offs", "invoice": "Invoice",
        "recoveries": "Recovered after write-off in the period", "recoveries_count": "Number of recoveries",
        "write_offs_net": "Written off net of recoveries", "recovery_list": "Recoveries of amounts written off", "write_off": "Write-off",
        "twin_by_sku": "The twin by SKU", "twin_servers_sku": "Servers", "market_rent": "Market rent",
        "requests_per_month": "Requests/month", "renewal_pct": "Renewal %", "wtp_range": "WTP × market",
        "overdue_lines": "Overdue order lines", "cancellations": "Cancellations",
        "twin_servers": "Servers in the twin", "twin_occupancy_ahead": "Projected occupancy, next 12 months",
        "twin_p_npv_negative": "P(NPV < 0 over the horizon)",
        "twin_revenue_ahead_mean": "Projected revenue, next 12 months (mean)",
        "twin_revenue_ahead_p5": "Projected revenue, next 12 months (5th percentile)",
        "twin_revenue_at_risk": "Revenue at risk, next 12 months (mean − 5th percentile)",
        "twin_revenue_contracted": "Of which under leases in force",
    },
    "zh": {
        "announcements": "公告数", "announced_p_fp16_sparse": "公告算力（P，FP16 稀疏）",
        "delivered_p_fp16_sparse": "已交付算力（P，FP16 稀疏）", "delivered_share": "交付比例",
        "fleet_in_service_units": "投运服务器（台）", "fleet_in_service_gpus": "投运 GPU（张）",
        "fleet_in_service_p_fp16_sparse": "投运算力（P，FP16 稀疏）",
        "fleet_in_service_p_bf16_dense": "投运算力（P，BF16 稠密）",
        "stage": "阶段", "units": "服务器（台）", "gpus": "GPU（张）", "p_fp16_sparse": "P（FP16 稀疏）",
        "p_bf16_dense": "P（BF16 稠密）", "announced": "公告", "contracted": "签约",
        "delivered": "交付", "in_service": "投运", "cause": "差距原因", "never_ordered": "未下单",
        "cancelled": "已取消", "overdue": "逾期未交付（供应商短缺）", "not_yet_due": "未到期", "overdue_lines": "逾期订单行",
        "orders_placed": "新增订单", "units_ordered": "订购服务器（台）", "value_ordered": "订购金额",
        "units_delivered": "交付服务器（台）", "value_delivered": "交付金额",
        "units_cancelled": "取消服务器（台）", "units_overdue": "期末逾期（台）",
        "value_overdue": "逾期金额", "deposits_at_risk": "风险预付款",
        "line": "订单行", "sku": "型号", "outstanding": "未交付", "promised_on": "承诺交期",
        "days_overdue": "逾期天数", "reason": "原因", "sku_quarter": "型号、下单季度",
        "average_unit_price": "平均单价",
        "signed": "新签合同", "signed_servers": "新签租赁服务器（台）",
        "signed_gpus_reserved": "新签预留 GPU（张）", "ended": "到期或终止合同",
        "active_at_end": "期末执行中合同", "rpo_total": "剩余履约义务", "year": "年度", "amount": "金额",
        "contract": "合同", "end": "最后服务日", "status": "状态",
        "billed_net": "开票金额（不含税）", "billed_tax": "开票税额", "recognised": "确认收入",
        "collected": "回款", "collected_applied": "已匹配发票的回款", "sla_credits": "SLA 赔付", "deferred_opening": "合同负债（期初）",
        "deferred_closing": "合同负债（期末）", "deferred_movement": "合同负债变动",
        "unbilled_closing": "已确认未开票（期末）", "cumulative_billed_net": "累计开票（不含税）",
        "cumulative_recognised": "累计确认收入", "tie_out_difference": "累计开票 − 累计确认",
        "top1_customer": "第一大客户", "top1_share": "第一大客户占比", "top5_share": "前五大客户占比",
        "product": "产品", "rent": "租金", "fee": "服务费", "usage": "云算力用量", "tokens": "推理 Token", "true_up": "承诺量补差",
        "penalty": "违约金", "sla_credit": "SLA 赔付", "credit_notes": "红字发票",
        "open_total": "应收账款余额", "ecl_provision": "预期信用损失准备", "ecl_coverage": "计提比例",
        "bucket": "账龄（天）", "open": "余额", "rate_pct": "损失率（%）", "provision": "计提金额",
        "customer": "客户", "occupancy": "出租率", "breakeven_occupancy": "盈亏平衡出租率",
        "pool_utilisation": "算力池利用率", "failures": "服务器故障次数",
        "downtime_server_hours": "停机（台·小时）", "sla_events": "SLA 停机事件",
        "server_days_serviceable": "可服务台·日", "server_days_leased": "出租台·日",
        "capex_total": "资本开支（已交付服务器）", "transfers_total": "资金划转",
        "raised_outside_purpose": "募集资金用于公告用途以外", "source": "资金来源",
        "capex_delivered": "已交付资本开支", "transfers": "资金划转", "none_in_period": "无。", "ref": "编号", "date": "日期",
        "counterparty": "对方", "announcement": "对应公告", "disclosed": "已披露",
        "raised": "募集资金", "own": "自有资金", "loan": "借款", "unspecified": "未指定",
        "p_loss": "亏损概率（测算期内）", "payback_p50_months": "回收期中位数（月）",
        "npv_base_m": "校准基准情形净现值（百万元）", "open_order_value": "未交付订单金额",
        "by_product": "按产品收入", "ecl_matrix": "准备矩阵", "aging": "按客户账龄",
        "rpo_by_year": "按年度剩余履约义务", "unit_price": "单价走势", "by_source": "按资金来源",
        "capacity": "各阶段算力", "gap": "与公告的差距", "cancellations": "取消明细",
        "renewed": "续约合同", "renewed_servers": "续约服务器（台）", "renewed_months": "续约增加月数",
        "renewals": "续约明细", "renewal": "续约", "previous_end": "原到期日", "new_end": "新到期日",
        "automatic": "自动续约", "ecl_opening": "预期信用损失准备（期初）",
        "ecl_charge": "本期计提", "write_offs": "本期核销", "write_offs_count": "核销笔数", "months": "月数",
        "write_off_list": "核销明细", "invoice": "发票",
        "recoveries": "本期已核销款项收回", "recoveries_count": "收回笔数",
        "write_offs_net": "核销净额（扣除收回）", "recovery_list": "已核销款项收回明细", "write_off": "核销单",
        "twin_by_sku": "孪生模型（按型号）", "twin_servers_sku": "台数", "market_rent": "市场月租",
        "requests_per_month": "月需求数", "renewal_pct": "续约%", "wtp_range": "支付意愿倍数",
        "twin_servers": "孪生模型服务器（台）", "twin_occupancy_ahead": "未来 12 个月预计出租率",
        "twin_p_npv_negative": "净现值为负的概率（测算期内）",
        "twin_revenue_ahead_mean": "未来 12 个月预计收入（均值）",
        "twin_revenue_ahead_p5": "未来 12 个月预计收入（5% 分位）",
        "twin_revenue_at_risk": "未来 12 个月风险收入（均值 − 5% 分位）",
        "twin_revenue_contracted": "其中：在执行租约",
    },
}  # fmt: skip

MESSAGES: Mapping[str, Mapping[str, str]] = {
    "en": {
        "capacity.convention": "P (petaFLOPS) is given under two conventions: FP16 with sparsity, as vendors and announcements usually quote it, and BF16 dense, about half of it. Per-server values come from the catalog.",
        "capacity.shortfall": "Announcement {ref} of {announced_on} stated {stated_p} P ({convention}); its SKU mix is {announced_p} P FP16 sparse, of which {delivered_p} P ({share} %) was delivered by the end of the period. {cancelled} servers were cancelled ({reasons}) and {overdue} are overdue from the supplier.",
        "procurement.deposits_at_risk": "{amount} CNY was paid to suppliers with overdue deliveries ({suppliers}).",
        "contracts.renewals": "A renewal is counted on the day it was agreed (an automatic renewal on the day the new term begins). Remaining obligations and contract ends are as known at the end of the period: a renewal agreed later does not restate them.",
        "revenue.tie_out": "Tie-out: billed to date − recognised to date = deferred revenue − unbilled revenue − unapplied cash. Revenue is recognised as the service is delivered (CAS 14 / IFRS 15); VAT is excluded.",
        "revenue.concentration": "Customer concentration: {customer} accounts for {top1} % of revenue recognised in the period and the five largest customers for {top5} % (flag thresholds {top1_limit} % and {top5_limit} %).",
        "receivables.ecl_movement": "The allowance follows the simplified approach (CAS 22 / IFRS 9): a provision matrix by aging bucket with the loss rates set by the operator. Movement: opening + charge for the period − amounts written off + amounts recovered = closing. Write-offs are gross amounts declared uncollectable, with a reason, and leave the open receivables on their effective date; a recovery reinstates a written-off amount on its effective date (the cash received for it is then applied like any payment), so it re-enters the open receivables and the matrix.",
        "operations.definitions": "Occupancy = leased server-seconds / serviceable server-seconds, from the server transition log. Break-even occupancy: NPV = 0 in the calibrated scenario of section 8.",
        "operations.below_breakeven": "Occupancy of {occupancy} % is below the break-even occupancy of {breakeven} %.",
        "funds.raised_outside_purpose": "Transfer {ref} of {date}: {amount} CNY of raised funds to {counterparty} for \"{purpose}\" serves no announced purpose of the raised funds (disclosed: {disclosed}).",
        "funds.raised_undisclosed": "Transfer {ref}: {amount} CNY of raised funds has not been disclosed.",
        "funds.raised_order_unannounced": "Order {order} is paid from raised funds but no announcement funded by raised funds lists it.",
        "risk.loss": "With {servers} servers at {unit_price} CNY, rent {rent} CNY per server-month and occupancy {occupancy} % (scenario {scenario}; {paths} Monte Carlo paths, seed {seed}), the probability of a net loss over the horizon is {p_loss} % and of a negative NPV {p_npv_negative} %.",
        "risk.payback": "Payback on the same assumptions: P10 {p10}, median {p50}, P90 {p90} months; {never} % of paths never pay back within the horizon.",
        "risk.rent": "A 20 % fall in rent would move the NPV from {base_npv_m} M CNY to {npv_m} M CNY (other assumptions as above).",
        "risk.occupancy": "A 20 % fall in occupancy would move the NPV from {base_npv_m} M CNY to {npv_m} M CNY (other assumptions as above).",
        "risk.delivery": "Delivery risk: {open_units} ordered servers worth {open_value} CNY are not delivered; {overdue_units} of them ({overdue_value} CNY, {overdue_share} %) are past their promised date.",
        "twin.basis": "The digital twin {scenario} for {sku} is seeded from the ledger as it stood on {as_of}: {servers} installed {sku} servers (average purchase price {unit_price} CNY) and {leases} leases in force on {leased} servers at their contract rents. New demand is the scenario's per server: about {arrivals} lease requests a month, mostly for 1-2 servers on 1-3-month terms, at a market rent of {market_rent} CNY per server-month ({vat_basis}; the {sku} leases' own average, or the scenario's rent scaled by purchase price when it has none) falling {decline} % a year. It runs {horizon} months from {start}, {paths} paths from seed {seed}.",
        "twin.basis_ledger": "The digital twin {scenario} for {sku} is seeded from the ledger as it stood on {as_of}: {servers} installed {sku} servers (average purchase price {unit_price} CNY) and {leases} leases in force on {leased} servers at their contract rents. New demand follows the ledger: the {requests} leases of {sku} signed in the last {history} months, {signed_rate} signed a month (sizes in servers:leases {sizes}; terms in months:leases {terms}), at their average rent of {market_rent} CNY per server-month ({vat_basis}) falling {decline} % a year; the twin draws {arrivals} requests a month; requests the ledger never saw are not counted, so this demand is a floor. It runs {horizon} months from {start}, {paths} paths from seed {seed}.",
        "twin.basis_pooled": "The digital twin {scenario} for {sku} is seeded from the ledger as it stood on {as_of}: {servers} installed {sku} servers (average purchase price {unit_price} CNY) and {leases} leases in force on {leased} servers at their contract rents. {sku} has too few leases of its own to calibrate its demand, so new demand follows the whole ledger per server: the {requests} leases of all SKUs signed in the last {history} months, {signed_rate} signed a month on {all_servers} servers (sizes in servers:leases {sizes}; terms in months:leases {terms}), taken for {sku}'s {servers} servers and divided by the share who pay the market rent: {arrivals} requests a month, at {sku}'s own average rent of {market_rent} CNY per server-month ({vat_basis}) falling {decline} % a year; requests the ledger never saw are not counted, so this demand is a floor. It runs {horizon} months from {start}, {paths} paths from seed {seed}.",
        "twin.renewal_ledger": "Renewals of {sku} follow the ledger: {renewed} of the {term_ends} lease terms that ended in the last {history} months were renewed, so a lease renews with probability {renewal} % at the end of its term.",
        "twin.renewal_scenario": "Renewals of {sku} keep the scenario's probability of {renewal} %: the ledger has {term_ends} lease terms that ended in the last {history} months ({renewed} renewed), fewer than the {minimum} needed to calibrate it.",
        "twin.wtp_ledger": "Willingness to pay for {sku} follows the ledger: the {n} leases signed in the last {history} months paid {low} to {high} times their average rent, so it is drawn uniformly on that range (the ledger keeps no server-month list price, so the average contract rent stands for the market); since those leases are the requests that accepted, the request rate is the signed rate divided by the {accept} % who would pay the market rent.",
        "twin.wtp_scenario": "Willingness to pay for {sku} keeps the scenario's {low} to {high} times the market rent ({accept} % of requests pay the market rent): it is calibrated only with demand calibrated from the SKU's own leases and at least two distinct contract rents among them.",
        "twin.combined": "The twin runs one model per SKU ({skus}; {servers} servers) on the same {paths} paths from seed {seed} and adds them path by path; the fixed costs (staff, bandwidth) are shared by server count, and income tax is computed per SKU, so a loss on one SKU does not offset another's profit.",
        "twin.occupancy": "Projected occupancy over the next {ahead} months: {occupancy} % on average across paths (P5 {p5} %, P95 {p95} %), {horizon_occupancy} % over the {horizon}-month horizon; leases in force cover {contracted} % of the servers in the first month.",
        "twin.loss": "On the twin's paths the probability of a net loss over the {horizon}-month horizon is {p_loss} % and of a negative NPV {p_npv_negative} % (NPV P5 {npv_p5_m}, median {npv_p50_m}, P95 {npv_p95_m} M CNY; the servers are counted at their purchase price in month 0 and sold at the horizon).",
        "twin.payback": "Payback on the twin's paths: P10 {p10}, median {p50}, P90 {p90} months; {never} % of paths do not pay back within the {horizon}-month horizon (n/a: beyond it).",
        "twin.revenue": "Revenue at risk: billed revenue over the next {ahead} months (net of VAT, after SLA credits) is projected at {mean} CNY on average, of which {contracted} CNY ({contracted_share} %) is under leases in force; in the worst 5 % of paths it is {p5} CNY or less, {at_risk} CNY ({at_risk_share} %) below the mean.",
        "twin.projection": "This section is a projection of a seeded simulation, not a figure of the ledger: it is not archived with the report, not part of the figures digest, and a change in it is not a restatement. It is left out with --no-twin (API: twin=false).",
    },
    "zh": {
        "capacity.convention": "算力（P，即 PFLOPS）按两种口径列示：厂商与公告常用的 FP16 稀疏口径，以及约为其一半的 BF16 稠密口径。单台数值取自产品目录。",
        "capacity.shortfall": "公告 {ref}（{announced_on}）称 {stated_p} P（{convention}）；其型号构成折合 {announced_p} P（FP16 稀疏），截至期末交付 {delivered_p} P（{share}%）。取消 {cancelled} 台（{reasons}），供应商逾期未交付 {overdue} 台。",
        "procurement.deposits_at_risk": "已向存在逾期交付的供应商（{suppliers}）支付 {amount} 元。",
        "contracts.renewals": "续约按约定日计入（自动续约按新合同期开始日计入）。剩余履约义务与合同到期按期末已知情况列示，期后约定的续约不追溯调整本期。",
        "revenue.tie_out": "勾稽：累计开票 − 累计确认收入 = 合同负债 − 已确认未开票 − 未核销预收款。收入按服务提供确认（CAS 14 / IFRS 15），不含增值税。",
        "revenue.concentration": "客户集中度：{customer} 占本期确认收入的 {top1}%，前五大客户合计 {top5}%（提示阈值 {top1_limit}% 与 {top5_limit}%）。",
        "receivables.ecl_movement": "减值准备按简化方法（CAS 22 / IFRS 9）以账龄准备矩阵及经营者设定的损失率计提。变动：期初 + 本期计提 − 本期核销 + 本期收回 = 期末。核销金额含税，附核销原因，自生效日起不再计入应收账款余额；已核销款项收回自生效日起恢复为应收账款（收到的款项随后按一般收款核销），重新计入账龄矩阵。",
        "operations.definitions": "出租率 = 出租台·秒 / 可服务台·秒，取自服务器状态记录。盈亏平衡出租率：第八节校准情形下净现值为零时的出租率。",
        "operations.below_breakeven": "出租率 {occupancy}% 低于盈亏平衡出租率 {breakeven}%。",
        "funds.raised_outside_purpose": "划转 {ref}（{date}）：募集资金 {amount} 元转至 {counterparty}，用途为\u201c{purpose}\u201d，不属于募集资金公告用途（已披露：{disclosed}）。",
        "funds.raised_undisclosed": "划转 {ref}：募集资金 {amount} 元尚未披露。",
        "funds.raised_order_unannounced": "订单 {order} 以募集资金支付，但未列入任何募集资金公告。",
        "risk.loss": "按 {servers} 台服务器、单价 {unit_price} 元、月租 {rent} 元/台、出租率 {occupancy}%（情形 {scenario}；蒙特卡洛 {paths} 条路径，种子 {seed}）测算，测算期内净亏损概率为 {p_loss}%，净现值为负的概率为 {p_npv_negative}%。",
        "risk.payback": "同一假设下回收期：P10 {p10} 个月，中位数 {p50} 个月，P90 {p90} 个月；{never}% 的路径在测算期内无法收回投资。",
        "risk.rent": "租金下降 20% 将使净现值由 {base_npv_m} 百万元变为 {npv_m} 百万元（其他假设同上）。",
        "risk.occupancy": "出租率下降 20% 将使净现值由 {base_npv_m} 百万元变为 {npv_m} 百万元（其他假设同上）。",
        "risk.delivery": "交付风险：已订购未交付服务器 {open_units} 台，金额 {open_value} 元；其中 {overdue_units} 台（{overdue_value} 元，{overdue_share}%）已超过承诺交期。",
        "twin.basis": "{sku} 的数字孪生情形 {scenario} 以 {as_of} 的账面数据为初值：已安装 {sku} 服务器 {servers} 台（平均采购价 {unit_price} 元），在执行租约 {leases} 份、涉及 {leased} 台，按合同租金计。新增需求按情形假设的单台需求折算：每月约 {arrivals} 个租赁需求，多为 1-2 台、1-3 个月；市场月租 {market_rent} 元/台（{vat_basis}；取该型号租约的平均租金，无租约时按采购价折算情形租金），每年下降 {decline}%。自 {start} 起模拟 {horizon} 个月，{paths} 条路径，种子 {seed}。",
        "twin.basis_ledger": "{sku} 的数字孪生情形 {scenario} 以 {as_of} 的账面数据为初值：已安装 {sku} 服务器 {servers} 台（平均采购价 {unit_price} 元），在执行租约 {leases} 份、涉及 {leased} 台，按合同租金计。新增需求按账面推算：近 {history} 个月签订的 {sku} 租约 {requests} 份，每月签约 {signed_rate} 份（规模 台数:份数 {sizes}；期限 月数:份数 {terms}），按其平均月租 {market_rent} 元/台（{vat_basis}），每年下降 {decline}%；孪生模型每月抽取 {arrivals} 个需求；账面未记录的需求不计入，故为需求下限。自 {start} 起模拟 {horizon} 个月，{paths} 条路径，种子 {seed}。",
        "twin.basis_pooled": "{sku} 的数字孪生情形 {scenario} 以 {as_of} 的账面数据为初值：已安装 {sku} 服务器 {servers} 台（平均采购价 {unit_price} 元），在执行租约 {leases} 份、涉及 {leased} 台，按合同租金计。{sku} 自身租约过少，无法单独校准需求，故新增需求按全部账面按台折算：近 {history} 个月各型号共签订租约 {requests} 份，{all_servers} 台服务器每月签约 {signed_rate} 份（规模 台数:份数 {sizes}；期限 月数:份数 {terms}），按 {sku} 的 {servers} 台折算并除以愿意支付市场租金的比例，得每月 {arrivals} 个需求；租金取 {sku} 自身租约的平均月租 {market_rent} 元/台（{vat_basis}），每年下降 {decline}%；账面未记录的需求不计入，故为需求下限。自 {start} 起模拟 {horizon} 个月，{paths} 条路径，种子 {seed}。",
        "twin.renewal_ledger": "{sku} 的续约按账面推算：近 {history} 个月到期的 {term_ends} 个租期中有 {renewed} 个续约，故租约到期时以 {renewal}% 的概率续约。",
        "twin.renewal_scenario": "{sku} 的续约沿用情形假设的 {renewal}%：近 {history} 个月账面仅有 {term_ends} 个租期到期（续约 {renewed} 个），少于校准所需的 {minimum} 个。",
        "twin.wtp_ledger": "{sku} 的支付意愿按账面推算：近 {history} 个月签订的 {n} 份租约的租金为其平均租金的 {low} 至 {high} 倍，故在该区间均匀抽取（账面没有按台月计的价目表，以平均合同租金代表市场租金）；这些租约是已接受报价的需求，故需求到达率为签约率除以愿意支付市场租金的比例 {accept}%。",
        "twin.wtp_scenario": "{sku} 的支付意愿沿用情形假设的市场租金 {low} 至 {high} 倍（{accept}% 的需求愿意支付市场租金）：仅在需求已按该型号自身租约校准、且其中至少有两种不同租金时才校准。",
        "twin.combined": "孪生模型按型号分别建模（{skus}；共 {servers} 台），使用相同的 {paths} 条路径（种子 {seed}）并逐路径相加；固定成本（人员、带宽）按台数分摊，所得税按型号分别计算，一个型号的亏损不抵减另一型号的利润。",
        "twin.occupancy": "未来 {ahead} 个月预计出租率：各路径平均 {occupancy}%（P5 {p5}%，P95 {p95}%），{horizon} 个月测算期内平均 {horizon_occupancy}%；首月在执行租约覆盖 {contracted}% 的服务器。",
        "twin.loss": "孪生模型各路径中，{horizon} 个月测算期内净亏损概率为 {p_loss}%，净现值为负的概率为 {p_npv_negative}%（净现值 P5 {npv_p5_m}、中位数 {npv_p50_m}、P95 {npv_p95_m} 百万元；服务器按采购价计入第 0 月，测算期末出售）。",
        "twin.payback": "孪生模型回收期：P10 {p10} 个月，中位数 {p50} 个月，P90 {p90} 个月；{never}% 的路径在 {horizon} 个月测算期内无法收回投资（n/a 表示超出测算期）。",
        "twin.revenue": "风险收入：未来 {ahead} 个月开票收入（不含税，扣除 SLA 赔付）预计平均 {mean} 元，其中在执行租约 {contracted} 元（{contracted_share}%）；最差 5% 的路径不高于 {p5} 元，比均值低 {at_risk} 元（{at_risk_share}%）。",
        "twin.projection": "本节为带种子模拟的预测，并非账面数据：不随报告归档，不计入数据摘要，其变化不构成更正。可用 --no-twin（API：twin=false）省略本节。",
    },
}  # fmt: skip


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValidationError("report.unknown_lang", f"unknown language {lang!r}",
                              {"lang": f"one of {list(LANGS)}"})  # fmt: skip
    return lang


def title(lang: str, key: str) -> str:
    return TITLES[lang].get(key, key)


def label(lang: str, key: str) -> str:
    return LABELS[lang].get(key, key)


#: message parameters whose values are words to translate, not figures or names
WORDS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "fp16_sparse": "FP16 sparse",
        "bf16_dense": "BF16 dense",
        "yes": "yes",
        "no": "no",
        "incl_vat": "VAT included",
        "net": "net of VAT",
    },
    "zh": {
        "fp16_sparse": "FP16 稀疏",
        "bf16_dense": "BF16 稠密",
        "yes": "是",
        "no": "否",
        "incl_vat": "含税",
        "net": "不含税",
    },
}
WORD_PARAMS = frozenset({"convention", "disclosed", "vat_basis"})


def sentence(lang: str, message: Message) -> str:
    template = MESSAGES[lang].get(message.key)
    if template is None:
        return message.key
    params = {
        k: WORDS[lang].get(v, v) if k in WORD_PARAMS else v for k, v in message.params.items()
    }
    return template.format(**params)
