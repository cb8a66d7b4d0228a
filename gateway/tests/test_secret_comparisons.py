"""No gateway code compares a secret with `==`/`!=`: a short-circuiting comparison leaks, through
its timing, how much of a guess was right. API keys are looked up by their SHA-256 in the database;
stream-token signatures go through `hmac.compare_digest`."""

from __future__ import annotations

import ast
from pathlib import Path

import adgen_gateway

SECRET_WORDS = ("key", "token", "secret", "signature", "digest", "password", "credential")


def _names(node: ast.AST) -> list[str]:
    return [n.id for n in ast.walk(node) if isinstance(n, ast.Name)] + [
        n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)
    ]


def test_no_secret_is_compared_with_equality() -> None:
    offenders = []
    for path in Path(adgen_gateway.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Compare) or not any(isinstance(op, ast.Eq | ast.NotEq) for op in node.ops):
                continue
            operands = [node.left, *node.comparators]
            if any(isinstance(o, ast.Constant) for o in operands):
                continue  # against a literal (a scheme name, a status): not a secret
            names = [name.lower() for operand in operands for name in _names(operand)]
            if any(word in name for name in names for word in SECRET_WORDS):
                offenders.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    assert not offenders, offenders


def test_stream_tokens_use_a_constant_time_comparison() -> None:
    source = (Path(adgen_gateway.__file__).parent / "stream_tokens.py").read_text()
    assert "hmac.compare_digest(" in source
