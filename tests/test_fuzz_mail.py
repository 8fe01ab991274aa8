"""A small, fast fuzz run over mutated corpus mboxes (issue 10 items 11-13): every input
through `show`, `show --format json` and `verify`, in process. Exit 0, 1 or 2 only, never
"internal error", and one line on stderr for exit 2. benchmarks/fuzz_mail.py runs more
inputs as real processes and reports the numbers."""

from __future__ import annotations

import contextlib
import io
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from fuzzmail import CORPUS_MBOXES, inputs, write

from series_tool.cli import main

pytestmark = pytest.mark.skipif(
    not any(p.is_file() for p in CORPUS_MBOXES), reason="../shared/corpus is absent"
)
COMMANDS = (["show"], ["show", "--format", "json"], ["verify"])
#: a guard against hangs (the 300k-References input hung before), not a speed target
HANG_SECONDS = 60


@contextlib.contextmanager
def _deadline(seconds: int) -> Iterator[None]:
    def hang(signum: int, frame: object) -> None:
        raise TimeoutError(f"no answer after {seconds} s")

    old = signal.signal(signal.SIGALRM, hang)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def test_mutated_mboxes_never_crash(tmp_path: Path) -> None:
    codes: dict[int, int] = {}
    for inp in inputs(8, seed=1):
        path = write(inp, tmp_path)
        for command in COMMANDS:
            out, err = io.StringIO(), io.StringIO()
            with (
                _deadline(HANG_SECONDS),
                contextlib.redirect_stdout(out),
                contextlib.redirect_stderr(err),
            ):
                code = main([*command, str(path)])
            what = f"{inp.name} {inp.mutations} {' '.join(command)}: {err.getvalue()[:300]}"
            assert code in (0, 1, 2), what
            assert "internal error" not in err.getvalue() and "Traceback" not in err.getvalue(), (
                what
            )
            if code == 2:
                assert len(err.getvalue().strip().splitlines()) == 1, what
            codes[code] = codes.get(code, 0) + 1
    assert sum(codes.values()) == 8 * len(COMMANDS)
