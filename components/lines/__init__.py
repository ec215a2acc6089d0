"""Production lines: one isolated zone (IEC 62443) per line — pure manifest builders and the ProductionLine
component."""
