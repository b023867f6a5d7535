"""What the student's kernel is sent of a test cell under autograde.

Only the statements that record evidence (`call(...)`, `submitted(...)`) and those they need, in
their order (`kernel_source`): the checks and their expected values run only in the grader. With
hidden calls last (`kernel_parts`), what comes from the cell's first hidden test on is sent after
the notebook's last cell. nbgrader's hidden-test markers say which lines are hidden
(`hidden_lines`). `execute.py` sends these parts; `verify.py` reads the same answers to know
which records to expect. Evidence itself, and its replay, is `evidence.py`.
"""
from __future__ import annotations

import ast

#: The functions through which a test cell records evidence in the kernel.
EVIDENCE_FUNCTIONS = frozenset({"call", "submitted"})


def _called_name(node: ast.Call) -> str | None:
    func = node.func
    return func.id if isinstance(func, ast.Name) else (
        func.attr if isinstance(func, ast.Attribute) else None)


def evidence_calls(source: str) -> int:
    """How many `call(...)`/`submitted(...)` a test cell's source spells out (a loop may make
    more at run time); 0 when it does not parse."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return 0
    return sum(1 for node in ast.walk(tree) if isinstance(node, ast.Call)
               and _called_name(node) in EVIDENCE_FUNCTIONS)


def _records_evidence(statement: ast.stmt) -> bool:
    return any(isinstance(node, ast.Call) and _called_name(node) in EVIDENCE_FUNCTIONS
               for node in ast.walk(statement))


def _bound_names(statement: ast.stmt) -> set[str]:
    names = set()
    for node in ast.walk(statement):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
    return names


def _read_names(statement: ast.stmt) -> set[str]:
    return {node.id for node in ast.walk(statement)
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}


#: The notebook metadata key where `SandboxedExecute` says how the hidden calls were sent, for
#: `VerifyEvidence`: "last" (after the notebook's last cell) or "in place" (in their cells, as
#: stock nbgrader sends them).
HIDDEN_CALLS_KEY = "keras_course_hidden_calls"


def hidden_lines(source: str) -> frozenset[int]:
    """Line numbers (from 1) of a cell's hidden tests, markers included (nbgrader's markers,
    as `coursedir.hidden_markers` reads them)."""
    from ..coursedir import hidden_markers

    begin, end = hidden_markers()
    lines, inside = set(), False
    for number, line in enumerate(source.splitlines(), start=1):
        if begin in line:
            inside = True
        if inside:
            lines.add(number)
        if end in line:
            inside = False
    return frozenset(lines)


def _evidence_statements(body: list[ast.stmt]) -> list[ast.stmt]:
    """The statements that record evidence and those they need, in their order."""
    needed: set[str] = set()
    kept: list[ast.stmt] = []
    for statement in reversed(body):
        if _records_evidence(statement) or _bound_names(statement) & needed:
            kept.append(statement)
            needed |= _read_names(statement)
    kept.reverse()
    return kept


def _unparse(statements: list[ast.stmt]) -> str:
    return ast.unparse(ast.Module(body=statements, type_ignores=[])) + "\n" if statements else ""


def kernel_parts(source: str) -> tuple[str, str]:
    """`kernel_source` in two parts: what the kernel is sent at the test cell's turn, and what
    it is sent after the notebook's last cell (from the cell's first hidden statement on).

    Sending the hidden calls last means no cell of the notebook runs after they reached the
    kernel, so nothing a later cell prints or draws can carry their arguments. The later part
    starts again what it needs of the first (imports, fixtures), but never a statement that
    records evidence. Either part may be empty; a cell that cannot be parsed is sent whole at
    its turn.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source, ""
    hidden = hidden_lines(source)
    kept = _evidence_statements(tree.body)
    split = next((i for i, statement in enumerate(kept)
                  if hidden & set(range(statement.lineno, (statement.end_lineno or 0) + 1))),
                 len(kept))
    now, later = kept[:split], kept[split:]
    if later:
        needed = set().union(*(_read_names(statement) for statement in later))
        again: list[ast.stmt] = []
        for statement in reversed(now):
            if not _records_evidence(statement) and _bound_names(statement) & needed:
                again.append(statement)
                needed |= _read_names(statement)
        later = again[::-1] + later
    return _unparse(now), _unparse(later)


def visible_calls_after_hidden(source: str) -> bool:
    """Whether a test cell records evidence outside its hidden tests after they began (those
    calls are sent with the hidden ones, after the notebook's last cell)."""
    hidden = hidden_lines(source)
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    return bool(hidden) and any(
        _records_evidence(statement) and statement.lineno > min(hidden)
        and statement.lineno not in hidden for statement in tree.body)


def kernel_source(source: str) -> str:
    """What the student's kernel is sent of a test cell under autograde: only what records
    evidence.

    The statements that call `call(...)` or `submitted(...)`, and those they need (imports,
    fixtures, the names their arguments use), in their order. The checks and their expected
    values stay out of the kernel: they run only in the grader (`VerifyEvidence`), so code in
    the kernel can neither read a hidden test's expected answer nor shape its evidence to it.
    A cell that cannot be parsed is sent as it is (it records nothing either way).
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    return _unparse(_evidence_statements(tree.body)) or "pass\n"
