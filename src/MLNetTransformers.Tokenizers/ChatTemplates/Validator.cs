using System.Runtime.CompilerServices;

namespace MLNetTransformers.Tokenizers.ChatTemplates;

/// <summary>What Jinja's compiler checks after parsing: a filter or test that does not exist is an error, except inside an
/// <c>if</c> statement or an inline if-expression, where it fails only when evaluated. Also finds which macros use
/// <c>varargs</c>, <c>kwargs</c> and <c>caller</c>.</summary>
internal static class Validator
{
    public static void Validate(List<Stmt> body) => VisitBody(body, soft: false);

    public static void MarkSpecialNames(MacroDef macro)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var stmt in macro.Body)
        {
            CollectNames(stmt, names);
        }

        macro.UsesVarargs = names.Contains("varargs");
        macro.UsesKwargs = names.Contains("kwargs");
        macro.UsesCaller = names.Contains("caller");
    }

    private static void CollectNames(object node, HashSet<string> names)
    {
        RuntimeHelpers.EnsureSufficientExecutionStack();
        if (node is NameExpr n)
        {
            names.Add(n.Name);
        }

        foreach (var child in Children(node))
        {
            CollectNames(child, names);
        }
    }

    private static void VisitBody(List<Stmt> body, bool soft)
    {
        foreach (var stmt in body)
        {
            Visit(stmt, soft);
        }
    }

    private static void Visit(object node, bool soft)
    {
        RuntimeHelpers.EnsureSufficientExecutionStack();
        switch (node)
        {
            case IfStmt s:
                foreach (var (test, body) in s.Branches)
                {
                    Visit(test, soft: true);
                    VisitBody(body, soft: true);
                }

                VisitBody(s.Else, soft: true);
                return;
            case CondExpr c:
                Visit(c.Test, soft: true);
                Visit(c.Then, soft: true);
                if (c.Else is not null)
                {
                    Visit(c.Else, soft: true);
                }

                return;
            case ForStmt f:
                Visit(f.Target, soft);
                Visit(f.Iter, soft);
                if (f.Filter is not null)
                {
                    Visit(f.Filter, soft: false);
                }

                VisitBody(f.Body, soft: false);
                VisitBody(f.Else, soft: false);
                return;
            case MacroStmt or CallBlockStmt or FilterBlockStmt or WithStmt or ScopeStmt or SetBlockStmt:
                foreach (var child in Children(node))
                {
                    Visit(child, child is Stmt ? false : soft);
                }

                return;
            case FilterExpr f when !soft && !Filters.Exists(f.Name):
                throw ChatTemplateException.Syntax($"No filter named '{f.Name}'.", f.Line, f.Column);
            case TestExpr t when !soft && !Tests.Exists(t.Name):
                throw ChatTemplateException.Syntax($"No test named '{t.Name}'.", t.Line, t.Column);
        }

        foreach (var child in Children(node))
        {
            Visit(child, soft);
        }
    }

    private static IEnumerable<object> Args(ArgList a)
    {
        foreach (var e in a.Args)
        {
            yield return e;
        }

        foreach (var (_, e) in a.Kwargs)
        {
            yield return e;
        }

        if (a.DynArgs is not null)
        {
            yield return a.DynArgs;
        }

        if (a.DynKwargs is not null)
        {
            yield return a.DynKwargs;
        }
    }

    private static IEnumerable<object> Children(object node)
    {
        switch (node)
        {
            case OutputStmt s:
                yield return s.Expr;
                break;
            case IfStmt s:
                foreach (var (test, body) in s.Branches)
                {
                    yield return test;
                    foreach (var b in body)
                    {
                        yield return b;
                    }
                }

                foreach (var b in s.Else)
                {
                    yield return b;
                }

                break;
            case ForStmt s:
                yield return s.Target;
                yield return s.Iter;
                if (s.Filter is not null)
                {
                    yield return s.Filter;
                }

                foreach (var b in s.Body.Concat(s.Else))
                {
                    yield return b;
                }

                break;
            case SetStmt s:
                yield return s.Target;
                yield return s.Value;
                break;
            case SetBlockStmt s:
                yield return s.Target;
                if (s.Filter is not null)
                {
                    yield return s.Filter;
                }

                foreach (var b in s.Body)
                {
                    yield return b;
                }

                break;
            case MacroStmt s:
                foreach (var d in s.Macro.Defaults)
                {
                    yield return d;
                }

                foreach (var b in s.Macro.Body)
                {
                    yield return b;
                }

                break;
            case CallBlockStmt s:
                yield return s.Call;
                foreach (var d in s.Caller.Defaults)
                {
                    yield return d;
                }

                foreach (var b in s.Caller.Body)
                {
                    yield return b;
                }

                break;
            case FilterBlockStmt s:
                yield return s.Filter;
                foreach (var b in s.Body)
                {
                    yield return b;
                }

                break;
            case WithStmt s:
                foreach (var e in s.Targets.Concat(s.Values))
                {
                    yield return e;
                }

                foreach (var b in s.Body)
                {
                    yield return b;
                }

                break;
            case ScopeStmt s:
                foreach (var b in s.Body)
                {
                    yield return b;
                }

                break;
            case ListExpr e:
                foreach (var i in e.Items)
                {
                    yield return i;
                }

                break;
            case TupleExpr e:
                foreach (var i in e.Items)
                {
                    yield return i;
                }

                break;
            case DictExpr e:
                foreach (var (k, v) in e.Pairs)
                {
                    yield return k;
                    yield return v;
                }

                break;
            case GetattrExpr e:
                yield return e.Obj;
                break;
            case GetitemExpr e:
                yield return e.Obj;
                yield return e.Arg;
                break;
            case SliceExpr e:
                foreach (var p in new[] { e.Start, e.Stop, e.Step })
                {
                    if (p is not null)
                    {
                        yield return p;
                    }
                }

                break;
            case CallExpr e:
                yield return e.Callee;
                foreach (var a in Args(e.Args))
                {
                    yield return a;
                }

                break;
            case FilterExpr e:
                if (e.Node is not null)
                {
                    yield return e.Node;
                }

                foreach (var a in Args(e.Args))
                {
                    yield return a;
                }

                break;
            case TestExpr e:
                yield return e.Node;
                foreach (var a in Args(e.Args))
                {
                    yield return a;
                }

                break;
            case UnaryExpr e:
                yield return e.Operand;
                break;
            case BinaryExpr e:
                yield return e.Left;
                yield return e.Right;
                break;
            case ConcatExpr e:
                foreach (var i in e.Items)
                {
                    yield return i;
                }

                break;
            case CompareExpr e:
                yield return e.First;
                foreach (var (_, o) in e.Ops)
                {
                    yield return o;
                }

                break;
            case CondExpr e:
                yield return e.Test;
                yield return e.Then;
                if (e.Else is not null)
                {
                    yield return e.Else;
                }

                break;
        }
    }
}
