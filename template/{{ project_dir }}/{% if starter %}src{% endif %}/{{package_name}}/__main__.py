"""Run the application with `python -m <package>`."""

from . import main

if __name__ == "__main__":
    main()
