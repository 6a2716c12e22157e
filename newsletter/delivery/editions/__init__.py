"""Building an edition: who is due, which papers each reader gets, and one ledger row each."""
