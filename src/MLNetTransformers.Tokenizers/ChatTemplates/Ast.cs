namespace MLNetTransformers.Tokenizers.ChatTemplates;

/// <summary>A node of the parsed template, with the 1-based position of the token that started it.</summary>
internal abstract class Node(int line, int column)
{
    public int Line { get; } = line;

    public int Column { get; } = column;
}

internal abstract class Stmt(int line, int column) : Node(line, column);

internal abstract class Expr(int line, int column) : Node(line, column);

/// <summary>Template text.</summary>
internal sealed class TextStmt(string text, int line, int column) : Stmt(line, column)
{
    public string Text { get; } = text;
}

/// <summary><c>{{ expr }}</c> and <c>{% print expr %}</c>.</summary>
internal sealed class OutputStmt(Expr expr) : Stmt(expr.Line, expr.Column)
{
    public Expr Expr { get; } = expr;
}

internal sealed class IfStmt(List<(Expr Test, List<Stmt> Body)> branches, List<Stmt> elseBody, int line, int column) : Stmt(line, column)
{
    public List<(Expr Test, List<Stmt> Body)> Branches { get; } = branches;

    public List<Stmt> Else { get; } = elseBody;
}

internal sealed class ForStmt(Expr target, Expr iter, Expr? filter, List<Stmt> body, List<Stmt> elseBody, bool recursive, int line, int column)
    : Stmt(line, column)
{
    public Expr Target { get; } = target;

    public Expr Iter { get; } = iter;

    public Expr? Filter { get; } = filter;

    public List<Stmt> Body { get; } = body;

    public List<Stmt> Else { get; } = elseBody;

    public bool Recursive { get; } = recursive;
}

/// <summary><c>{% set target = value %}</c> (target: a name, a tuple of names, or <c>ns.attr</c>).</summary>
internal sealed class SetStmt(Expr target, Expr value, int line, int column) : Stmt(line, column)
{
    public Expr Target { get; } = target;

    public Expr Value { get; } = value;
}

/// <summary><c>{% set target | filters %}body{% endset %}</c>.</summary>
internal sealed class SetBlockStmt(Expr target, FilterExpr? filter, List<Stmt> body, int line, int column) : Stmt(line, column)
{
    public Expr Target { get; } = target;

    public FilterExpr? Filter { get; } = filter;

    public List<Stmt> Body { get; } = body;
}

/// <summary>A macro's signature and body (also the body of a <c>{% call %}</c> block, as <c>caller</c>).</summary>
internal sealed class MacroDef(string name, List<string> args, List<Expr> defaults, List<Stmt> body, int line, int column)
{
    public string Name { get; } = name;

    public List<string> Args { get; } = args;

    /// <summary>The defaults of the last <c>Defaults.Count</c> arguments.</summary>
    public List<Expr> Defaults { get; } = defaults;

    public List<Stmt> Body { get; } = body;

    public int Line { get; } = line;

    public int Column { get; } = column;

    public bool UsesVarargs { get; set; }

    public bool UsesKwargs { get; set; }

    public bool UsesCaller { get; set; }
}

internal sealed class MacroStmt(MacroDef macro, int line, int column) : Stmt(line, column)
{
    public MacroDef Macro { get; } = macro;
}

/// <summary><c>{% call(args) expr(...) %}body{% endcall %}</c>.</summary>
internal sealed class CallBlockStmt(MacroDef caller, CallExpr call, int line, int column) : Stmt(line, column)
{
    public MacroDef Caller { get; } = caller;

    public CallExpr Call { get; } = call;
}

/// <summary><c>{% filter f %}body{% endfilter %}</c>: the filter chain's innermost input is the rendered body.</summary>
internal sealed class FilterBlockStmt(FilterExpr filter, List<Stmt> body, int line, int column) : Stmt(line, column)
{
    public FilterExpr Filter { get; } = filter;

    public List<Stmt> Body { get; } = body;
}

internal sealed class WithStmt(List<Expr> targets, List<Expr> values, List<Stmt> body, int line, int column) : Stmt(line, column)
{
    public List<Expr> Targets { get; } = targets;

    public List<Expr> Values { get; } = values;

    public List<Stmt> Body { get; } = body;
}

/// <summary>A body rendered in its own scope (<c>{% generation %}</c> of transformers' AssistantTracker).</summary>
internal sealed class ScopeStmt(List<Stmt> body, int line, int column) : Stmt(line, column)
{
    public List<Stmt> Body { get; } = body;
}

internal sealed class BreakStmt(int line, int column) : Stmt(line, column);

internal sealed class ContinueStmt(int line, int column) : Stmt(line, column);

internal sealed class ConstExpr(object? value, int line, int column) : Expr(line, column)
{
    public object? Value { get; } = value;
}

internal sealed class NameExpr(string name, int line, int column) : Expr(line, column)
{
    public string Name { get; } = name;
}

/// <summary><c>ns.attr</c> as an assignment target.</summary>
internal sealed class NsRefExpr(string name, string attr, int line, int column) : Expr(line, column)
{
    public string Name { get; } = name;

    public string Attr { get; } = attr;
}

internal sealed class ListExpr(List<Expr> items, int line, int column) : Expr(line, column)
{
    public List<Expr> Items { get; } = items;
}

internal sealed class TupleExpr(List<Expr> items, int line, int column) : Expr(line, column)
{
    public List<Expr> Items { get; } = items;
}

internal sealed class DictExpr(List<(Expr Key, Expr Value)> pairs, int line, int column) : Expr(line, column)
{
    public List<(Expr Key, Expr Value)> Pairs { get; } = pairs;
}

internal sealed class GetattrExpr(Expr obj, string attr, int line, int column) : Expr(line, column)
{
    public Expr Obj { get; } = obj;

    public string Attr { get; } = attr;
}

internal sealed class GetitemExpr(Expr obj, Expr arg, int line, int column) : Expr(line, column)
{
    public Expr Obj { get; } = obj;

    public Expr Arg { get; } = arg;
}

internal sealed class SliceExpr(Expr? start, Expr? stop, Expr? step, int line, int column) : Expr(line, column)
{
    public Expr? Start { get; } = start;

    public Expr? Stop { get; } = stop;

    public Expr? Step { get; } = step;
}

/// <summary>Arguments of a call, filter or test: positional, keyword, <c>*args</c>, <c>**kwargs</c>.</summary>
internal sealed class ArgList(List<Expr> args, List<(string Name, Expr Value)> kwargs, Expr? dynArgs, Expr? dynKwargs)
{
    public static readonly ArgList Empty = new([], [], null, null);

    public List<Expr> Args { get; } = args;

    public List<(string Name, Expr Value)> Kwargs { get; } = kwargs;

    public Expr? DynArgs { get; } = dynArgs;

    public Expr? DynKwargs { get; } = dynKwargs;
}

internal sealed class CallExpr(Expr callee, ArgList args, int line, int column) : Expr(line, column)
{
    public Expr Callee { get; } = callee;

    public ArgList Args { get; } = args;
}

/// <summary><c>node | name(args)</c>; <see cref="Node"/> is null for the innermost filter of a filter block or set block.</summary>
internal sealed class FilterExpr(Expr? node, string name, ArgList args, int line, int column) : Expr(line, column)
{
    public Expr? Node { get; } = node;

    public string Name { get; } = name;

    public ArgList Args { get; } = args;
}

internal sealed class TestExpr(Expr node, string name, ArgList args, int line, int column) : Expr(line, column)
{
    public Expr Node { get; } = node;

    public string Name { get; } = name;

    public ArgList Args { get; } = args;
}

internal enum UnaryOp
{
    Not,
    Neg,
    Pos,
}

internal sealed class UnaryExpr(UnaryOp op, Expr operand, int line, int column) : Expr(line, column)
{
    public UnaryOp Op { get; } = op;

    public Expr Operand { get; } = operand;
}

internal enum BinaryOp
{
    Add,
    Sub,
    Mul,
    Div,
    FloorDiv,
    Mod,
    Pow,
    And,
    Or,
}

internal sealed class BinaryExpr(BinaryOp op, Expr left, Expr right, int line, int column) : Expr(line, column)
{
    public BinaryOp Op { get; } = op;

    public Expr Left { get; } = left;

    public Expr Right { get; } = right;
}

/// <summary><c>a ~ b ~ c</c>.</summary>
internal sealed class ConcatExpr(List<Expr> items, int line, int column) : Expr(line, column)
{
    public List<Expr> Items { get; } = items;
}

/// <summary>A comparison chain <c>a op1 b op2 c</c> (ops: eq ne lt lteq gt gteq in notin).</summary>
internal sealed class CompareExpr(Expr first, List<(string Op, Expr Operand)> ops, int line, int column) : Expr(line, column)
{
    public Expr First { get; } = first;

    public List<(string Op, Expr Operand)> Ops { get; } = ops;
}

/// <summary><c>then if test else otherwise</c>; <see cref="Else"/> is null when there is no else.</summary>
internal sealed class CondExpr(Expr test, Expr then, Expr? otherwise, int line, int column) : Expr(line, column)
{
    public Expr Test { get; } = test;

    public Expr Then { get; } = then;

    public Expr? Else { get; } = otherwise;
}
