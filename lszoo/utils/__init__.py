"""Small utilities shared by models, APIs and tools (no registrations)."""
