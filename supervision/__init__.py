"""The core: settings, database, organisation, accounts, audit, working days and the performance ledger."""

from supervision import messages as _messages  # noqa: F401  (registers the core's texts)
