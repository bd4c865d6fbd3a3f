"""`python -m forecast` runs the command line, as the `forecast` script does."""

from .cli import app
from .cli.memory import keep_freed_memory

if __name__ == "__main__":
    keep_freed_memory()
    app(prog_name="forecast")
