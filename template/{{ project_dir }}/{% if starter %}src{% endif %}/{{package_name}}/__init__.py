"""The application's entry point."""


def main() -> None:
    """Greet the world: the `hello` console script."""
    print("Hello, World!")
