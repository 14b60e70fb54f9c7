"""scripts/docs_check.py: command extraction, the skip table, and failing on a broken command."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("docs_check", ROOT / "scripts" / "docs_check.py")
docs_check = importlib.util.module_from_spec(_spec)
sys.modules["docs_check"] = docs_check
_spec.loader.exec_module(docs_check)

SAMPLE = """# Title

```bash
# a comment
arena list
arena eval kuhn-poker-v0 --agent r=random \\
    --games 2
```

```console
$ arena list
NAME   output line, not a command
```

```text
arena list   <- no prompt: sample output
$ echo hi
```

```python
print("not shell")
```
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "doc.md"
    path.write_text(text, encoding="utf-8")
    return path


def test_extract_finds_commands_and_joins_continuations(tmp_path: Path) -> None:
    commands = docs_check.extract(_write(tmp_path, SAMPLE))
    assert [c.text for c in commands] == [
        "arena list",
        "arena eval kuhn-poker-v0 --agent r=random --games 2",
        "arena list",
        "echo hi",
    ]
    assert [c.line for c in commands] == [5, 6, 11, 17]


def test_skip_table() -> None:
    assert docs_check.reason_to_skip('pip install -e ".[bench]"', quick=False)
    assert docs_check.reason_to_skip("arena train --preset cpu", quick=False)
    assert docs_check.reason_to_skip("arena play tictactoe-v0 --agent player_1=human", quick=False)
    assert docs_check.reason_to_skip("arena list  # a comment naming FILE", quick=False) is None
    assert docs_check.reason_to_skip("python -m benchmarks", quick=True)
    assert docs_check.reason_to_skip("python -m benchmarks", quick=False) is None
    probe = "python3 scripts/spy_fact_probe.py --out /tmp/p --steps 4000"
    assert docs_check.reason_to_skip(probe, quick=True) and docs_check.reason_to_skip(probe, quick=False) is None


def test_broken_command_fails_and_good_one_passes(tmp_path: Path, capsys) -> None:
    good = _write(tmp_path, "```bash\necho ok > written.txt\ncat written.txt\n```\n")
    assert docs_check.main(["--quick", str(good)]) == 0
    assert not (ROOT / "written.txt").exists()  # files land in the temp dir, not the repo
    bad = _write(tmp_path, "```console\n$ echo fine\n$ arena no-such-command\n```\n")
    assert docs_check.main(["--quick", str(bad)]) == 1
    assert "arena no-such-command" in capsys.readouterr().err


def test_timeout_counts_as_failure(tmp_path: Path) -> None:
    slow = _write(tmp_path, "```bash\nsleep 5\n```\n")
    assert docs_check.main(["--quick", "--timeout", "0.5", str(slow)]) == 1


def test_quickstart_commands_run() -> None:
    assert docs_check.main(["--quick", str(ROOT / "docs" / "quickstart.md")]) == 0
