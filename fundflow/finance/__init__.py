"""Finance: pay verified backfill claims, reverse a wrong payment, export payments."""
