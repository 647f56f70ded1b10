using System.Runtime.CompilerServices;
using System.Text;

namespace MLNetTransformers.Tokenizers.ChatTemplates;

/// <summary>Renders a parsed template: one instance per rendering (it holds the rendering's counters).</summary>
internal sealed class Interpreter(int maxIterations, int maxStringLength, Func<DateTime> clock)
{
    private int _iterations;
    private int _callDepth;

    private enum Flow
    {
        Normal,
        Break,
        Continue,
    }

    public Func<DateTime> Clock { get; } = clock;

    public string Render(List<Stmt> body, Scope context)
    {
        var output = new StringBuilder();
        try
        {
            ExecBody(body, new Scope(context), output);
        }
        catch (InsufficientExecutionStackException)
        {
            throw ChatTemplateException.Runtime("RecursionError", "maximum recursion depth exceeded while rendering the template");
        }

        return output.ToString();
    }

    public int MaxStringLength => maxStringLength;

    public void CheckString(long length) => PyOps.CheckLength(length, maxStringLength);

    private void CountIteration()
    {
        if (++_iterations > maxIterations)
        {
            throw ChatTemplateException.Runtime("IterationLimitError",
                $"the template ran more than {maxIterations} loop iterations and macro calls; rendering was stopped");
        }
    }

    private void Append(StringBuilder output, string text)
    {
        CheckString((long)output.Length + text.Length);
        output.Append(text);
    }

    private Flow ExecBody(List<Stmt> body, Scope scope, StringBuilder output)
    {
        foreach (var stmt in body)
        {
            Flow flow = Exec(stmt, scope, output);
            if (flow != Flow.Normal)
            {
                return flow;
            }
        }

        return Flow.Normal;
    }

    private Flow Exec(Stmt stmt, Scope scope, StringBuilder output)
    {
        RuntimeHelpers.EnsureSufficientExecutionStack();
        try
        {
            switch (stmt)
            {
                case TextStmt t:
                    Append(output, t.Text);
                    return Flow.Normal;
                case OutputStmt o:
                    Append(output, PyRepr.Str(Eval(o.Expr, scope)));
                    return Flow.Normal;
                case IfStmt s:
                    foreach (var (test, body) in s.Branches)
                    {
                        if (PyOps.Truthy(Eval(test, scope)))
                        {
                            return ExecBody(body, scope, output);
                        }
                    }

                    return ExecBody(s.Else, scope, output);
                case ForStmt f:
                    ExecFor(f, scope, output);
                    return Flow.Normal;
                case SetStmt s:
                    Assign(s.Target, Eval(s.Value, scope), scope);
                    return Flow.Normal;
                case SetBlockStmt s:
                    {
                        var buffer = new StringBuilder();
                        ExecBody(s.Body, new Scope(scope), buffer);
                        object? value = buffer.ToString();
                        if (s.Filter is not null)
                        {
                            value = EvalFilter(s.Filter, scope, value);
                        }

                        Assign(s.Target, value, scope);
                        return Flow.Normal;
                    }

                case MacroStmt m:
                    scope.Set(m.Macro.Name, new MacroValue(m.Macro, scope));
                    return Flow.Normal;
                case CallBlockStmt c:
                    {
                        var caller = new MacroValue(c.Caller, scope);
                        object? callee = Eval(c.Call.Callee, scope);
                        var args = EvalArgs(c.Call.Args, scope);
                        args.Keywords.Add(new KeyValuePair<string, object?>("caller", caller));
                        Append(output, PyRepr.Str(Call(callee, args)));
                        return Flow.Normal;
                    }

                case FilterBlockStmt f:
                    {
                        var buffer = new StringBuilder();
                        Flow flow = ExecBody(f.Body, new Scope(scope), buffer);
                        Append(output, PyRepr.Str(EvalFilter(f.Filter, scope, buffer.ToString())));
                        return flow;
                    }

                case WithStmt w:
                    {
                        var inner = new Scope(scope);
                        for (int i = 0; i < w.Targets.Count; i++)
                        {
                            Assign(w.Targets[i], Eval(w.Values[i], scope), inner);
                        }

                        return ExecBody(w.Body, inner, output);
                    }

                case ScopeStmt s:
                    return ExecBody(s.Body, new Scope(scope), output);
                case BreakStmt:
                    return Flow.Break;
                case ContinueStmt:
                    return Flow.Continue;
                default:
                    throw new InvalidOperationException($"unknown statement {stmt.GetType().Name}");
            }
        }
        catch (ChatTemplateException ex) when (!ex.HasPosition)
        {
            throw ex.WithPosition(stmt.Line, stmt.Column);
        }
    }

    private void ExecFor(ForStmt f, Scope scope, StringBuilder output)
    {
        object? iterable = Eval(f.Iter, scope);
        RunLoop(f, iterable, scope, output, 0);
    }

    private void RunLoop(ForStmt f, object? iterable, Scope scope, StringBuilder output, int depth0)
    {
        var items = new List<object?>();
        foreach (var item in PyOps.Iterate(iterable))
        {
            CountIteration();
            if (f.Filter is not null)
            {
                var filterScope = new Scope(scope);
                Assign(f.Target, item, filterScope);
                if (!PyOps.Truthy(Eval(f.Filter, filterScope)))
                {
                    continue;
                }
            }

            items.Add(item);
        }

        if (items.Count == 0)
        {
            ExecBody(f.Else, new Scope(scope), output);
            return;
        }

        Func<object?, int, string>? recurse = f.Recursive
            ? (inner, depth) =>
            {
                var buffer = new StringBuilder();
                RunLoop(f, inner, scope, buffer, depth);
                return buffer.ToString();
            }
        : null;
        var loop = new LoopContext(items, depth0, recurse);
        for (int i = 0; i < items.Count; i++)
        {
            CountIteration();
            loop.Index0 = i;
            var iteration = new Scope(scope);
            Assign(f.Target, items[i], iteration);
            iteration.Set("loop", loop);
            if (ExecBody(f.Body, iteration, output) == Flow.Break)
            {
                break;
            }
        }
    }

    private static void Assign(Expr target, object? value, Scope scope)
    {
        switch (target)
        {
            case NameExpr n:
                scope.Set(n.Name, value);
                break;
            case TupleExpr t:
                {
                    var items = PyOps.Iterate(value).Take(t.Items.Count + 1).ToList();
                    if (items.Count > t.Items.Count)
                    {
                        throw ChatTemplateException.Runtime("ValueError", $"too many values to unpack (expected {t.Items.Count})");
                    }

                    if (items.Count < t.Items.Count)
                    {
                        throw ChatTemplateException.Runtime("ValueError", $"not enough values to unpack (expected {t.Items.Count}, got {items.Count})");
                    }

                    for (int i = 0; i < items.Count; i++)
                    {
                        Assign(t.Items[i], items[i], scope);
                    }

                    break;
                }

            case NsRefExpr ns:
                if (!scope.TryGet(ns.Name, out object? obj) || obj is not PyNamespace namespaceObject)
                {
                    throw ChatTemplateException.Runtime("TemplateRuntimeError", "cannot assign attribute on non-namespace object");
                }

                namespaceObject.Attributes.Set(ns.Attr, value);
                break;
            default:
                throw ChatTemplateException.Runtime("TemplateRuntimeError", "cannot assign to this target");
        }
    }

    public object? Eval(Expr expr, Scope scope)
    {
        RuntimeHelpers.EnsureSufficientExecutionStack();
        try
        {
            return EvalCore(expr, scope);
        }
        catch (ChatTemplateException ex) when (!ex.HasPosition)
        {
            throw ex.WithPosition(expr.Line, expr.Column);
        }
    }

    private object? EvalCore(Expr expr, Scope scope)
    {
        switch (expr)
        {
            case ConstExpr c:
                return c.Value;
            case NameExpr n:
                return scope.TryGet(n.Name, out object? value) ? value : Undefined.Named(n.Name);
            case ListExpr l:
                return l.Items.Select(e => Eval(e, scope)).ToList();
            case TupleExpr t:
                return new PyTuple([.. t.Items.Select(e => Eval(e, scope))]);
            case DictExpr d:
                {
                    var dict = new PyDict();
                    foreach (var (k, v) in d.Pairs)
                    {
                        dict.Set(Eval(k, scope), Eval(v, scope));
                    }

                    return dict;
                }

            case GetattrExpr g:
                return PyOps.GetAttr(Eval(g.Obj, scope), g.Attr);
            case GetitemExpr g:
                {
                    object? obj = Eval(g.Obj, scope);
                    object? key = Eval(g.Arg, scope);
                    return g.Arg is SliceExpr ? PyOps.GetSlice(obj, (PySlice)key!) : PyOps.GetItem(obj, key);
                }

            case SliceExpr s:
                return new PySlice(
                    s.Start is null ? null : Eval(s.Start, scope),
                    s.Stop is null ? null : Eval(s.Stop, scope),
                    s.Step is null ? null : Eval(s.Step, scope));
            case CallExpr c:
                {
                    object? callee = Eval(c.Callee, scope);
                    return Call(callee, EvalArgs(c.Args, scope));
                }

            case FilterExpr f:
                return EvalFilter(f, scope, null);
            case TestExpr t:
                {
                    object? tested = Eval(t.Node, scope);
                    return Tests.Call(this, t.Name, tested, EvalArgs(t.Args, scope));
                }

            case UnaryExpr u:
                {
                    object? operand = Eval(u.Operand, scope);
                    return u.Op switch
                    {
                        UnaryOp.Not => !PyOps.Truthy(operand),
                        UnaryOp.Neg => PyOps.Neg(operand),
                        _ => PyOps.Pos(operand),
                    };
                }

            case BinaryExpr b:
                {
                    object? left = Eval(b.Left, scope);
                    switch (b.Op)
                    {
                        case BinaryOp.And:
                            return PyOps.Truthy(left) ? Eval(b.Right, scope) : left;
                        case BinaryOp.Or:
                            return PyOps.Truthy(left) ? left : Eval(b.Right, scope);
                    }

                    object? right = Eval(b.Right, scope);
                    return b.Op switch
                    {
                        BinaryOp.Add => PyOps.Add(left, right, maxStringLength),
                        BinaryOp.Sub => PyOps.Sub(left, right),
                        BinaryOp.Mul => PyOps.Mul(left, right, maxStringLength),
                        BinaryOp.Div => PyOps.Div(left, right),
                        BinaryOp.FloorDiv => PyOps.FloorDiv(left, right),
                        BinaryOp.Mod => CheckedString(PyOps.Mod(left, right)),
                        _ => PyOps.Pow(left, right),
                    };
                }

            case ConcatExpr c:
                {
                    var sb = new StringBuilder();
                    foreach (var item in c.Items)
                    {
                        sb.Append(PyRepr.Str(Eval(item, scope)));
                        CheckString(sb.Length);
                    }

                    return sb.ToString();
                }

            case CompareExpr c:
                {
                    object? left = Eval(c.First, scope);
                    foreach (var (op, operand) in c.Ops)
                    {
                        object? right = Eval(operand, scope);
                        if (!PyOps.CompareOp(op, left, right))
                        {
                            return false;
                        }

                        left = right;
                    }

                    return true;
                }

            case CondExpr c:
                if (PyOps.Truthy(Eval(c.Test, scope)))
                {
                    return Eval(c.Then, scope);
                }

                return c.Else is not null
                    ? Eval(c.Else, scope)
                    : Undefined.WithHint($"the inline if-expression on line {c.Line} evaluated to false and no else section was defined.");
            case NsRefExpr n:
                throw ChatTemplateException.Runtime("TemplateSyntaxError", $"'{n.Name}.{n.Attr}' can only be assigned to");
            default:
                throw new InvalidOperationException($"unknown expression {expr.GetType().Name}");
        }
    }

    private object? CheckedString(object? value)
    {
        if (value is string s)
        {
            CheckString(s.Length);
        }

        return value;
    }

    private object? EvalFilter(FilterExpr f, Scope scope, object? blockInput)
    {
        object? value = f.Node switch
        {
            null => blockInput,
            FilterExpr inner when blockInput is not null => EvalFilterChainInput(inner, scope, blockInput),
            _ => Eval(f.Node, scope),
        };
        return Filters.Call(this, f.Name, value, EvalArgs(f.Args, scope));
    }

    private object? EvalFilterChainInput(FilterExpr inner, Scope scope, object? blockInput)
    {
        try
        {
            return EvalFilter(inner, scope, blockInput);
        }
        catch (ChatTemplateException ex) when (!ex.HasPosition)
        {
            throw ex.WithPosition(inner.Line, inner.Column);
        }
    }

    private CallArgs EvalArgs(ArgList list, Scope scope)
    {
        if (list.Args.Count == 0 && list.Kwargs.Count == 0 && list.DynArgs is null && list.DynKwargs is null)
        {
            return new CallArgs([], []);
        }

        var positional = list.Args.Select(a => Eval(a, scope)).ToList();
        var keywords = list.Kwargs.Select(k => new KeyValuePair<string, object?>(k.Name, Eval(k.Value, scope))).ToList();
        if (list.DynArgs is not null)
        {
            positional.AddRange(PyOps.Iterate(Eval(list.DynArgs, scope)));
        }

        if (list.DynKwargs is not null)
        {
            if (Eval(list.DynKwargs, scope) is not PyDict d)
            {
                throw ChatTemplateException.Runtime("TypeError", "argument after ** must be a mapping");
            }

            foreach (var (k, v) in d.Entries)
            {
                string key = k as string ?? throw ChatTemplateException.Runtime("TypeError", "keywords must be strings");
                if (keywords.Any(x => x.Key == key))
                {
                    throw ChatTemplateException.Runtime("TypeError", $"got multiple values for keyword argument '{key}'");
                }

                keywords.Add(new KeyValuePair<string, object?>(key, v));
            }
        }

        return new CallArgs(positional, keywords);
    }

    public object? Call(object? callee, CallArgs args) => callee switch
    {
        Undefined u => throw u.Fail(),
        PyCallable c => c.Call(this, args),
        LoopContext { Recurse: { } recurse } loop => recurse(args.Bind("loop", ["iterable"], 1)[0], loop.Depth0 + 1),
        LoopContext => throw ChatTemplateException.Runtime("TypeError", "The loop must have the 'recursive' marker to be called recursively."),
        _ => throw ChatTemplateException.Runtime("TypeError", $"'{PyOps.TypeName(callee)}' object is not callable"),
    };

    public string CallMacro(MacroValue macro, CallArgs args)
    {
        CountIteration();
        if (_callDepth >= ChatTemplateLimits.MaxCallDepth)
        {
            throw ChatTemplateException.Runtime("RecursionError", "maximum recursion depth exceeded");
        }

        MacroDef def = macro.Definition;
        var scope = new Scope(macro.Scope);
        var kwargs = new List<KeyValuePair<string, object?>>(args.Keywords);
        int count = def.Args.Count;

        object? Pop(string name, out bool found)
        {
            int i = kwargs.FindIndex(k => k.Key == name);
            found = i >= 0;
            if (!found)
            {
                return null;
            }

            object? v = kwargs[i].Value;
            kwargs.RemoveAt(i);
            return v;
        }

        var missing = new bool[count];
        var values = new object?[count];
        for (int i = 0; i < count; i++)
        {
            if (i < args.Positional.Count)
            {
                values[i] = args.Positional[i];
            }
            else
            {
                values[i] = Pop(def.Args[i], out bool found);
                missing[i] = !found;
            }
        }

        if (def.UsesCaller && !def.Args.Contains("caller"))
        {
            object? caller = Pop("caller", out bool found);
            scope.Set("caller", found && caller is not null ? caller : Undefined.WithHint("No caller defined"));
        }

        if (def.UsesKwargs)
        {
            var d = new PyDict();
            foreach (var (k, kv) in kwargs)
            {
                d.Set(k, kv);
            }

            scope.Set("kwargs", d);
        }
        else if (kwargs.Count > 0)
        {
            throw ChatTemplateException.Runtime("TypeError", kwargs[0].Key == "caller"
                ? $"macro '{def.Name}' was invoked with two values for the special caller argument. This is most likely a bug."
                : $"macro '{def.Name}' takes no keyword argument '{kwargs[0].Key}'");
        }

        if (def.UsesVarargs)
        {
            scope.Set("varargs", new PyTuple([.. args.Positional.Skip(count)]));
        }
        else if (args.Positional.Count > count)
        {
            throw ChatTemplateException.Runtime("TypeError", $"macro '{def.Name}' takes not more than {count} argument(s)");
        }

        int firstDefault = count - def.Defaults.Count;
        for (int i = 0; i < count; i++)
        {
            object? value = values[i];
            if (missing[i])
            {
                value = i >= firstDefault
                    ? Eval(def.Defaults[i - firstDefault], scope)
                    : Undefined.WithHint($"parameter '{def.Args[i]}' was not provided");
            }

            scope.Set(def.Args[i], value);
        }

        var output = new StringBuilder();
        _callDepth++;
        try
        {
            ExecBody(def.Body, scope, output);
        }
        finally
        {
            _callDepth--;
        }

        return output.ToString();
    }
}
