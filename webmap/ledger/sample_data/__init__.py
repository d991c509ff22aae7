"""Data tables and rosters of the sample ledger (示例) loaded by ``webmap.ledger.sample``."""
