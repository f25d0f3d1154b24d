"""The headteacher's area: their school's bids, from first draft to impact."""
