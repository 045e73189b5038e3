"""Permission-checked downloads of uploaded files."""
