"""`suanli plan purchase --from-ledger`: supplier delivery risk read from the procurement
history of the database (SQLite; the history arithmetic is unit-tested)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def test_plan_reads_delivery_risk_from_the_ledger(cli: Any, tmp_path: Path) -> None:
    """PO-1: 4 H800 ordered 2024-01-02, promised 2024-03-01 (lead 1.94 -> 2 months); 3
    delivered 2024-04-01 (31 days late), the 4th cancelled: shortfall 0.25. The H20 line is
    still open, so it is no observation."""
    assert cli("db", "upgrade")[0] == 0
    cli("po", "suppliers", "add", "New H3C")
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "number,supplier,ordered_on,sku,quantity,unit_price,promised_on\n"
        "PO-1,New H3C,2024-01-02,HGX-H800-8,4,2600000,2024-03-01\n"
        "PO-1,New H3C,2024-01-02,HGX-H20-8,8,1100000,2024-02-01\n"
    )
    assert cli("po", "import", str(orders))[0] == 0
    code, _, err = cli(
        "po", "deliver", "PO-1", "--line", "1", "--date", "2024-04-01", "A", "B", "C"
    )
    assert code == 0, err
    assert cli("po", "cancel", "PO-1", "--line", "1", "--reason", "short")[0] == 0
    argv = ["plan", "purchase", "--from-ledger", "--scenarios", "10", "--oos-scenarios", "100"]
    code, out, err = cli(*argv, "--json")
    assert code == 0, err
    history = json.loads(out)["delivery_history"]
    assert history == [
        {
            "sku": "HGX-H800-8",
            "closed_lines": 1,
            "lead_time_months": 2,
            "delays": 1,
            "mean_shortfall": 0.25,
        }
    ]
