"""Regenerate the course's figures: run every lesson of docs/course/ with its pictures landing in docs/course/images/.

A lesson draws its own figures: its code saves them with a bare file name
(``fig.savefig("sliding_window.png")``) into the current folder, and the page shows them
as ``images/sliding_window.png``. The tests run the same code in a temporary folder, so
the figures are checked there and the committed ones are never touched; this script is
how the committed ones are made. It runs each page's ```python blocks in order, in one
namespace per page, exactly as tests/test_docs.py does, with the current folder set to
docs/course/images/.

    python examples/make_course_figures.py                      # every lesson
    python examples/make_course_figures.py 03-output-size.md    # some of them (names or paths)
    python examples/make_course_figures.py -o /tmp/figures      # somewhere else

Needs matplotlib (and whatever the lessons import).
"""

import argparse
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COURSE = ROOT / "docs" / "course"
IMAGES = COURSE / "images"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)  # the regex of tests/test_docs.py


def python_blocks(path: Path) -> list[str]:
    return BLOCK.findall(path.read_text(encoding="utf-8"))


def run_page(path: Path, folder: Path) -> tuple[list[str], float]:
    """Run the page's blocks with `folder` as the current folder; return the files it wrote there and the seconds."""
    folder.mkdir(parents=True, exist_ok=True)
    before = {p: p.stat().st_mtime_ns for p in folder.iterdir() if p.is_file()}
    namespace: dict = {"__name__": "__docs__"}
    previous = Path.cwd()
    start = time.perf_counter()
    os.chdir(folder)
    try:
        for number, code in enumerate(python_blocks(path), start=1):
            try:
                exec(compile(code, f"{path.name} block {number}", "exec"), namespace)
            except Exception as err:
                raise SystemExit(f"{path.name}, code block {number} failed: {err!r}") from err
    finally:
        os.chdir(previous)
        try:
            import matplotlib.pyplot as plt

            plt.close("all")
        except ImportError:
            pass
    seconds = time.perf_counter() - start
    written = sorted(p.name for p in folder.iterdir() if p.is_file() and before.get(p) != p.stat().st_mtime_ns)
    return written, seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", nargs="*", help="lesson files (default: every docs/course/*.md but index.md)")
    parser.add_argument("-o", "--output", type=Path, default=IMAGES, help=f"folder for the figures (default {IMAGES})")
    args = parser.parse_args(argv)
    os.environ.setdefault("MPLBACKEND", "Agg")
    if args.pages:
        pages = [Path(p) if Path(p).exists() else COURSE / p for p in args.pages]
    else:
        pages = [p for p in sorted(COURSE.glob("*.md")) if p.name != "index.md"]
    output = args.output.resolve()
    for page in pages:
        written, seconds = run_page(page.resolve(), output)
        shown = ", ".join(written) if written else "no files"
        print(f"{page.name}: {seconds:.2f} s, {shown}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
