"""`python -m forecast` runs the command line, as the `forecast` script does."""

from .cli import app

if __name__ == "__main__":
    app(prog_name="forecast")
