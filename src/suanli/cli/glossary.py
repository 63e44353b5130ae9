"""Column headers of the CLI's tables in the reader's language (``--lang`` / ``SUANLI_LANG``).

A table column is named by its row key (``due_date``) or a header (``P fp16 sparse``);
:func:`suanli.cli.render.print_table` translates it with :func:`suanli.core.i18n.gettext`, and
this module marks the keys of the tables operators read every day so that ``make messages``
puts them in the catalog. A key without a translation shows as it is (so ``--json`` keys and
headers still match in English). Units in parentheses ("net (CNY)") are not translated.
"""

from __future__ import annotations

from suanli.core.i18n import N_

HEADERS = (
    # fleet, purchase orders, catalog
    N_("serial"), N_("sku"), N_("state"), N_("site_code"), N_("cabinet_code"), N_("supplier"),
    N_("po_number"), N_("line_no"), N_("purchase_price"), N_("network_group"), N_("number"),
    N_("quantity"), N_("unit_price"), N_("promised_on"), N_("delivered"), N_("cancelled"),
    N_("outstanding"), N_("delivered_on"), N_("actor"), N_("ordered_on"), N_("days_overdue"),
    N_("outstanding_money"), N_("at"), N_("from_state"), N_("to_state"), N_("reason"),
    N_("code"), N_("name"), N_("city"), N_("country"), N_("power_budget_kw"), N_("used_kw"),
    N_("servers"), N_("gpu"), N_("gpus"), N_("memory_gb"), N_("nvlink_gbps"), N_("tdp_w"),
    N_("fp16_sparse_tflops"), N_("bf16_dense_tflops"), N_("fp8_dense_tflops"),
    N_("nameplate_kw"), N_("p_fp16_sparse"), N_("p_bf16_dense"), N_("P fp16 sparse"),
    N_("P bf16 dense"), N_("units"), N_("money"), N_("order"), N_("BF16 dense"),
    N_("FP16 sparse"), N_("FP8 dense"), N_("mem"), N_("GPUs"),
    # contracts, invoices, receivables
    N_("customer"), N_("kind"), N_("server_count"), N_("start_date"), N_("end_date"),
    N_("monthly_rent"), N_("status"), N_("period"), N_("issue_date"), N_("due_date"),
    N_("net"), N_("tax"), N_("gross"), N_("credit"), N_("total"), N_("description"),
    N_("unit"), N_("vat_rate"), N_("amount"), N_("item"), N_("invoice"), N_("ref"),
    N_("written_off_on"), N_("priority_class"), N_("gpu_hour_price"), N_("valid_from"),
    N_("key"), N_("currency"), N_("gpu_hours"), N_("invoiced"),
    # simulations
    N_("policy"), N_("jobs"), N_("load"), N_("avg_jct"), N_("p99_jct"), N_("avg_queue"),
    N_("utilization"), N_("dropped"), N_("metric"), N_("value"), N_("statistic"),
    N_("figure"), N_("vc"), N_("file"),
)  # fmt: skip
