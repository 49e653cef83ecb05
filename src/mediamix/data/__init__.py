"""mediamix.data: read data sets, harmonize them into one view, and hand models checked series.

Summary tables put whole (SummaryData): read_table / harmonize_summary / HarmonizedStore.put/get.
Data sets in batches (summary rows, experience events, conversions, factors): load_batch. Then
the field catalogue (fields), per-data-set rules (rules), merge preferences (merge), `sync`
(the harmonized view and its data-quality report), touchpoint / conversion / population
definitions (definitions), and touchpoint_frame: the table a model reads.
"""
from mediamix.data.cadence import Cadence
from mediamix.data.datasets import BatchResult, dataset_rows, list_batches, load_batch
from mediamix.data.definitions import define_conversion, define_population, define_touchpoint, definitions
from mediamix.data.fields import Field, add_field, catalogue, set_unit
from mediamix.data.granularity import Granularity
from mediamix.data.ingest import harmonize_summary, load_summary, read_table
from mediamix.data.merge import set_preference
from mediamix.data.model_frame import conversion_report, model_data, touchpoint_frame, touchpoint_report
from mediamix.data.quality import QualityReport, quality_report
from mediamix.data.rules import Rule, activate, add_rule, wide_rules
from mediamix.data.store import HarmonizedStore
from mediamix.data.summary import SummaryData
from mediamix.data.sync import SyncResult, sync
from mediamix.data.validate import DataProblems, check_model_columns
from mediamix.data.view import harmonized_view, last_sync

__all__ = [
    "BatchResult",
    "Cadence",
    "DataProblems",
    "Field",
    "Granularity",
    "HarmonizedStore",
    "QualityReport",
    "Rule",
    "SummaryData",
    "SyncResult",
    "activate",
    "add_field",
    "add_rule",
    "catalogue",
    "check_model_columns",
    "conversion_report",
    "dataset_rows",
    "define_conversion",
    "define_population",
    "define_touchpoint",
    "definitions",
    "harmonize_summary",
    "harmonized_view",
    "last_sync",
    "list_batches",
    "load_batch",
    "load_summary",
    "model_data",
    "quality_report",
    "read_table",
    "set_preference",
    "set_unit",
    "sync",
    "touchpoint_frame",
    "touchpoint_report",
    "wide_rules",
]
