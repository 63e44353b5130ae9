"""The digital twin of a computing-power business (issue 14), pure and seeded.

A twin runs months of operation of a planned or existing fleet under modelled demand and hands
its own occupancy and billed revenue to the economics engine for the costs and the metrics.
Today it models bare-metal leasing: deliveries with supplier risk, a list-rent path, booked and
random lease requests with price sensitivity and renewals, failures with SLA credits, each
lease-month billed by the ledger's pure pricing rules (:mod:`suanli.core.billing`).

Modules: :mod:`.scenario` (the file schema), :mod:`.library` (parsing, ``base =`` inheritance,
bundled cases), :mod:`.leasebook` (the monthly lease book), :mod:`.economics` (the hand-off to
:mod:`suanli.economics`), :mod:`.run` (paths and summaries).
"""
