"""Console wording shared by the commands."""


def plural(n: int, one: str, many: str | None = None) -> str:
    """``1 row``, ``3 rows``, ``1 refresh``, ``2 refreshes`` (``many``: a plural other than ``one`` + "s")."""
    return f"{n} {one if n == 1 else (many or one + 's')}"
