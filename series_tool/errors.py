"""The one exception that means "bad input": the CLI prints it as one line, exit status 2."""

from __future__ import annotations


class BadInput(Exception):
    """Input the tool cannot work with.

    ``where`` names the file (and message or patch) so the user can find it; the
    message says what is wrong. The CLI prints ``series-tool: WHERE: MESSAGE``.
    """

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message
