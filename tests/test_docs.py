"""Every ```python block in README.md and docs/*.md runs, in order, one namespace per file."""

import re
from pathlib import Path

import pytest

import minigrad as mg

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


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


def test_readme_has_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for marker in ("<!-- run-command -->", "<!-- test-command -->"):
        assert re.search(re.escape(marker) + r"\n```bash\n.+\n```", text), f"README lacks its {marker} block"
