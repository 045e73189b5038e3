"""Back office: tickets overview, detail and creation."""
