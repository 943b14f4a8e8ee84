from pathlib import Path

import pytest

from contracts.docs import main, render

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "contracts"
PROVIDERS = sorted(path.parent.name for path in (ROOT / "contracts").glob("*/rules.json"))


@pytest.mark.parametrize("provider", PROVIDERS)
def test_committed_contract_docs_are_current(provider: str) -> None:
    expected = render(provider)
    path = DOCS / f"{provider}.md"
    assert path.exists() and path.read_text() == expected, (
        f"run: python -m contracts.docs {provider} > docs/contracts/{provider}.md"
    )


def test_docs_show_limits_from_the_schemas() -> None:
    text = render("runware")
    assert "| `positivePrompt` | string | minLength 1, maxLength 2000 |" in text
    assert "| `numberResults` | integer | minimum 1, maximum 20 | `1` |" in text
    assert "6048x2592" in text


def test_usage_error_without_a_provider(capsys) -> None:
    assert main([]) == 2
