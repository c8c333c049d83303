"""The expression language of ``show_if``, computed dimension scores and recommendation rules.

A small hand-written parser (tokenizer + precedence climbing) rather than a library:

* the grammar is tiny, and a parser of our own reports errors at the exact column, which the
  compiler turns into ``file:line:column``;
* nothing is ever handed to Python's ``eval``/``exec``: the parser builds a tree of nodes and
  ``compile_expression`` turns it into nested closures over a fixed set of operations, so an
  expression can reach nothing but the names documented below;
* closures evaluate fast, which matters because scoring runs thousands of times a second.

Names an expression can use::

    q_id                  the answer to question q_id (option id, list of option ids, number,
                          text, true/false for yes/no, or null when unanswered or "don't know")
    q_id.row_id           the answer for one row of a matrix question
    score.q_id            the question's score, 0-100 (null when not scored)
    points.q_id           the points the answer earned (null when not scored)
    dimension.d_id        a dimension's score, 0-100
    pillar.digital        a pillar's score, 0-100 (digital, green, resilience)
    overall               the overall index, 0-100
    level.d_id            a dimension's maturity level id; level.overall for the whole
    archetype             the twin-transition archetype id
    company.size          micro, small, medium or large
    company.sector        company.country (ISO code such as 'IT')   company.cluster

Operators, loosest first: ``or``; ``and``; ``not``; comparisons ``== != < <= > >= in``
and ``not in``; ``+ -``; ``* /``; unary ``-``. Literals: numbers, 'text' or "text",
[lists], true, false, null. Functions: count(x), min(...), max(...), sum(...), mean(...),
answered(q_id). The aggregate functions take several arguments or one list, and skip nulls.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeAlias

NAMESPACES = ("score", "points", "dimension", "pillar", "level", "company")
SINGLETONS = ("overall", "archetype")
FUNCTIONS = ("count", "min", "max", "sum", "mean", "answered")
KEYWORDS = ("and", "or", "not", "in", "true", "false", "null")
RESERVED = frozenset(NAMESPACES + SINGLETONS + FUNCTIONS + KEYWORDS)
COMPANY_FIELDS = ("size", "sector", "country", "cluster")
MAX_LENGTH = 2000
MAX_DEPTH = 50
"""Brackets, ``not``, unary minus and calls inside one another, as the parser meets them."""
MAX_HEIGHT = 100
"""Operations inside one another in the tree, chains such as ``a + b + c`` included: walking,
compiling and evaluating a tree take a frame per level, and a few hundred would reach
Python's recursion limit (990 terms of ``1+1+...`` fit in MAX_LENGTH)."""


class ExpressionError(Exception):
    """A problem in an expression; ``offset`` is the 0-based character it concerns."""

    def __init__(self, message: str, offset: int = 0):
        self.message = message
        self.offset = offset
        super().__init__(message)


class EvaluationError(Exception):
    """An expression that parsed but cannot be evaluated with these values."""


# --- Syntax tree --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Node:
    offset: int


@dataclass(frozen=True, slots=True)
class Literal(Node):
    value: Any


@dataclass(frozen=True, slots=True)
class ListNode(Node):
    items: tuple[Literal, ...]  # lists hold only literals


@dataclass(frozen=True, slots=True)
class Ref(Node):
    """A name: ``namespace`` is 'answer' for a question id (``member`` is then a matrix row),
    otherwise one of NAMESPACES or SINGLETONS, with ``name`` the id after the dot."""

    namespace: str
    name: str
    member: str | None = None


@dataclass(frozen=True, slots=True)
class Unary(Node):
    op: str
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary(Node):
    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Call(Node):
    function: str
    args: tuple[Node, ...]


class Environment(Protocol):
    """What an expression can read (``scoring.answers.Env`` is one): the answers, the
    company, and the scores computed so far, by id."""

    @property
    def answers(self) -> Mapping[str, Any]: ...
    @property
    def scores(self) -> Mapping[str, float | None]: ...
    @property
    def points(self) -> Mapping[str, float | None]: ...
    @property
    def dimensions(self) -> Mapping[str, float | None]: ...
    @property
    def pillars(self) -> Mapping[str, float | None]: ...
    @property
    def levels(self) -> Mapping[str, str | None]: ...
    @property
    def overall(self) -> float | None: ...
    @property
    def archetype(self) -> str | None: ...
    @property
    def company(self) -> Mapping[str, Any]: ...


Evaluator: TypeAlias = Callable[[Environment], Any]
"""A compiled expression or part of one: the value it has in an environment. Values are
those of the language (see the module's docstring), so they are typed ``Any``."""


@dataclass(frozen=True)
class Expression:
    """A parsed expression: its text, its tree and its compiled evaluator."""

    text: str
    tree: Node
    evaluate: Evaluator = field(compare=False, repr=False)

    def refs(self) -> list[Ref]:
        return [n for n in walk(self.tree) if isinstance(n, Ref)]


def walk(node: Node) -> Iterator[Node]:
    """``node`` and every node below it, parents first."""
    yield node
    if isinstance(node, ListNode):
        for item in node.items:
            yield from walk(item)
    elif isinstance(node, Unary):
        yield from walk(node.operand)
    elif isinstance(node, Binary):
        yield from walk(node.left)
        yield from walk(node.right)
    elif isinstance(node, Call):
        for arg in node.args:
            yield from walk(arg)


# --- Tokens -------------------------------------------------------------------------------

_DIGITS = "0123456789"  # str.isdigit() would also accept '¹' and other digits int() rejects
_OPERATORS = ("==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "(", ")", "[", "]", ",", ".")


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # name, number, string, op, end
    value: Any
    offset: int


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text``, each with its offset, ending with an ``end`` token."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] in " \t\r\n":
            i += 1
            continue
        token, i = _read_token(text, i)
        tokens.append(token)
    tokens.append(Token("end", None, n))
    return tokens


def _read_token(text: str, i: int) -> tuple[Token, int]:
    """The token that starts at ``i``, and the offset after it."""
    c = text[i]
    if c.isascii() and (c.isalpha() or c == "_"):
        return _read_name(text, i)
    if c in _DIGITS or (c == "." and i + 1 < len(text) and text[i + 1] in _DIGITS):
        return _read_number(text, i)
    if c in "'\"":
        return _read_string(text, i)
    return _read_operator(text, i)


def _read_name(text: str, i: int) -> tuple[Token, int]:
    j = i + 1
    while j < len(text) and text[j].isascii() and (text[j].isalnum() or text[j] == "_"):
        j += 1
    return Token("name", text[i:j], i), j


def _read_number(text: str, i: int) -> tuple[Token, int]:
    j = i
    while j < len(text) and (text[j] in _DIGITS or text[j] == "."):
        j += 1
    raw = text[i:j]
    if raw.count(".") > 1:
        raise ExpressionError(f"'{raw}' is not a number", i)
    return Token("number", float(raw) if "." in raw else int(raw), i), j


def _read_string(text: str, i: int) -> tuple[Token, int]:
    j = text.find(text[i], i + 1)
    if j < 0:
        raise ExpressionError("this text has no closing quote", i)
    return Token("string", text[i + 1 : j], i), j + 1


def _read_operator(text: str, i: int) -> tuple[Token, int]:
    for op in _OPERATORS:
        if text.startswith(op, i):
            return Token("op", op, i), i + len(op)
    c = text[i]
    hint = " (use 'and', 'or', 'not')" if c in "&|!" else ""
    if c == "=":
        hint = " (use '==' to compare)"
    raise ExpressionError(f"unexpected character '{c}'{hint}", i)


# --- Parser -------------------------------------------------------------------------------

_COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")


class _Parser:
    def __init__(self, text: str):
        self.tokens = tokenize(text)
        self.pos = 0
        self.depth = 0
        self.heights: dict[int, int] = {}
        """The height of each operation built so far, by ``id()`` (every node stays alive in
        the tree while parsing goes on); leaves are 1."""

    @property
    def token(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def at(self, kind: str, value: Any = None) -> bool:
        t = self.token
        return t.kind == kind and (value is None or t.value == value)

    def expect_op(self, value: str) -> Token:
        if not self.at("op", value):
            raise ExpressionError(f"expected '{value}' but found {describe(self.token)}", self.token.offset)
        return self.advance()

    def parse(self) -> Node:
        if self.at("end"):
            raise ExpressionError("the expression is empty", 0)
        node = self.disjunction()
        if not self.at("end"):
            raise ExpressionError(f"unexpected {describe(self.token)}", self.token.offset)
        return node

    def nested(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError("the expression is nested too deeply", self.token.offset)

    def built(self, node: Unary | Binary | Call, *children: Node) -> Node:
        """``node``, an operation on ``children``, once its height is within MAX_HEIGHT."""
        height = 1 + max((self.heights.get(id(child), 1) for child in children), default=1)
        if height > MAX_HEIGHT:
            raise ExpressionError(
                f"the expression is nested too deeply: more than {MAX_HEIGHT} operations inside one another; split it up", node.offset
            )
        self.heights[id(node)] = height
        return node

    def disjunction(self) -> Node:
        node = self.conjunction()
        while self.at("name", "or"):
            t = self.advance()
            right = self.conjunction()
            node = self.built(Binary(t.offset, "or", node, right), node, right)
        return node

    def conjunction(self) -> Node:
        node = self.negation()
        while self.at("name", "and"):
            t = self.advance()
            right = self.negation()
            node = self.built(Binary(t.offset, "and", node, right), node, right)
        return node

    def negation(self) -> Node:
        if self.at("name", "not"):
            t = self.advance()
            self.nested()
            operand = self.negation()
            node = self.built(Unary(t.offset, "not", operand), operand)
            self.depth -= 1
            return node
        return self.comparison()

    def comparison(self) -> Node:
        node = self.additive()
        t = self.token
        if t.kind == "op" and t.value in _COMPARISONS:
            self.advance()
            right = self.additive()
            node = self.built(Binary(t.offset, t.value, node, right), node, right)
        elif self.at("name", "in"):
            self.advance()
            right = self.additive()
            node = self.built(Binary(t.offset, "in", node, right), node, right)
        elif self.at("name", "not") and self.tokens[self.pos + 1].kind == "name" and self.tokens[self.pos + 1].value == "in":
            self.advance()
            self.advance()
            right = self.additive()
            node = self.built(Binary(t.offset, "not in", node, right), node, right)
        t = self.token
        if (t.kind == "op" and t.value in _COMPARISONS) or self.at("name", "in"):
            raise ExpressionError("comparisons cannot be chained; join them with 'and'", t.offset)
        return node

    def additive(self) -> Node:
        node = self.multiplicative()
        while self.token.kind == "op" and self.token.value in ("+", "-"):
            t = self.advance()
            right = self.multiplicative()
            node = self.built(Binary(t.offset, t.value, node, right), node, right)
        return node

    def multiplicative(self) -> Node:
        node = self.unary()
        while self.token.kind == "op" and self.token.value in ("*", "/"):
            t = self.advance()
            right = self.unary()
            node = self.built(Binary(t.offset, t.value, node, right), node, right)
        return node

    def unary(self) -> Node:
        if self.at("op", "-"):
            t = self.advance()
            self.nested()
            operand = self.unary()
            node = self.built(Unary(t.offset, "-", operand), operand)
            self.depth -= 1
            return node
        return self.primary()

    def primary(self) -> Node:
        t = self.token
        if t.kind == "number":
            self.advance()
            return Literal(t.offset, t.value)
        if t.kind == "string":
            self.advance()
            return Literal(t.offset, t.value)
        if t.kind == "op" and t.value == "(":
            self.advance()
            self.nested()
            node = self.disjunction()
            self.depth -= 1
            self.expect_op(")")
            return node
        if t.kind == "op" and t.value == "[":
            self.advance()
            items = []
            while not self.at("op", "]"):
                items.append(self.primary_literal())
                if not self.at("op", ","):
                    break
                self.advance()
            self.expect_op("]")
            return ListNode(t.offset, tuple(items))
        if t.kind == "name":
            return self.name()
        raise ExpressionError(f"expected a value but found {describe(t)}", t.offset)

    def primary_literal(self) -> Literal:
        t = self.token
        if t.kind in ("number", "string"):
            self.advance()
            return Literal(t.offset, t.value)
        if t.kind == "op" and t.value == "-" and self.tokens[self.pos + 1].kind == "number":
            self.advance()
            n = self.advance()
            return Literal(t.offset, -n.value)
        raise ExpressionError(f"lists hold only numbers and 'text', not {describe(t)}", t.offset)

    def name(self) -> Node:
        t = self.advance()
        name = t.value
        if name in ("true", "false"):
            return Literal(t.offset, name == "true")
        if name == "null":
            return Literal(t.offset, None)
        if name in ("and", "or", "in", "not"):
            raise ExpressionError(f"expected a value but found '{name}'", t.offset)
        if name in FUNCTIONS:
            if not self.at("op", "("):
                raise ExpressionError(f"'{name}' is a function; call it as {name}(...)", t.offset)
            self.advance()
            self.nested()
            args = []
            while not self.at("op", ")"):
                args.append(self.disjunction())
                if not self.at("op", ","):
                    break
                self.advance()
            self.depth -= 1
            self.expect_op(")")
            return self.built(Call(t.offset, name, tuple(args)), *args)
        if self.at("op", "("):
            raise ExpressionError(
                f"unknown function '{name}'; the functions are {', '.join(FUNCTIONS)}", t.offset
            )
        if name in SINGLETONS:
            return Ref(t.offset, name, name)
        member = None
        if self.at("op", "."):
            self.advance()
            if not self.at("name"):
                raise ExpressionError(f"expected a name after '{name}.'", self.token.offset)
            member = self.advance().value
            if self.at("op", "."):
                raise ExpressionError("only one '.' is allowed in a name", self.token.offset)
        if name in NAMESPACES:
            if member is None:
                raise ExpressionError(f"'{name}' needs a name after it, as in {name}.some_id", t.offset)
            if name == "company" and member not in COMPANY_FIELDS:
                raise ExpressionError(
                    f"unknown company attribute '{member}'; use one of {', '.join(COMPANY_FIELDS)}",
                    t.offset,
                )
            return Ref(t.offset, name, member)
        return Ref(t.offset, "answer", name, member)


def describe(token: Token) -> str:
    if token.kind == "end":
        return "the end of the expression"
    if token.kind == "string":
        return f"'{token.value}'"
    return f"'{token.value}'"


def parse(text: str) -> Node:
    """Parse ``text`` into a syntax tree; raise ExpressionError with the offset of a problem."""
    if not isinstance(text, str):
        raise ExpressionError("an expression must be text")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression is longer than {MAX_LENGTH} characters")
    try:
        return _Parser(text).parse()
    except RecursionError:
        raise ExpressionError("the expression is nested too deeply") from None


# --- Evaluation ---------------------------------------------------------------------------
#
# ``env`` is any object with the attributes answers, scores, points, dimensions, pillars,
# levels, overall, archetype and company (dicts, except overall and archetype).


def _num(value: Any, op: str) -> float:
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        raise EvaluationError(f"'{op}' needs numbers, not {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, (list, tuple)):
        return "a list"
    return "a table of rows"


def _values(args: Sequence[Any]) -> list[float]:
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        args = args[0]
    elif len(args) == 1 and isinstance(args[0], dict):
        args = list(args[0].values())
    out: list[float] = []
    for a in args:
        if a is None:
            continue
        if isinstance(a, bool) or not isinstance(a, (int, float)):
            raise EvaluationError(f"aggregate functions need numbers, not {_kind(a)}")
        out.append(a)
    return out


def _count(*args: Any) -> int:
    if len(args) != 1:
        raise EvaluationError("count() takes one argument")
    value = args[0]
    if value is None:
        return 0
    if isinstance(value, (list, tuple, dict)):
        return len(value)
    return 1


def _agg(fn: Callable[[list[float]], float]) -> Callable[..., float | None]:
    def run(*args: Any) -> float | None:
        values = _values(args)
        return fn(values) if values else None

    return run


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "count": _count,
    "min": _agg(min),
    "max": _agg(max),
    "sum": _agg(math.fsum),
    "mean": _agg(lambda v: math.fsum(v) / len(v)),
}


_ORDERINGS: dict[str, Callable[[Any, Any], bool]] = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def _compare(op: str) -> Callable[[Any, Any], bool]:
    test = _ORDERINGS[op]

    def ordered(a: Any, b: Any) -> bool:
        if a is None or b is None:
            return False
        try:
            if isinstance(a, str) is isinstance(b, str):
                return test(a, b)
        except TypeError:
            pass
        raise EvaluationError(f"cannot compare {_kind(a)} with {_kind(b)} using '{op}'")

    return ordered


def _is_plain_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _compare_with_number(op: str, left: Evaluator, number: float) -> Evaluator:
    """``x < 50`` and the like, the most common rule, without the general path's checks
    unless the value is not a number."""
    test = _ORDERINGS[op]
    general = _compare(op)

    def compare(env: Environment) -> bool:
        value = left(env)
        if value.__class__ is float or value.__class__ is int:
            return test(value, number)
        return general(value, number)

    return compare


def _contains(item: Any, container: Any) -> bool:
    if container is None:
        return False
    if isinstance(container, (list, tuple)):
        if isinstance(item, (list, tuple)):
            return all(i in container for i in item)
        return item in container
    if isinstance(container, dict):
        return item in container
    if isinstance(container, str):
        return isinstance(item, str) and item == container
    raise EvaluationError(f"'in' needs a list on its right, not {_kind(container)}")


def _arith(op: str) -> Callable[[Any, Any], float | None]:
    def run(a: Any, b: Any) -> float | None:
        if a is None or b is None:
            return None
        x, y = _num(a, op), _num(b, op)
        if op == "+":
            return x + y
        if op == "-":
            return x - y
        if op == "*":
            return x * y
        if y == 0:
            raise EvaluationError("division by zero")
        return x / y

    return run


def compile_node(node: Node) -> Evaluator:
    """The evaluator of the tree under ``node``."""
    if isinstance(node, Literal):
        value = node.value
        return lambda env: value
    if isinstance(node, ListNode):
        items = tuple(n.value for n in node.items)
        return lambda env: items
    if isinstance(node, Ref):
        return _compile_ref(node)
    if isinstance(node, Unary):
        operand = compile_node(node.operand)
        if node.op == "not":
            return lambda env: not operand(env)

        def negate(env: Environment) -> float | None:
            value = operand(env)
            return None if value is None else -_num(value, "-")

        return negate
    if isinstance(node, Binary):
        left, right = compile_node(node.left), compile_node(node.right)
        op = node.op
        if op == "and":
            return lambda env: bool(left(env)) and bool(right(env))
        if op == "or":
            return lambda env: bool(left(env)) or bool(right(env))
        if op == "==":
            return lambda env: left(env) == right(env)
        if op == "!=":
            return lambda env: left(env) != right(env)
        if op == "in":
            return lambda env: _contains(left(env), right(env))
        if op == "not in":
            return lambda env: not _contains(left(env), right(env))
        if op in _COMPARISONS and isinstance(node.right, Literal) and _is_plain_number(node.right.value):
            return _compare_with_number(op, left, node.right.value)
        fn = _compare(op) if op in _COMPARISONS else _arith(op)
        return lambda env: fn(left(env), right(env))
    if isinstance(node, Call):
        args = tuple(compile_node(a) for a in node.args)
        if node.function == "answered":
            (arg,) = args

            def answered(env: Environment) -> bool:
                value = arg(env)
                return value is not None and value != [] and value != {}

            return answered
        fn = _FUNCTIONS[node.function]
        return lambda env: fn(*(a(env) for a in args))
    raise AssertionError(f"unknown node {node!r}")


def _compile_ref(node: Ref) -> Evaluator:
    name, member = node.name, node.member
    ns = node.namespace
    if ns == "answer":
        if member is None:
            return lambda env: env.answers.get(name)

        def row(env: Environment) -> Any:
            value = env.answers.get(name)
            return value.get(member) if isinstance(value, dict) else None

        return row
    if ns == "overall":
        return lambda env: env.overall
    if ns == "archetype":
        return lambda env: env.archetype
    attribute = {
        "score": "scores",
        "points": "points",
        "dimension": "dimensions",
        "pillar": "pillars",
        "level": "levels",
        "company": "company",
    }[ns]
    return lambda env: getattr(env, attribute).get(name)


def compile_expression(text: str) -> Expression:
    """``text`` parsed and compiled; raises ExpressionError with the offset of a problem."""
    tree = parse(text)
    if isinstance(tree, Call) and tree.function == "answered" and len(tree.args) != 1:
        raise ExpressionError("answered() takes one question id", tree.offset)
    for node in walk(tree):
        if isinstance(node, Call) and node.function in ("answered", "count") and len(node.args) != 1:
            raise ExpressionError(f"{node.function}() takes one argument", node.offset)
        if isinstance(node, Call) and node.function == "answered":
            arg = node.args[0]
            if not (isinstance(arg, Ref) and arg.namespace == "answer"):
                raise ExpressionError("answered() takes a question id", node.offset)
        if isinstance(node, Call) and not node.args:
            raise ExpressionError(f"{node.function}() needs at least one argument", node.offset)
    return Expression(text, tree, _guarded(compile_node(tree)))


def _guarded(fn: Evaluator) -> Evaluator:
    def evaluate(env: Environment) -> Any:
        try:
            return fn(env)
        except EvaluationError:
            raise
        except (TypeError, ValueError, ArithmeticError, AttributeError) as exc:
            raise EvaluationError(str(exc)) from None

    return evaluate
