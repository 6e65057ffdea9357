"""Every ```python block in README.md and docs/*.md runs, in order, one namespace per file."""

import re
from pathlib import Path

import pytest

import minigrad as mg

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
FIGURE = re.compile(r"\]\(images/([^)]+\.png)\)")  # a page's figures, which its own code draws
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def python_blocks(path: Path) -> list[str]:
    return BLOCK.findall(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_code_blocks_run(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # files the docs write land in a scratch folder
    namespace: dict = {"__name__": "__docs__"}
    registry = dict(mg.ops.registry)
    try:
        for number, code in enumerate(python_blocks(path), start=1):
            try:
                exec(compile(code, f"{path.name} block {number}", "exec"), namespace)
            except Exception as err:
                raise AssertionError(f"{path.name}, code block {number} failed: {err!r}\n{code}") from err
    finally:  # primitives a page defines (docs/primitives.md) are forgotten after it
        mg.ops.registry.clear()
        mg.ops.registry.update(registry)
    for name in FIGURE.findall(path.read_text(encoding="utf-8")):
        assert_drawn(tmp_path / name)


def assert_drawn(figure: Path) -> None:
    """The page's code wrote this figure afresh, and it is a PNG image of a real size."""
    assert figure.exists(), f"the page links {figure.name}, but its code did not draw it"
    data = figure.read_bytes()
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR", f"{figure.name} is not a PNG image"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert min(width, height) >= 50, f"{figure.name} is only {width}×{height} pixels"


def test_readme_has_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for marker in ("<!-- run-command -->", "<!-- test-command -->"):
        assert re.search(re.escape(marker) + r"\n```bash\n.+\n```", text), f"README lacks its {marker} block"
