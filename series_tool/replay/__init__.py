"""replay: the series over a snapshot of the tree, in memory, touched files only.

The names below are the stage's interface; other stages import them from here.
"""

from .apply import apply_file, split_lines, worst_status
from .blobs import BlobReader
from .paths import invalid_path
from .sparse import SparseFile, apply_sparse, learn_base
from .steps import Replay, replay, touched_paths
from .trees import (
    DirTree,
    GitTree,
    GrepHit,
    NoTree,
    Tree,
    blob_reader,
    check_worktree_reads,
    open_tree,
    scan_text,
)
from .wordindex import WordIndex, build_index

__all__ = [
    "BlobReader",
    "DirTree",
    "GitTree",
    "GrepHit",
    "NoTree",
    "Replay",
    "SparseFile",
    "Tree",
    "WordIndex",
    "apply_file",
    "apply_sparse",
    "blob_reader",
    "build_index",
    "check_worktree_reads",
    "invalid_path",
    "learn_base",
    "open_tree",
    "replay",
    "scan_text",
    "split_lines",
    "touched_paths",
    "worst_status",
]
