"""HTTP API: one module per audience (public missions, nearest, OGC, travellers, meetups, staff, health, docs)."""
