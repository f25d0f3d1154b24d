"""The service administrator's pages: organisations and their first administrators. A
service administrator belongs to no organisation and sees no bids, claims or payments."""
