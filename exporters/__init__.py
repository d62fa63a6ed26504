"""Outbound formats of SOFI: LHÉO 2.3 (``exporters.lheo``). Reads ``models`` only."""
