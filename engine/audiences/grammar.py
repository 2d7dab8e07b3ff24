"""The audience rule language: a hand-written tokenizer and recursive-descent parser.

A rule combines segments and field comparisons; nothing in it is ever evaluated as
Python. The whole grammar (keywords in any case, names in lower case)::

    rule        := or_expr
    or_expr     := and_expr ( "OR" and_expr )*
    and_expr    := not_expr ( "AND" not_expr )*
    not_expr    := "NOT" not_expr | atom
    atom        := "(" or_expr ")" | comparison | SEGMENT
    comparison  := FIELD ( ">" | ">=" | "<" | "<=" | "=" | "!=" ) NUMBER
                 | FIELD "BETWEEN" NUMBER "AND" NUMBER

``NOT`` binds tighter than ``AND``, which binds tighter than ``OR``; ``BETWEEN`` is
inclusive at both ends. Whether a name is a known segment or field is checked later,
against the store (:func:`engine.audiences.evaluate.check_rule`), so this module
needs no database.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from engine.errors import UserError

OPERATORS = (">=", "<=", "!=", ">", "<", "=")
KEYWORDS = ("AND", "OR", "NOT", "BETWEEN")
MAX_RULE_LENGTH = 2_000
"""Longer text is refused before tokenizing: a rule is something a person types."""

SYNTAX = (
    "a rule combines segments (e.g. night_owl) and comparisons (e.g. lifetime_value >= 70, "
    "p_active between 0.5 and 1) with AND, OR, NOT and parentheses"
)
"""The one-line reminder every syntax error ends with."""

_TOKEN = re.compile(
    r"\s*(?:(?P<number>-?\d+(?:\.\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>>=|<=|!=|>|<|=)|(?P<paren>[()]))"
)


@dataclass(frozen=True)
class Token:
    """One token: ``kind`` is ``number``, ``name``, ``keyword``, ``op``, ``paren`` or ``end``."""

    kind: str
    text: str
    position: int


@dataclass(frozen=True)
class Segment:
    """Membership of one segment (``night_owl``, ``electronics_enthusiast``)."""

    name: str


@dataclass(frozen=True)
class Comparison:
    """``field op value``; for ``between``, ``value <= field <= high``."""

    field: str
    op: str
    value: float
    high: float | None = None


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class And:
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Node, ...]


Node = Segment | Comparison | Not | And | Or


class RuleSyntaxError(UserError):
    """The rule's text does not follow the grammar (the message says where and how)."""


def _error(problem: str) -> RuleSyntaxError:
    return RuleSyntaxError(f"{problem}; {SYNTAX}")


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text``, ending with an ``end`` token.

    Raises:
        RuleSyntaxError: an empty or overlong rule, or a character no token can start with.
    """
    if len(text) > MAX_RULE_LENGTH:
        raise _error(f"the rule is {len(text):,} characters long (at most {MAX_RULE_LENGTH:,})")
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None:
            start = len(text) - len(text[position:].lstrip())
            raise _error(f"unexpected {text[start]!r} at character {start + 1}")
        kind = match.lastgroup or ""
        value = match.group(kind)
        start = match.start(kind)
        if kind == "name" and value.upper() in KEYWORDS:
            tokens.append(Token("keyword", value.upper(), start))
        elif kind == "name":
            tokens.append(Token("name", value.lower(), start))
        else:
            tokens.append(Token(kind, value, start))
        position = match.end()
    if not tokens:
        raise _error("the rule is empty")
    tokens.append(Token("end", "", len(text)))
    return tokens


class _Parser:
    """Recursive descent over a token list; one method per grammar rule."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.current
        self.index += 1
        return token

    def at_keyword(self, word: str) -> bool:
        return self.current.kind == "keyword" and self.current.text == word

    def unexpected(self, wanted: str) -> RuleSyntaxError:
        token = self.current
        found = "the end of the rule" if token.kind == "end" else repr(token.text)
        return _error(f"expected {wanted} at character {token.position + 1}, found {found}")

    def parse(self) -> Node:
        node = self.or_expr()
        if self.current.kind != "end":
            raise self.unexpected("AND, OR or the end of the rule")
        return node

    def or_expr(self) -> Node:
        operands = [self.and_expr()]
        while self.at_keyword("OR"):
            self.advance()
            operands.append(self.and_expr())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def and_expr(self) -> Node:
        operands = [self.not_expr()]
        while self.at_keyword("AND"):
            self.advance()
            operands.append(self.not_expr())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def not_expr(self) -> Node:
        if self.at_keyword("NOT"):
            self.advance()
            return Not(self.not_expr())
        return self.atom()

    def atom(self) -> Node:
        token = self.current
        if token.kind == "paren" and token.text == "(":
            self.advance()
            node = self.or_expr()
            if not (self.current.kind == "paren" and self.current.text == ")"):
                raise self.unexpected(f"')' (for the '(' at character {token.position + 1})")
            self.advance()
            return node
        if token.kind != "name":
            raise self.unexpected("a segment, a field or '('")
        self.advance()
        if self.current.kind == "op":
            op = self.advance().text
            return Comparison(token.text, op, self.number())
        if self.at_keyword("BETWEEN"):
            self.advance()
            low = self.number()
            if not self.at_keyword("AND"):
                raise self.unexpected(f"AND in '{token.text} between {_num(low)} AND ...'")
            self.advance()
            high = self.number()
            if high < low:
                raise _error(
                    f"'{token.text} between {_num(low)} and {_num(high)}' is empty: "
                    "write the lower bound first"
                )
            return Comparison(token.text, "between", low, high)
        return Segment(token.text)

    def number(self) -> float:
        if self.current.kind != "number":
            raise self.unexpected("a number")
        return float(self.advance().text)


def parse(text: str) -> Node:
    """The syntax tree of rule ``text``.

    Raises:
        RuleSyntaxError: the text does not follow the grammar; the message names the
            position, what was expected there, and the valid syntax.
    """
    return _Parser(tokenize(text)).parse()


def _num(value: float) -> str:
    # Positional and exact (repr's shortest digits): the tokenizer reads no exponents.
    text = format(Decimal(repr(float(value))), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def render(node: Node) -> str:
    """Canonical text of ``node``: parses back to the same tree (``parse(render(n)) == n``)."""
    if isinstance(node, Segment):
        return node.name
    if isinstance(node, Comparison):
        if node.op == "between":
            return f"{node.field} between {_num(node.value)} and {_num(node.high or 0.0)}"
        return f"{node.field} {node.op} {_num(node.value)}"
    if isinstance(node, Not):
        inner = render(node.operand)
        return (
            f"NOT {inner}"
            if isinstance(node.operand, Segment | Comparison | Not)
            else f"NOT ({inner})"
        )
    joiner = " AND " if isinstance(node, And) else " OR "
    parts = []
    for operand in node.operands:
        text = render(operand)
        # AND inside OR needs no parentheses (it binds tighter); anything else compound does.
        needs = isinstance(operand, Or) or (isinstance(operand, And) and isinstance(node, And))
        parts.append(f"({text})" if needs else text)
    return joiner.join(parts)


def comparisons(node: Node) -> list[Comparison]:
    """The comparisons of ``node`` in reading order (the page's what-if sliders)."""
    if isinstance(node, Comparison):
        return [node]
    if isinstance(node, Segment):
        return []
    if isinstance(node, Not):
        return comparisons(node.operand)
    return [c for operand in node.operands for c in comparisons(operand)]


def segments(node: Node) -> list[Segment]:
    """The segments named in ``node`` in reading order (repeats kept)."""
    if isinstance(node, Segment):
        return [node]
    if isinstance(node, Comparison):
        return []
    if isinstance(node, Not):
        return segments(node.operand)
    return [s for operand in node.operands for s in segments(operand)]


def with_thresholds(node: Node, overrides: dict[int, tuple[float, float | None]]) -> Node:
    """``node`` with the ``i``-th comparison (reading order) given new bounds
    ``(value, high)`` for every ``i`` in ``overrides``; the rest unchanged."""
    counter = iter(range(len(comparisons(node))))

    def walk(current: Node) -> Node:
        if isinstance(current, Comparison):
            i = next(counter)
            if i not in overrides:
                return current
            value, high = overrides[i]
            return replace(current, value=float(value), high=None if high is None else float(high))
        if isinstance(current, Segment):
            return current
        if isinstance(current, Not):
            return Not(walk(current.operand))
        return type(current)(tuple(walk(o) for o in current.operands))

    return walk(node)


def with_segments_as(node: Node, replacements: Mapping[str, Node]) -> Node:
    """``node`` with every mention of a segment in ``replacements`` replaced by its node
    (a what-if threshold turns ``night_owl`` into ``night_shopping > 70``)."""
    if isinstance(node, Segment):
        return replacements.get(node.name, node)
    if isinstance(node, Comparison):
        return node
    if isinstance(node, Not):
        return Not(with_segments_as(node.operand, replacements))
    return type(node)(tuple(with_segments_as(o, replacements) for o in node.operands))
