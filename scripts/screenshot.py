#!/usr/bin/env python
"""Screenshot an HTML report with Debian's headless Chromium, so a person can look at it.

    python scripts/screenshot.py reports/turkey-peacekeeping/report.html -o report.png

Chromium runs with networking features off and a throwaway profile, so the picture shows
exactly what the self-contained file holds. Install the browser with
`apt-get install -y chromium` (tests/test_html_browser.py does that when it is missing).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--mute-audio", "--disable-dev-shm-usage",
)


def chromium_command(profile: Path, *args: str) -> list[str]:
    """The browser, its safety flags and a fresh profile directory, then `args`."""
    browser = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium") or CHROMIUM
    return [browser, *FLAGS, f"--user-data-dir={profile}", *args]


def screenshot(html: Path, png: Path, width: int = 1280, height: int = 9000,
               timeout: float = 120.0) -> Path:
    png = png.resolve()
    with tempfile.TemporaryDirectory(prefix="forecast-chromium-") as profile:
        command = chromium_command(Path(profile), f"--screenshot={png}",
                                   f"--window-size={width},{height}", html.resolve().as_uri())
        subprocess.run(command, check=True, capture_output=True, timeout=timeout)
    trim_bottom(png)
    return png


def trim_bottom(png: Path, margin: int = 24) -> None:
    """Cut the blank window below the page's end, so the picture is the whole report and no
    more (needs Pillow, where it is installed; without it the picture stays as taken)."""
    try:
        from PIL import Image, ImageChops
    except ImportError:
        return
    with Image.open(png) as image:
        rgb = image.convert("RGB")
    box = ImageChops.difference(rgb, Image.new("RGB", rgb.size, (255, 255, 255))).getbbox()
    if box and box[3] + margin < rgb.height:
        rgb.crop((0, 0, rgb.width, box[3] + margin)).save(png)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html", type=Path, help="the report.html to photograph")
    parser.add_argument("-o", "--output", type=Path, default=Path("report.png"), help="PNG to write")
    parser.add_argument("--width", type=int, default=1280, help="window width in pixels")
    parser.add_argument("--height", type=int, default=9000, help="window height in pixels")
    args = parser.parse_args(argv)
    if not args.html.is_file():
        print(f"Error: {args.html}: file not found (an HTML report)", file=sys.stderr)
        return 1
    print(screenshot(args.html, args.output, args.width, args.height))
    return 0


if __name__ == "__main__":
    sys.exit(main())
