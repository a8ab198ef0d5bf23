class PortalError(Exception):
    """A domain error with a message a user can act on."""

    def __init__(self, message: str, *, code: str = "error") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
