"""mediamix.data: read summary files, harmonize them (dates, cadence, geo, layout), validate the
columns a model uses, and keep harmonized data sets and tables in a DuckDB store."""
from mediamix.data.cadence import Cadence
from mediamix.data.ingest import harmonize_summary, load_summary, read_table
from mediamix.data.store import HarmonizedStore
from mediamix.data.summary import SummaryData
from mediamix.data.validate import check_model_columns

__all__ = [
    "Cadence",
    "HarmonizedStore",
    "SummaryData",
    "check_model_columns",
    "harmonize_summary",
    "load_summary",
    "read_table",
]
