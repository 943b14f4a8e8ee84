from pathlib import Path

from contracts.docs import main, render

DOCS = Path(__file__).resolve().parents[2] / "docs" / "contracts"


def test_committed_contract_docs_are_current() -> None:
    assert (DOCS / "runware.md").read_text() == render("runware"), "run: python -m contracts.docs runware > docs/contracts/runware.md"


def test_docs_show_limits_from_the_schemas() -> None:
    text = render("runware")
    assert "| `positivePrompt` | string | minLength 1, maxLength 2000 |" in text
    assert "| `numberResults` | integer | minimum 1, maximum 20 | `1` |" in text
    assert "6048x2592" in text


def test_usage_error_without_a_provider(capsys) -> None:
    assert main([]) == 2
