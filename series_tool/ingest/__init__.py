"""ingest: mail in any form -> `Series` (sources, messages, threads, diffs, cover letters).

The names below are the stage's interface; other stages import them from here.
"""

from .archive import (
    ArchiveMessage,
    ArchivePlan,
    ThreadEntry,
    archive_heads,
    as_mboxrd,
    is_git_archive,
    parse_since,
    plan_archive,
    read_archive,
    read_commits,
    read_plan,
    thread_entry,
    thread_of,
)
from .catalog import (
    CatalogSeries,
    MailRecord,
    catalog_series,
    full_series,
    newest_versions,
    quick_reply,
    series_key,
)
from .cover import CoverSummary, functions_named, summarise
from .diffparse import (
    FILE_DIFF_LIMIT_ENV,
    MAX_FILE_DIFF_BYTES,
    file_diff_limit,
    parse_diff,
    parse_diff_partial,
    series_diffstat,
    unquote_c_path,
)
from .load import group_series, ingest, parse_mails
from .mail import (
    Mail,
    decode_words,
    find_diff_start,
    parse_address,
    parse_mail,
    parse_subject,
    parse_trailers,
)
from .mailsource import is_from_line, maildir_key, read_source, split_mbox

__all__ = [
    "FILE_DIFF_LIMIT_ENV",
    "MAX_FILE_DIFF_BYTES",
    "ArchiveMessage",
    "ArchivePlan",
    "CatalogSeries",
    "CoverSummary",
    "Mail",
    "MailRecord",
    "ThreadEntry",
    "archive_heads",
    "as_mboxrd",
    "catalog_series",
    "decode_words",
    "file_diff_limit",
    "find_diff_start",
    "full_series",
    "functions_named",
    "group_series",
    "ingest",
    "is_from_line",
    "is_git_archive",
    "maildir_key",
    "newest_versions",
    "parse_address",
    "parse_diff",
    "parse_diff_partial",
    "parse_mail",
    "parse_mails",
    "parse_since",
    "parse_subject",
    "parse_trailers",
    "plan_archive",
    "quick_reply",
    "read_archive",
    "read_commits",
    "read_plan",
    "read_source",
    "series_diffstat",
    "series_key",
    "split_mbox",
    "summarise",
    "thread_entry",
    "thread_of",
    "unquote_c_path",
]
