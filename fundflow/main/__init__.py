"""Pages everyone shares: home, the guide to how the fund works, assets."""
