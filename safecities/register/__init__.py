"""The incident register: reference data, imports, the demo scenario and trend summaries."""
