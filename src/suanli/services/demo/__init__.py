"""The demo center seeded through the services (no SQL): :mod:`.center` runs the story in date
order, :mod:`.money` adds customers, contracts, usage, invoices and payments, :mod:`.usage`
produces the cloud pool's metered usage with the job simulator. Writes only through services."""
