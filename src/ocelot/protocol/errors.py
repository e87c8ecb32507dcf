"""The one exception family of the wire format."""


class ProtocolError(Exception):
    """A body or message that does not follow the protocol.

    ``reason`` is a short machine-readable word (used for metrics and tests), ``status``
    the HTTP status a server door answers with, and the message a one-line explanation
    that is safe to show to the sender (it never echoes the payload).
    """

    def __init__(self, reason: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.reason = reason
        self.status = status


class TooLargeError(ProtocolError):
    """A body, an inflated body or a document that exceeds a size limit (HTTP 413)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(reason, message, status=413)
