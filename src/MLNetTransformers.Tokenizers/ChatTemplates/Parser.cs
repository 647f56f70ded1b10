using System.Runtime.CompilerServices;

namespace MLNetTransformers.Tokenizers.ChatTemplates;

/// <summary>Jinja2's parser (<c>jinja2/parser.py</c>), with the <c>loopcontrols</c> extension and transformers'
/// <c>{% generation %}</c> tag.</summary>
internal sealed class Parser
{
    private const int MaxNesting = 200;

    private static readonly HashSet<string> UnsupportedTags = new(StringComparer.Ordinal)
    {
        "block", "extends", "include", "from", "import", "autoescape",
    };

    private static readonly HashSet<string> CompareOps = new(StringComparer.Ordinal) { "==", "!=", "<", "<=", ">", ">=" };

    private readonly List<Token> _tokens;
    private readonly List<string> _tagStack = [];
    private readonly List<string[]> _endTokenStack = [];
    private int _index;
    private int _loopDepth;
    private int _nesting;

    private Parser(List<Token> tokens)
    {
        _tokens = tokens; // ends with the Eof token
    }

    public static List<Stmt> Parse(string source)
    {
        var parser = new Parser(Lexer.Tokenize(source));
        try
        {
            List<Stmt> body = parser.Subparse(null);
            Validator.Validate(body);
            return body;
        }
        catch (InsufficientExecutionStackException)
        {
            var t = parser.Current;
            throw ChatTemplateException.Syntax("the template is nested too deeply", t.Line, t.Column);
        }
    }

    private Token Current => _tokens[_index];

    private Token Look => _tokens[Math.Min(_index + 1, _tokens.Count - 1)];

    private Token Next()
    {
        var t = _tokens[_index];
        if (_index < _tokens.Count - 1)
        {
            _index++;
        }

        return t;
    }

    private static ChatTemplateException Fail(string message, Token at) => ChatTemplateException.Syntax(message, at.Line, at.Column);

    private bool SkipName(string name)
    {
        if (Current.IsName(name))
        {
            Next();
            return true;
        }

        return false;
    }

    private bool SkipOp(string op)
    {
        if (Current.IsOperator(op))
        {
            Next();
            return true;
        }

        return false;
    }

    private static bool Test(Token t, string expr)
    {
        // token expressions as in Jinja: "name:endfor", "block_end", or an operator
        if (expr.StartsWith("name:", StringComparison.Ordinal))
        {
            return t.IsName(expr[5..]);
        }

        return expr switch
        {
            "block_end" => t.Kind == TokenKind.BlockEnd,
            "variable_end" => t.Kind == TokenKind.VariableEnd,
            "name" => t.Kind == TokenKind.Name,
            _ => t.IsOperator(expr),
        };
    }

    private static string DescribeExpr(string expr) => expr switch
    {
        _ when expr.StartsWith("name:", StringComparison.Ordinal) => expr[5..],
        "block_end" => "end of statement block",
        "variable_end" => "end of print statement",
        "name" => "name",
        _ => expr,
    };

    private Token Expect(string expr)
    {
        if (!Test(Current, expr))
        {
            string what = DescribeExpr(expr);
            if (Current.Kind == TokenKind.Eof)
            {
                throw Fail($"unexpected end of template, expected '{what}'.", Current);
            }

            throw Fail($"expected token '{what}', got '{Current.Describe()}'", Current);
        }

        return Next();
    }

    private Token ExpectKind(TokenKind kind)
    {
        if (Current.Kind != kind)
        {
            string what = Token.DescribeKind(kind);
            if (Current.Kind == TokenKind.Eof)
            {
                throw Fail($"unexpected end of template, expected '{what}'.", Current);
            }

            throw Fail($"expected token '{what}', got '{Current.Describe()}'", Current);
        }

        return Next();
    }

    private void Enter()
    {
        if (++_nesting > MaxNesting)
        {
            throw Fail("the template is nested too deeply", Current);
        }

        RuntimeHelpers.EnsureSufficientExecutionStack();
    }

    private void FailUnknownTagOrEof(string? name, List<string[]> endTokenStack, Token at)
    {
        var expected = new HashSet<string>(StringComparer.Ordinal);
        foreach (var exprs in endTokenStack)
        {
            foreach (var e in exprs)
            {
                expected.Add(DescribeExpr(e));
            }
        }

        string? lookingFor = endTokenStack.Count > 0
            ? string.Join(" or ", endTokenStack[^1].Select(e => $"'{DescribeExpr(e)}'"))
            : null;
        var message = new List<string> { name is null ? "Unexpected end of template." : $"Encountered unknown tag '{name}'." };
        if (lookingFor is not null)
        {
            message.Add(name is not null && expected.Contains(name)
                ? $"You probably made a nesting mistake. Jinja is expecting this tag, but currently looking for {lookingFor}."
                : $"Jinja was looking for the following tags: {lookingFor}.");
        }

        if (_tagStack.Count > 0)
        {
            message.Add($"The innermost block that needs to be closed is '{_tagStack[^1]}'.");
        }

        throw Fail(string.Join(" ", message), at);
    }

    private List<Stmt> Subparse(string[]? endTokens)
    {
        var body = new List<Stmt>();
        if (endTokens is not null)
        {
            _endTokenStack.Add(endTokens);
        }

        try
        {
            while (Current.Kind != TokenKind.Eof)
            {
                var token = Current;
                switch (token.Kind)
                {
                    case TokenKind.Data:
                        body.Add(new TextStmt(token.Text, token.Line, token.Column));
                        Next();
                        break;
                    case TokenKind.VariableBegin:
                        Next();
                        body.Add(new OutputStmt(ParseTuple(withCondexpr: true)));
                        ExpectKind(TokenKind.VariableEnd);
                        break;
                    case TokenKind.BlockBegin:
                        Next();
                        if (endTokens is not null && endTokens.Any(e => Test(Current, e)))
                        {
                            return body;
                        }

                        body.Add(ParseStatement());
                        ExpectKind(TokenKind.BlockEnd);
                        break;
                    default:
                        throw Fail($"unexpected '{token.Describe()}'", token);
                }
            }
        }
        finally
        {
            if (endTokens is not null)
            {
                _endTokenStack.RemoveAt(_endTokenStack.Count - 1);
            }
        }

        return body;
    }

    private List<Stmt> ParseStatements(string[] endTokens, bool dropNeedle = false)
    {
        SkipOp(":");
        ExpectKind(TokenKind.BlockEnd);
        List<Stmt> result = Subparse(endTokens);
        if (Current.Kind == TokenKind.Eof)
        {
            var stack = new List<string[]>(_endTokenStack) { endTokens };
            FailUnknownTagOrEof(null, stack, Current);
        }

        if (dropNeedle)
        {
            Next();
        }

        return result;
    }

    private Stmt ParseStatement()
    {
        var token = Current;
        if (token.Kind != TokenKind.Name)
        {
            throw Fail("tag name expected", token);
        }

        Enter();
        _tagStack.Add(token.Text);
        try
        {
            switch (token.Text)
            {
                case "for": return ParseFor();
                case "if": return ParseIf();
                case "set": return ParseSet();
                case "macro": return ParseMacro();
                case "call": return ParseCallBlock();
                case "filter": return ParseFilterBlock();
                case "with": return ParseWith();
                case "print":
                    {
                        Next();
                        var items = new List<Expr>();
                        while (Current.Kind != TokenKind.BlockEnd)
                        {
                            if (items.Count > 0)
                            {
                                Expect(",");
                            }

                            items.Add(ParseExpression());
                        }

                        // outputs assign nothing, so a scope around several of them changes nothing
                        return items.Count == 1
                            ? new OutputStmt(items[0])
                            : new ScopeStmt(items.Select(e => (Stmt)new OutputStmt(e)).ToList(), token.Line, token.Column);
                    }

                case "generation":
                    {
                        Next();
                        var body = WithLoopDepth(0, () => ParseStatements(["name:endgeneration"], dropNeedle: true));
                        return new ScopeStmt(body, token.Line, token.Column);
                    }

                case "break" or "continue":
                    Next();
                    if (_loopDepth == 0)
                    {
                        throw Fail($"'{token.Text}' outside loop", token);
                    }

                    return token.Text == "break" ? new BreakStmt(token.Line, token.Column) : new ContinueStmt(token.Line, token.Column);
                default:
                    if (UnsupportedTags.Contains(token.Text))
                    {
                        throw Fail($"the tag '{token.Text}' is not supported in chat templates (no template loader, no inheritance or autoescape).", token);
                    }

                    _tagStack.RemoveAt(_tagStack.Count - 1);
                    FailUnknownTagOrEof(token.Text, _endTokenStack, token);
                    throw new InvalidOperationException(); // unreachable
            }
        }
        finally
        {
            if (_tagStack.Count > 0 && _tagStack[^1] == token.Text)
            {
                _tagStack.RemoveAt(_tagStack.Count - 1);
            }

            _nesting--;
        }
    }

    private T WithLoopDepth<T>(int depth, Func<T> parse)
    {
        int saved = _loopDepth;
        _loopDepth = depth;
        try
        {
            return parse();
        }
        finally
        {
            _loopDepth = saved;
        }
    }

    private ForStmt ParseFor()
    {
        var start = Expect("name:for");
        Expr target = ParseAssignTarget(extraEndRules: ["name:in"]);
        Expect("name:in");
        Expr iter = ParseTuple(withCondexpr: false, extraEndRules: ["name:recursive"]);
        Expr? filter = null;
        if (SkipName("if"))
        {
            filter = ParseExpression();
        }

        bool recursive = SkipName("recursive");
        List<Stmt> body = WithLoopDepth(_loopDepth + 1, () => ParseStatements(["name:endfor", "name:else"]));
        List<Stmt> elseBody = [];
        if (Next().Text != "endfor")
        {
            elseBody = ParseStatements(["name:endfor"], dropNeedle: true);
        }

        return new ForStmt(target, iter, filter, body, elseBody, recursive, start.Line, start.Column);
    }

    private IfStmt ParseIf()
    {
        var start = Expect("name:if");
        var branches = new List<(Expr, List<Stmt>)>();
        List<Stmt> elseBody = [];
        while (true)
        {
            Expr test = ParseTuple(withCondexpr: false);
            List<Stmt> body = ParseStatements(["name:elif", "name:else", "name:endif"]);
            branches.Add((test, body));
            var token = Next();
            if (token.IsName("elif"))
            {
                continue;
            }

            if (token.IsName("else"))
            {
                elseBody = ParseStatements(["name:endif"], dropNeedle: true);
            }

            break;
        }

        return new IfStmt(branches, elseBody, start.Line, start.Column);
    }

    private Stmt ParseSet()
    {
        var start = Next();
        Expr target = ParseAssignTarget(withNamespace: true);
        if (SkipOp("="))
        {
            Expr value = ParseTuple();
            return new SetStmt(target, value, start.Line, start.Column);
        }

        FilterExpr? filter = ParseFilter(null, startInline: false) as FilterExpr;
        List<Stmt> body = WithLoopDepth(0, () => ParseStatements(["name:endset"], dropNeedle: true));
        return new SetBlockStmt(target, filter, body, start.Line, start.Column);
    }

    private WithStmt ParseWith()
    {
        var start = Next();
        var targets = new List<Expr>();
        var values = new List<Expr>();
        while (Current.Kind != TokenKind.BlockEnd)
        {
            if (targets.Count > 0)
            {
                Expect(",");
            }

            targets.Add(ParseAssignTarget());
            Expect("=");
            values.Add(ParseExpression());
        }

        List<Stmt> body = ParseStatements(["name:endwith"], dropNeedle: true);
        return new WithStmt(targets, values, body, start.Line, start.Column);
    }

    private (List<string> Args, List<Expr> Defaults) ParseSignature()
    {
        var args = new List<string>();
        var defaults = new List<Expr>();
        Expect("(");
        while (!Current.IsOperator(")"))
        {
            if (args.Count > 0)
            {
                Expect(",");
            }

            var name = (NameExpr)ParseAssignTarget(nameOnly: true);
            if (SkipOp("="))
            {
                defaults.Add(ParseExpression());
            }
            else if (defaults.Count > 0)
            {
                throw Fail("non-default argument follows default argument", Current);
            }

            args.Add(name.Name);
        }

        Expect(")");
        return (args, defaults);
    }

    private MacroStmt ParseMacro()
    {
        var start = Next();
        var name = (NameExpr)ParseAssignTarget(nameOnly: true);
        var (args, defaults) = ParseSignature();
        List<Stmt> body = WithLoopDepth(0, () => ParseStatements(["name:endmacro"], dropNeedle: true));
        var def = new MacroDef(name.Name, args, defaults, body, start.Line, start.Column);
        Validator.MarkSpecialNames(def);
        return new MacroStmt(def, start.Line, start.Column);
    }

    private CallBlockStmt ParseCallBlock()
    {
        var start = Next();
        List<string> args = [];
        List<Expr> defaults = [];
        if (Current.IsOperator("("))
        {
            (args, defaults) = ParseSignature();
        }

        Expr call = ParseExpression();
        if (call is not CallExpr callExpr)
        {
            throw Fail("expected call", start);
        }

        List<Stmt> body = WithLoopDepth(0, () => ParseStatements(["name:endcall"], dropNeedle: true));
        var def = new MacroDef("caller", args, defaults, body, start.Line, start.Column);
        Validator.MarkSpecialNames(def);
        return new CallBlockStmt(def, callExpr, start.Line, start.Column);
    }

    private FilterBlockStmt ParseFilterBlock()
    {
        var start = Next();
        var filter = (FilterExpr)ParseFilter(null, startInline: true)!;
        List<Stmt> body = WithLoopDepth(_loopDepth, () => ParseStatements(["name:endfilter"], dropNeedle: true));
        return new FilterBlockStmt(filter, body, start.Line, start.Column);
    }

    private Expr ParseAssignTarget(bool withTuple = true, bool nameOnly = false, string[]? extraEndRules = null, bool withNamespace = false)
    {
        Expr target;
        if (nameOnly)
        {
            var token = ExpectKind(TokenKind.Name);
            target = new NameExpr(token.Text, token.Line, token.Column);
        }
        else if (withTuple)
        {
            target = ParseTuple(simplified: true, extraEndRules: extraEndRules, withNamespace: withNamespace);
        }
        else
        {
            target = ParsePrimary(withNamespace);
        }

        if (!CanAssign(target))
        {
            string kind = target switch
            {
                ConstExpr => "const",
                TupleExpr => "tuple",
                ListExpr => "list",
                DictExpr => "dict",
                _ => target.GetType().Name.Replace("Expr", "", StringComparison.Ordinal).ToLowerInvariant(),
            };
            throw ChatTemplateException.Syntax($"can't assign to '{kind}'", target.Line, target.Column);
        }

        return target;
    }

    private static bool CanAssign(Expr target) => target switch
    {
        NameExpr n => n.Name is not ("true" or "false" or "none" or "True" or "False" or "None"),
        NsRefExpr => true,
        TupleExpr t => t.Items.All(CanAssign),
        _ => false,
    };

    private Expr ParseExpression(bool withCondexpr = true) => withCondexpr ? ParseCondExpr() : ParseOr();

    private Expr ParseCondExpr()
    {
        var start = Current;
        Expr expr1 = ParseOr();
        while (SkipName("if"))
        {
            Expr expr2 = ParseOr();
            Expr? expr3 = SkipName("else") ? ParseCondExpr() : null;
            expr1 = new CondExpr(expr2, expr1, expr3, start.Line, start.Column);
        }

        return expr1;
    }

    private Expr ParseOr()
    {
        var start = Current;
        Expr left = ParseAnd();
        while (SkipName("or"))
        {
            left = new BinaryExpr(BinaryOp.Or, left, ParseAnd(), start.Line, start.Column);
        }

        return left;
    }

    private Expr ParseAnd()
    {
        var start = Current;
        Expr left = ParseNot();
        while (SkipName("and"))
        {
            left = new BinaryExpr(BinaryOp.And, left, ParseNot(), start.Line, start.Column);
        }

        return left;
    }

    private Expr ParseNot()
    {
        if (Current.IsName("not"))
        {
            var token = Next();
            Enter();
            try
            {
                return new UnaryExpr(UnaryOp.Not, ParseNot(), token.Line, token.Column);
            }
            finally
            {
                _nesting--;
            }
        }

        return ParseCompare();
    }

    private Expr ParseCompare()
    {
        var start = Current;
        Expr expr = ParseMath1();
        var ops = new List<(string, Expr)>();
        while (true)
        {
            if (Current.Kind == TokenKind.Operator && CompareOps.Contains(Current.Text))
            {
                string op = Next().Text;
                ops.Add((op, ParseMath1()));
            }
            else if (SkipName("in"))
            {
                ops.Add(("in", ParseMath1()));
            }
            else if (Current.IsName("not") && Look.IsName("in"))
            {
                Next();
                Next();
                ops.Add(("notin", ParseMath1()));
            }
            else
            {
                break;
            }
        }

        return ops.Count == 0 ? expr : new CompareExpr(expr, ops, start.Line, start.Column);
    }

    private Expr ParseMath1()
    {
        var start = Current;
        Expr left = ParseConcat();
        while (Current.IsOperator("+") || Current.IsOperator("-"))
        {
            var op = Next().Text == "+" ? BinaryOp.Add : BinaryOp.Sub;
            left = new BinaryExpr(op, left, ParseConcat(), start.Line, start.Column);
        }

        return left;
    }

    private Expr ParseConcat()
    {
        var start = Current;
        var args = new List<Expr> { ParseMath2() };
        while (SkipOp("~"))
        {
            args.Add(ParseMath2());
        }

        return args.Count == 1 ? args[0] : new ConcatExpr(args, start.Line, start.Column);
    }

    private Expr ParseMath2()
    {
        var start = Current;
        Expr left = ParsePow();
        while (Current.Kind == TokenKind.Operator && Current.Text is "*" or "/" or "//" or "%")
        {
            var op = Next().Text switch
            {
                "*" => BinaryOp.Mul,
                "/" => BinaryOp.Div,
                "//" => BinaryOp.FloorDiv,
                _ => BinaryOp.Mod,
            };
            left = new BinaryExpr(op, left, ParsePow(), start.Line, start.Column);
        }

        return left;
    }

    private Expr ParsePow()
    {
        var start = Current;
        Expr left = ParseUnary();
        while (SkipOp("**"))
        {
            left = new BinaryExpr(BinaryOp.Pow, left, ParseUnary(), start.Line, start.Column);
        }

        return left;
    }

    private Expr ParseUnary(bool withFilter = true)
    {
        var token = Current;
        Enter();
        try
        {
            Expr node;
            if (token.IsOperator("-"))
            {
                Next();
                node = new UnaryExpr(UnaryOp.Neg, ParseUnary(false), token.Line, token.Column);
            }
            else if (token.IsOperator("+"))
            {
                Next();
                node = new UnaryExpr(UnaryOp.Pos, ParseUnary(false), token.Line, token.Column);
            }
            else
            {
                node = ParsePrimary();
            }

            node = ParsePostfix(node);
            if (withFilter)
            {
                node = ParseFilterExpr(node);
            }

            return node;
        }
        finally
        {
            _nesting--;
        }
    }

    private Expr ParsePrimary(bool withNamespace = false)
    {
        var token = Current;
        switch (token.Kind)
        {
            case TokenKind.Name:
                Next();
                if (token.Text is "true" or "false" or "True" or "False")
                {
                    return new ConstExpr(token.Text is "true" or "True", token.Line, token.Column);
                }

                if (token.Text is "none" or "None")
                {
                    return new ConstExpr(null, token.Line, token.Column);
                }

                if (withNamespace && Current.IsOperator("."))
                {
                    Next();
                    var attr = ExpectKind(TokenKind.Name);
                    return new NsRefExpr(token.Text, attr.Text, token.Line, token.Column);
                }

                return new NameExpr(token.Text, token.Line, token.Column);
            case TokenKind.String:
                {
                    Next();
                    string value = (string)token.Value!;
                    while (Current.Kind == TokenKind.String)
                    {
                        value += (string)Next().Value!;
                    }

                    return new ConstExpr(value, token.Line, token.Column);
                }

            case TokenKind.Integer or TokenKind.Float:
                Next();
                return new ConstExpr(token.Value, token.Line, token.Column);
            case TokenKind.Operator when token.Text == "(":
                {
                    Next();
                    Expr node = ParseTuple(explicitParentheses: true);
                    Expect(")");
                    return node;
                }

            case TokenKind.Operator when token.Text == "[":
                return ParseList();
            case TokenKind.Operator when token.Text == "{":
                return ParseDict();
            default:
                if (token.Kind == TokenKind.Eof)
                {
                    throw Fail("unexpected end of template", token);
                }

                throw Fail($"unexpected '{token.Describe()}'", token);
        }
    }

    private bool IsTupleEnd(string[]? extraEndRules) =>
        Current.Kind is TokenKind.VariableEnd or TokenKind.BlockEnd || Current.IsOperator(")")
        || (extraEndRules is not null && extraEndRules.Any(e => Test(Current, e)));

    private Expr ParseTuple(bool simplified = false, bool withCondexpr = true, string[]? extraEndRules = null, bool explicitParentheses = false, bool withNamespace = false)
    {
        var start = Current;
        var args = new List<Expr>();
        bool isTuple = false;
        while (true)
        {
            if (args.Count > 0)
            {
                Expect(",");
            }

            if (IsTupleEnd(extraEndRules))
            {
                break;
            }

            args.Add(simplified ? ParsePrimary(withNamespace) : ParseExpression(withCondexpr));
            if (Current.IsOperator(","))
            {
                isTuple = true;
            }
            else
            {
                break;
            }
        }

        if (!isTuple)
        {
            if (args.Count > 0)
            {
                return args[0];
            }

            if (!explicitParentheses)
            {
                if (Current.Kind == TokenKind.Eof)
                {
                    throw Fail("unexpected end of template, expected an expression.", Current);
                }

                throw Fail($"Expected an expression, got '{Current.Describe()}'", Current);
            }
        }

        return new TupleExpr(args, start.Line, start.Column);
    }

    private ListExpr ParseList()
    {
        var token = Expect("[");
        var items = new List<Expr>();
        while (!Current.IsOperator("]"))
        {
            if (items.Count > 0)
            {
                Expect(",");
            }

            if (Current.IsOperator("]"))
            {
                break;
            }

            items.Add(ParseExpression());
        }

        Expect("]");
        return new ListExpr(items, token.Line, token.Column);
    }

    private DictExpr ParseDict()
    {
        var token = Expect("{");
        var pairs = new List<(Expr, Expr)>();
        while (!Current.IsOperator("}"))
        {
            if (pairs.Count > 0)
            {
                Expect(",");
            }

            if (Current.IsOperator("}"))
            {
                break;
            }

            Expr key = ParseExpression();
            Expect(":");
            pairs.Add((key, ParseExpression()));
        }

        Expect("}");
        return new DictExpr(pairs, token.Line, token.Column);
    }

    private Expr ParsePostfix(Expr node)
    {
        while (true)
        {
            if (Current.IsOperator(".") || Current.IsOperator("["))
            {
                node = ParseSubscript(node);
            }
            else if (Current.IsOperator("("))
            {
                node = ParseCall(node);
            }
            else
            {
                return node;
            }
        }
    }

    private Expr ParseFilterExpr(Expr node)
    {
        while (true)
        {
            if (Current.IsOperator("|"))
            {
                node = ParseFilter(node, startInline: false)!;
            }
            else if (Current.IsName("is"))
            {
                node = ParseTest(node);
            }
            else if (Current.IsOperator("("))
            {
                node = ParseCall(node);
            }
            else
            {
                return node;
            }
        }
    }

    private Expr ParseSubscript(Expr node)
    {
        var token = Next();
        if (token.IsOperator("."))
        {
            var attr = Current;
            Next();
            if (attr.Kind == TokenKind.Name)
            {
                return new GetattrExpr(node, attr.Text, token.Line, token.Column);
            }

            if (attr.Kind != TokenKind.Integer)
            {
                throw Fail("expected name or number", attr);
            }

            return new GetitemExpr(node, new ConstExpr(attr.Value, attr.Line, attr.Column), token.Line, token.Column);
        }

        var args = new List<Expr>();
        while (!Current.IsOperator("]"))
        {
            if (args.Count > 0)
            {
                Expect(",");
            }

            args.Add(ParseSubscribed());
        }

        Expect("]");
        Expr arg = args.Count == 1 ? args[0] : new TupleExpr(args, token.Line, token.Column);
        return new GetitemExpr(node, arg, token.Line, token.Column);
    }

    private Expr ParseSubscribed()
    {
        var start = Current;
        var parts = new List<Expr?>();
        if (Current.IsOperator(":"))
        {
            Next();
            parts.Add(null);
        }
        else
        {
            Expr node = ParseExpression();
            if (!Current.IsOperator(":"))
            {
                return node;
            }

            Next();
            parts.Add(node);
        }

        if (Current.IsOperator(":"))
        {
            parts.Add(null);
        }
        else if (!Current.IsOperator("]") && !Current.IsOperator(","))
        {
            parts.Add(ParseExpression());
        }
        else
        {
            parts.Add(null);
        }

        if (Current.IsOperator(":"))
        {
            Next();
            parts.Add(!Current.IsOperator("]") && !Current.IsOperator(",") ? ParseExpression() : null);
        }
        else
        {
            parts.Add(null);
        }

        return new SliceExpr(parts[0], parts[1], parts[2], start.Line, start.Column);
    }

    private ArgList ParseCallArgs()
    {
        var token = Expect("(");
        var args = new List<Expr>();
        var kwargs = new List<(string, Expr)>();
        Expr? dynArgs = null;
        Expr? dynKwargs = null;
        bool requireComma = false;

        void Ensure(bool ok)
        {
            if (!ok)
            {
                throw Fail("invalid syntax for function call expression", token);
            }
        }

        while (!Current.IsOperator(")"))
        {
            if (requireComma)
            {
                Expect(",");
                if (Current.IsOperator(")"))
                {
                    break;
                }
            }

            if (Current.IsOperator("*"))
            {
                Ensure(dynArgs is null && dynKwargs is null);
                Next();
                dynArgs = ParseExpression();
            }
            else if (Current.IsOperator("**"))
            {
                Ensure(dynKwargs is null);
                Next();
                dynKwargs = ParseExpression();
            }
            else if (Current.Kind == TokenKind.Name && Look.IsOperator("="))
            {
                Ensure(dynKwargs is null);
                string key = Current.Text;
                Next();
                Next();
                kwargs.Add((key, ParseExpression()));
            }
            else
            {
                Ensure(dynArgs is null && dynKwargs is null && kwargs.Count == 0);
                args.Add(ParseExpression());
            }

            requireComma = true;
        }

        Expect(")");
        return new ArgList(args, kwargs, dynArgs, dynKwargs);
    }

    private CallExpr ParseCall(Expr node) => new(node, ParseCallArgs(), node.Line, node.Column); // a call reports its callee's position

    private Expr? ParseFilter(Expr? node, bool startInline)
    {
        while (Current.IsOperator("|") || startInline)
        {
            if (!startInline)
            {
                Next();
            }

            var token = ExpectKind(TokenKind.Name);
            string name = token.Text;
            while (Current.IsOperator("."))
            {
                Next();
                name += "." + ExpectKind(TokenKind.Name).Text;
            }

            ArgList args = Current.IsOperator("(") ? ParseCallArgs() : ArgList.Empty;
            node = new FilterExpr(node, name, args, token.Line, token.Column);
            startInline = false;
        }

        return node;
    }

    private Expr ParseTest(Expr node)
    {
        var token = Next();
        bool negated = SkipName("not");
        string name = ExpectKind(TokenKind.Name).Text;
        while (Current.IsOperator("."))
        {
            Next();
            name += "." + ExpectKind(TokenKind.Name).Text;
        }

        ArgList args;
        if (Current.IsOperator("("))
        {
            args = ParseCallArgs();
        }
        else if ((Current.Kind is TokenKind.Name or TokenKind.String or TokenKind.Integer or TokenKind.Float
                  || Current.IsOperator("(") || Current.IsOperator("[") || Current.IsOperator("{"))
                 && !Current.IsName("else") && !Current.IsName("or") && !Current.IsName("and"))
        {
            if (Current.IsName("is"))
            {
                throw Fail("You cannot chain multiple tests with is", Current);
            }

            Expr arg = ParsePostfix(ParsePrimary());
            args = new ArgList([arg], [], null, null);
        }
        else
        {
            args = ArgList.Empty;
        }

        Expr result = new TestExpr(node, name, args, token.Line, token.Column);
        return negated ? new UnaryExpr(UnaryOp.Not, result, token.Line, token.Column) : result;
    }
}
