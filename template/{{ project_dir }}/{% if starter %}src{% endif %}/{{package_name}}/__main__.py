"""Run the application with `python -m <package>`.

Python runs this module only as `__main__`, so it needs no `if __name__` guard.
"""

from . import main

main()
