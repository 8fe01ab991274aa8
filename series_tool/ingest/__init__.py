"""ingest: mail in any form -> `Series` (sources, messages, threads, diffs, cover letters).

The names below are the stage's interface; other stages import them from here.
"""

from .cover import CoverSummary, functions_named, summarise
from .diffparse import parse_diff, parse_diff_partial, series_diffstat, unquote_c_path
from .load import group_series, ingest, parse_mails
from .mail import Mail, find_diff_start, parse_address, parse_mail, parse_subject, parse_trailers
from .mailsource import is_from_line, maildir_key, read_source, split_mbox

__all__ = [
    "CoverSummary",
    "Mail",
    "find_diff_start",
    "functions_named",
    "group_series",
    "ingest",
    "is_from_line",
    "maildir_key",
    "parse_address",
    "parse_diff",
    "parse_diff_partial",
    "parse_mail",
    "parse_mails",
    "parse_subject",
    "parse_trailers",
    "read_source",
    "series_diffstat",
    "split_mbox",
    "summarise",
    "unquote_c_path",
]
