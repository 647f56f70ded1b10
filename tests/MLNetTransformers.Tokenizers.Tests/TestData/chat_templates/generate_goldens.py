"""Generates goldens.json: chat templates rendered by Python jinja2 exactly as Hugging Face transformers renders them.

transformers (utils/chat_template_utils.py) compiles chat templates with
    ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[AssistantTracker, loopcontrols])
with its own `tojson` filter (json.dumps, ensure_ascii=False), and the globals `raise_exception` and `strftime_now`, and renders
them with messages=..., tools=None, documents=None, add_generation_prompt=..., plus the special tokens and extra kwargs.
This script builds the same environment (strftime_now is pinned to 2024-07-26 09:05:03 so the goldens are stable).

Run: python3 generate_goldens.py   (needs jinja2). If node and @huggingface/jinja are available (NODE_PATH, default
/tmp/jinja-goldens/node_modules), every case is also rendered by check_hf_jinja.cjs and the cases where @huggingface/jinja
(transformers.js) differs from Python get an "hf_jinja" field with its output or error.
"""
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile

import jinja2
import jinja2.ext
from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.sandbox import ImmutableSandboxedEnvironment

from real_templates import REAL_TEMPLATES

FIXED_NOW = datetime.datetime(2024, 7, 26, 9, 5, 3)


class AssistantTracker(Extension):
    # transformers' {% generation %} tag; outside return_assistant_tokens_mask it just renders its body.
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.CallBlock(self.call_method("_generation_support"), [], [], body).set_lineno(lineno)

    def _generation_support(self, caller):
        return caller()


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def strftime_now(format):
    return FIXED_NOW.strftime(format)


def make_env():
    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[AssistantTracker, jinja2.ext.loopcontrols]
    )
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


ENV = make_env()

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_current_weather",
            "description": "Get the current weather in a given location",
            "parameters": {
                "type": "object",
                "properties": {
                    "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "description": "The temperature unit"},
                    "days": {"type": "integer", "description": "Forecast days"},
                    "tags": {"type": "array", "items": {"type": "string"}, "description": "Optional tags"},
                    "extra": {"type": ["string", "null"], "description": "Anything else"},
                },
                "required": ["location"],
            },
            "return": {"type": "number", "description": "The temperature"},
        },
    },
    {
        "type": "function",
        "function": {
            "name": "search",
            "description": "Search the web ✓ \"quoted\"",
            "parameters": {"type": "object", "properties": {"query": {"type": "string", "description": "The query"}}, "required": ["query"]},
        },
    },
]

# Hermes' json_to_python_type recurses forever on a union with "null" (iterating the string "null"); this variant renders.
TOOLS_HERMES = json.loads(json.dumps(TOOLS).replace('["string", "null"]', '["string", "integer"]'))

TOOL_CALL = {"id": "abc123DEF", "type": "function", "function": {"name": "get_current_weather", "arguments": {"location": "Paris, France", "unit": "celsius"}}}
TOOL_CALL_STR = {"id": "abc123DEF", "type": "function", "function": {"name": "get_current_weather", "arguments": "{\"location\": \"Paris, France\"}"}}

M = {
    "basic": [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "Hello!"},
        {"role": "assistant", "content": "Hi there! How can I help?"},
        {"role": "user", "content": "What is 2 + 2?"},
    ],
    "no_system": [
        {"role": "user", "content": "  Hello with spaces  \n"},
        {"role": "assistant", "content": "Hi."},
        {"role": "user", "content": "Bye"},
    ],
    "single_user": [{"role": "user", "content": "Tell me a joke."}],
    "unicode": [
        {"role": "system", "content": "Réponds en français. 日本語も OK 😀"},
        {"role": "user", "content": "Quotes: 'single' \"double\" \\ backslash\ttab\nnewline </s> {{ not a tag }}"},
        {"role": "assistant", "content": "Émoji 👍🏽 and ZWJ 👩‍💻"},
        {"role": "user", "content": "ok"},
    ],
    "tools": [
        {"role": "system", "content": "You can call tools."},
        {"role": "user", "content": "What's the weather in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": [TOOL_CALL]},
        {"role": "tool", "content": "{\"temperature\": 22, \"unit\": \"celsius\"}", "tool_call_id": "abc123DEF", "name": "get_current_weather"},
        {"role": "assistant", "content": "It is 22 °C in Paris."},
        {"role": "user", "content": "Thanks!"},
    ],
    "tools_multi_response": [
        {"role": "user", "content": "Weather in Paris and Rome?"},
        {"role": "assistant", "content": "Let me check.", "tool_calls": [TOOL_CALL, {"id": "xyz987QRS", "type": "function", "function": {"name": "get_current_weather", "arguments": {"location": "Rome"}}}]},
        {"role": "tool", "content": "22", "tool_call_id": "abc123DEF"},
        {"role": "tool", "content": "25", "tool_call_id": "xyz987QRS"},
    ],
    "tools_string_args": [
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "content": None, "tool_calls": [TOOL_CALL_STR]},
        {"role": "tool", "content": "sunny"},
        {"role": "assistant", "content": "Sunny."},
    ],
    "thinking": [
        {"role": "user", "content": "Solve 1+1"},
        {"role": "assistant", "content": "<think>\nOne plus one.\n</think>\n\n2"},
        {"role": "user", "content": "And 2+2?"},
        {"role": "assistant", "content": "4", "reasoning_content": "Two plus two."},
    ],
    "not_alternating": [
        {"role": "user", "content": "one"},
        {"role": "user", "content": "two"},
    ],
    "empty": [],
    "multimodal": [
        {"role": "system", "content": [{"type": "text", "text": "Be brief. "}]},
        {"role": "user", "content": [{"type": "image", "url": "http://example.com/cat.png"}, {"type": "text", "text": " What is this? "}]},
        {"role": "assistant", "content": "A cat."},
        {"role": "user", "content": "Thanks"},
    ],
    "long": [{"role": "user" if i % 2 == 0 else "assistant", "content": f"message {i} " + "lorem ipsum " * (i % 7)} for i in range(300)],
}

BASE_VARS = {"bos_token": "<s>", "eos_token": "</s>"}


def ctx(messages, add_generation_prompt=False, **variables):
    v = dict(BASE_VARS)
    v.update(variables)
    return {"messages": messages, "add_generation_prompt": add_generation_prompt, "variables": v}


REAL_CASES = [
    ("chatml", "basic", True, {}),
    ("chatml", "unicode", False, {}),
    ("chatml", "tools", False, {}),  # content None: '+' fails
    ("qwen2.5", "basic", True, {}),
    ("qwen2.5", "no_system", False, {}),
    ("qwen2.5", "tools", True, {"tools": TOOLS}),
    ("qwen2.5", "tools_multi_response", True, {"tools": TOOLS}),
    ("qwen2.5", "unicode", True, {}),
    ("qwen3", "basic", True, {}),
    ("qwen3", "thinking", False, {}),
    ("qwen3", "thinking", True, {"enable_thinking": False}),
    ("qwen3", "tools", True, {"tools": TOOLS}),
    ("qwen3", "tools_string_args", False, {}),
    ("qwen3", "tools_multi_response", True, {"tools": TOOLS}),
    ("llama3", "basic", True, {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"}),
    ("llama3", "no_system", False, {"bos_token": "<|begin_of_text|>"}),
    ("llama3.1", "basic", True, {"bos_token": "<|begin_of_text|>"}),
    ("llama3.1", "no_system", True, {"bos_token": "<|begin_of_text|>", "date_string": "01 Jan 2025"}),
    ("llama3.1", "tools", True, {"bos_token": "<|begin_of_text|>", "tools": TOOLS}),
    ("llama3.1", "tools", True, {"bos_token": "<|begin_of_text|>", "tools": TOOLS, "tools_in_user_message": False}),
    ("llama3.1", "tools", True, {"bos_token": "<|begin_of_text|>", "builtin_tools": ["brave_search", "wolfram_alpha", "code_interpreter"]}),
    ("llama3.1", "tools_multi_response", True, {"bos_token": "<|begin_of_text|>"}),  # raise_exception: single tool-calls
    ("llama3.1", "empty", True, {"bos_token": "<|begin_of_text|>", "tools": TOOLS}),  # messages[0] on an empty list
    ("llama3.2-date", "basic", True, {"bos_token": "<|begin_of_text|>"}),
    ("llama2", "basic", False, {}),
    ("llama2", "no_system", False, {}),
    ("llama2", "not_alternating", False, {}),
    ("mistral-v0.1", "no_system", False, {}),
    ("mistral-v0.1", "basic", False, {}),  # system role: raise_exception
    ("mistral-v0.3", "basic", False, {}),
    ("mistral-v0.3", "tools", False, {"tools": TOOLS}),
    ("mistral-v0.3", "not_alternating", False, {}),
    ("mistral-v0.3", "tools_multi_response", False, {}),
    ("zephyr", "basic", True, {}),
    ("zephyr", "unicode", False, {}),
    ("gemma", "no_system", True, {"bos_token": "<bos>"}),
    ("gemma", "basic", True, {"bos_token": "<bos>"}),
    ("gemma", "not_alternating", True, {"bos_token": "<bos>"}),
    ("gemma3", "basic", True, {"bos_token": "<bos>"}),
    ("gemma3", "multimodal", True, {"bos_token": "<bos>"}),
    ("gemma3", "not_alternating", False, {"bos_token": "<bos>"}),
    ("qwen2.5", "long", True, {}),
    ("llama3.1", "long", True, {"bos_token": "<|begin_of_text|>"}),
    ("mistral-v0.3", "long", False, {"tools": TOOLS}),
    ("phi3", "basic", True, {"eos_token": "<|endoftext|>"}),
    ("phi3", "basic", False, {"eos_token": "<|endoftext|>"}),
    ("phi4", "basic", True, {}),
    ("smollm2", "no_system", True, {}),
    ("smollm2", "basic", False, {}),
    ("deepseek-llm", "basic", True, {"bos_token": "<｜begin▁of▁sentence｜>", "eos_token": "<｜end▁of▁sentence｜>"}),
    ("deepseek-r1", "basic", True, {"bos_token": "<｜begin▁of▁sentence｜>"}),
    ("deepseek-r1", "thinking", True, {"bos_token": "<｜begin▁of▁sentence｜>"}),
    ("deepseek-r1", "tools_string_args", True, {"bos_token": "<｜begin▁of▁sentence｜>"}),
    ("deepseek-r1", "tools", True, {"bos_token": "<｜begin▁of▁sentence｜>"}),  # dict arguments: str + dict fails
    ("hermes2-pro-tool-use", "tools", True, {"bos_token": "<|begin_of_text|>", "tools": TOOLS_HERMES}),
    ("hermes2-pro-tool-use", "basic", True, {"bos_token": "<|begin_of_text|>", "tools": TOOLS}),  # RecursionError on "null"

    ("hermes2-pro-tool-use", "tools_multi_response", False, {"bos_token": "<|begin_of_text|>", "tools": TOOLS[1:]}),
]

SAMPLE = M["basic"]

# (name, template, variables, messages) -- small templates aimed at one feature each.
FEATURES = [
    # whitespace control, trim_blocks / lstrip_blocks
    ("ws/trim_lstrip", "a\n  {% if true %}\n  x\n  {% endif %}\nb", {}, None),
    ("ws/inline_block_not_stripped", "a {% if true %}x{% endif %} b", {}, None),
    ("ws/after_expression_no_lstrip", "{{ 'a' }}  {% if true %}x{% endif %}", {}, None),
    ("ws/comments", "  {#- c -#}  x\n  {# c #}\ny\n{# multi\nline #}\nz", {}, None),
    ("ws/raw", "{% raw %}{{ x }}{% if %}{% endraw %}\nz\n  {%- raw -%}  r  {%- endraw %}|", {}, None),
    ("ws/plus_disables", "x  {%+ if true %}y{% endif +%}\nz", {}, None),
    ("ws/minus_expression", "a\n{{- ' b ' -}}\nc", {}, None),
    ("ws/minus_block", "a   \n\n  {%- if true -%}  \n\n  b  \n  {%- endif -%}\n  c", {}, None),
    ("ws/trailing_newline_dropped", "x\n", {}, None),
    ("ws/two_trailing_newlines", "x\n\n", {}, None),
    ("ws/crlf", "a\r\n{% if true %}\r\nb\r\n{% endif %}\r\nc\rd", {}, None),
    ("ws/tabs_lstrip", "x\n\t \t{% if true %}y{% endif %}\n\t{%- if true %}z{% endif %}", {}, None),
    ("ws/variable_not_lstripped", "x\n   {{ 'y' }}\n", {}, None),
    ("ws/set_block_trim", "{% set x %}\n  hello\n{% endset %}[{{ x }}]", {}, None),
    ("ws/lstrip_comment_and_raw", "a\n   {# c #}\nb\n   {% raw %}x{% endraw %}\nc\n  {#- d #}\ne", {}, None),
    ("ws/braces_inside_expressions", "{{ {'a': {'b': '}}'}} }}|{{ '%}' }}|{% set x = {'k': [1, {'z': 2}]} %}{{ x.k[1].z }}|{{ {'a': 1}['a'] }}|{{ '{{' ~ '}}' }}", {}, None),
    ("ws/minus_plus_mix", "{%- if true +%}\n x \n{%+ endif -%}\n y", {}, None),
    ("ws/comment_trim", "{# a #}\nb|x {#- a -#} y|{#+ k +#}\nz", {}, None),
    ("ws/variable_minus_then_block", "{{ 'a' -}}\n\n  {% if true %}b{% endif %}\n{{- 'c' }}", {}, None),
    ("ws/only_whitespace_line_between_tags", "{% for i in [1, 2] %}\n    {{ i }}\n{% endfor %}", {}, None),
    ("ws/nbsp_is_whitespace", "x\n\u00a0 {% if true %}y{% endif %}", {}, None),
    ("ws/block_end_newline_only_one", "{% if true %}\n\nA{% endif %}", {}, None),
    # literals and output of Python values
    ("out/python_values", "{{ none }}|{{ None }}|{{ true }}|{{ False }}|{{ 1 }}|{{ -0 }}|{{ 1.0 }}|{{ 1.50 }}|{{ 'x' }}", {}, None),
    ("out/containers", "{{ [1, 'a', None, True, 1.5, {'k': (1,)}, (), (1, 2), []] }}", {}, None),
    ("out/nested_quotes", "{{ [\"it's\", 'a\"b', 'x\\ny', 'both\\'\"', '\\\\'] }}", {}, None),
    ("out/floats", "{{ 1e16 }} {{ 1e15 }} {{ 0.0001 }} {{ 0.00001 }} {{ 1/3 }} {{ 2**0.5 }} {{ 10/2 }} {{ -0.0 }} {{ 1.5e300 * 1e10 }} {{ 123456789.123 }} {{ 0.1 + 0.2 }}", {}, None),
    ("out/json_numbers", "{{ v }} {{ v|tojson }}", {"v": {"i": 3, "f": 0.7, "e": 1e-07, "big": 1e+20, "neg": -2.5, "whole": 2.0}}, None),
    ("out/messages_repr", "{{ messages }}", {}, SAMPLE[:2]),
    ("out/tuple_string_concat", "{{ 'a' 'b' \"c\" }}", {}, None),
    ("out/print_tag", "{% print 'p' ~ 1 %}", {}, None),
    ("out/integers", "{{ 0x1F }} {{ 0o17 }} {{ 0b101 }} {{ 1_000 }} {{ 1_0.5 }} {{ 2e3 }}", {}, None),
    ("out/string_escapes", "{{ 'a\\tb\\\\c\\x41\\u00e9\\U0001F600\\101\\q' }}|{{ \"line\\\ncontinued\" }}", {}, None),
    ("out/repr_unprintable", "{{ ['\\x00', '\\x7f', '\\u200b', 'é', '\\u2028', '😀'] }}", {}, None),
    ("out/float_repr_edges", "{{ 1e100 }} {{ 1.7976931348623157e308 }} {{ 5e-324 }} {{ 123456789012345678 }} {{ 2**62 }} {{ 0.1 * 3 }} {{ 100.0 }} {{ 1e22 }} {{ 1.5e-7 }} {{ -1e-5 }} {{ 9007199254740993 }} {{ 1e16 + 1 }} {{ 3.0 / 2 }} {{ 2.5e15 }}", {}, None),
    ("out/tojson_of_messages", "{{ messages|tojson }}|{{ tools|tojson }}", {"tools": TOOLS[:1]}, M["tools"][1:4]),
    # expressions
    ("expr/filter_precedence", "{{ ('a' ~ 'b')|upper }} {{ 'a' ~ 'b'|upper }} {{ [1, 2]|length + 1 }} {{ not [1]|length }} {{ 2 * 3|string }} {{ -1|abs }} {{ 10 / 3|round(2) }}", {}, None),
    ("expr/numeric_attributes", "{{ x.0 }} {{ x.1.a }} {{ messages.0.content }} {{ x.5 }}|", {"x": [1, {"a": "A"}]}, SAMPLE),
    ("expr/in_views", "{{ 1 in d.values() }} {{ 'a' in d.keys() }} {{ ('a', 1) in d.items() }} {{ 'z' in d }} {{ d.keys()|length }}", {"d": {"a": 1}}, None),
    ("expr/string_ordering", "{{ ['{', '}']|max }} {{ '}' > '{' }} {{ 'ab' < 'b' }} {{ 'é' > 'z' }} {{ '😀' > '\uffff' }} {{ ['b', 'a', 'c', 'B']|sort }} {{ ('nan'|float) < 1 }} {{ ('nan'|float) == ('nan'|float) }} {{ [2, 1.5, true]|max }} {{ 'Z'|min }}", {}, None),
    ("expr/str_percent_edge_cases", "[{{ '' % undefined_var }}][{{ 'x' % [1, 2] }}][{{ '%s' % undefined_var }}][{{ '%s|%s' % (none, true) }}][{{ '%5s|%-4d|%+.1f' % ('ab', 7, 2.25) }}]", {}, None),
    ("expr/none_comparisons", "{{ none is none }} {{ none == false }} {{ 0 == false }} {{ '' == none }} {{ none != 0 }} {{ [] == [] }} {{ {} == {} }}", {}, None),
    ("expr/arithmetic", "{{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 7.5 // 2 }} {{ -7.5 % 2 }} {{ 2 ** -1 }} {{ 2**10 }} {{ 2 ** 3 ** 2 }} {{ 10 - 2 - 3 }} {{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ -2 ** 2 }}", {}, None),
    ("expr/bool_arithmetic", "{{ true + 1 }} {{ true * 3 }} {{ false - 1 }} {{ true / 2 }} {{ 3 == 3.0 }} {{ true == 1 }}", {}, None),
    ("expr/sequences", "{{ 'a' * 3 }} {{ 3 * 'ab' }} {{ [1] * 2 }} {{ [1, 2] + [3] }} {{ (1,) + (2,) }} {{ 'a' * 0 }}|{{ 'x' * -1 }}|", {}, None),
    ("expr/concat_tilde", "{{ 1 ~ 'a' ~ none ~ true ~ [1] ~ undefined_var ~ 1.5 }}", {}, None),
    ("expr/comparisons", "{{ 1 < 2 < 3 }} {{ 1 < 3 < 2 }} {{ 'a' < 'b' }} {{ 'B' < 'a' }} {{ [1, 2] < [1, 3] }} {{ (1, 'a') == (1, 'a') }} {{ [1] == (1,) }} {{ {'a': 1} == {'a': 1.0} }} {{ none == none }} {{ 1 != 1.0 }}", {}, None),
    ("expr/in_operator", "{{ 'a' in 'cat' }} {{ 'x' not in 'cat' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 1.0 in [1] }} {{ 'role' in messages[0] }} {{ 'tool_calls' in messages[0] }} {{ 3 in range(5) }} {{ 'x' in undefined_var }}", {}, SAMPLE),
    ("expr/logic", "{{ 0 or 'x' }}|{{ '' and 'y' }}|{{ 'a' and 'b' }}|{{ none or [] }}|{{ not 0 }}|{{ not 'a' }}|{{ not not 1 }}|{{ 1 if 0 else 2 }}|{{ 'a' if 1 }}|{{ 'x' if false }}|", {}, None),
    ("expr/precedence_not_in_is", "{{ not 1 in [1] }} {{ not x is none }} {{ 1 + 1 is even }} {{ - 1 is odd }} {{ x is not none and x > 1 }}", {"x": 2}, None),
    ("expr/ternary_chain", "{% for i in range(4) %}{{ 'zero' if i == 0 else 'one' if i == 1 else 'many' }} {% endfor %}", {}, None),
    ("expr/subscripts", "{{ messages[0]['role'] }} {{ messages[0].role }} {{ messages[-1].content }} {{ messages.0.role }} {{ d['a'] }} {{ d.a }} {{ d['b'].c }} {{ t[1] }}", {"d": {"a": 1, "b": {"c": "deep"}}, "t": [10, 20]}, SAMPLE),
    ("expr/slices", "{{ 'abcdef'[::-1] }} {{ [1,2,3][1:] }} {{ [1,2,3][-1] }} {{ [1,2,3][:-1] }} {{ 'abcdef'[1:5:2] }} {{ [1,2,3,4][::2] }} {{ [1,2,3][5:] }} {{ 'abc'[-10:10] }} {{ (1,2,3)[1:] }} {{ range(10)[2:8:3]|list }} {{ [1,2,3][::-2] }}", {}, None),
    ("expr/unicode_indexing", "{{ s|length }} {{ s[1] }} {{ s[::-1] }} {{ s[-1] }} {{ s|list }} {{ s.upper() }}", {"s": "h😀é🇫🇷"}, None),
    ("expr/dict_literal_and_methods", "{% set d = {'b': 1, 'a': 2, 1: 'one'} %}{{ d }} {{ d.get('a') }} {{ d.get('z', 5) }} {{ d.get('z') }} {{ d.keys()|list }} {{ d.values()|list }} {{ d.items()|list }} {{ d[1] }} {{ d[1.0] }} {{ d[true] }} {{ d|length }}", {}, None),
    ("expr/dict_views_render", "{{ d.keys() }} {{ d.values() }} {{ d.items() }} {{ range(3) }} {{ range(1, 9, 2) }}", {"d": {"a": 1}}, None),
    ("expr/dict_method_vs_key", "{{ d.items is defined }} {{ d['items'] }} {{ d.keys is string }} {{ d['keys'] }}", {"d": {"items": "I", "keys": "K"}}, None),
    ("expr/calls_and_kwargs", "{{ '{} {}'.format(1, 'x') }} {{ '{a}-{b}'.format(a=1, b=2) }} {{ dict(a=1, b=2) }} {{ dict({'x': 1}, y=2) }} {{ range(*[1, 4]) | list }} {{ '{0}{1}{0}'.format('a', 'b') }}", {}, None),
    ("expr/percent_format", "{{ '%s-%d' % ('a', 3) }} {{ '%5.2f|%-5s|%05d|%x|%X|%o|%e|%g|%r' % (3.14159, 'ab', 42, 255, 255, 8, 12345.678, 0.00001234, 'q') }} {{ '%(n)s!' % {'n': 'N'} }} {{ '%s' % [1, 2] }} {{ '%.0f %.0f %.2f' % (0.5, 2.5, 0.125) }} {{ '%%' % () }}", {}, None),
    ("expr/format_spec", "{{ '{:>6}|{:<6}|{:^6}|{:*^7}'.format('ab', 'cd', 'ef', 'g') }} {{ '{:.2f} {:,} {:08.3f} {:+d} {:x} {:#x} {:e} {:.1%}'.format(3.14159, 1234567, -3.14159, 5, 255, 255, 1234.5, 0.256) }} {{ '{0!r} {0!s}'.format('x') }}", {}, None),
    # tests
    ("tests/types", "{% for v in [none, true, 1, 1.5, 'a', [1], (1,), {'a': 1}, range(2)] %}{{ v is none }}{{ v is boolean }}{{ v is integer }}{{ v is float }}{{ v is number }}{{ v is string }}{{ v is mapping }}{{ v is iterable }}{{ v is sequence }}{{ v is callable }} {% endfor %}", {}, None),
    ("tests/true_false", "{{ true is true }} {{ 1 is true }} {{ false is false }} {{ 0 is false }} {{ none is none }} {{ 1 is sameas 1 }} {{ none is sameas none }}", {}, None),
    ("tests/defined", "{{ x is defined }} {{ y is defined }} {{ y is undefined }} {{ x is not defined }} {{ d.a is defined }} {{ d.b is defined }} {{ d.n is defined }} {{ d.n is none }}", {"x": 1, "d": {"a": 1, "n": None}}, None),
    ("tests/numbers", "{{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }} {{ 9 is divisibleby(4) }} {{ 3.0 is odd }} {{ -3 is odd }}", {}, None),
    ("tests/comparisons", "{{ 1 is eq 1 }} {{ 1 is equalto 2 }} {{ 'a' is ne 'b' }} {{ 3 is gt 2 }} {{ 3 is greaterthan 3 }} {{ 3 is ge 3 }} {{ 2 is lt 3 }} {{ 2 is lessthan 1 }} {{ 2 is le 2 }} {{ 2 is in [1, 2] }} {{ 'x' is in 'xyz' }} {{ [1, 2]|select('==', 1)|list }} {{ [1, 2]|reject('!=', 1)|list }} {{ [1, 5]|select('>=', 2)|list }}", {}, None),
    ("tests/strings", "{{ 'abc' is lower }} {{ 'ABC' is upper }} {{ 'aB' is lower }} {{ '123' is lower }} {{ 'upper' is filter }} {{ 'nope' is filter }} {{ 'odd' is test }}", {}, None),
    ("tests/undefined_is", "{{ u is none }} {{ u is string }} {{ u is iterable }} {{ u is sequence }} {{ u is mapping }} {{ u is number }} {{ u is true }} {{ u is false }} {{ u is lower }} {{ u is eq u2 }} {{ u is in [1] }}", {}, None),
    ("tests/in_select", "{{ [1, 2, 3, 4]|select('odd')|list }} {{ [1, 2, 3, 4]|reject('odd')|list }} {{ [0, 1, '', 'a', none]|select|list }} {{ [1, 5, 10]|select('gt', 3)|list }} {{ ['a', 'b']|select('in', 'abc')|list }}", {}, None),
    # loops
    ("loop/variables", "{% for i in 'abc' %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}[{{ loop.previtem }}][{{ loop.nextitem }}]{{ loop.depth }}{{ loop.depth0 }}|{% endfor %}", {}, None),
    ("loop/cycle_changed", "{% for i in [1, 1, 2, 3, 3] %}{{ loop.cycle('a', 'b', 'c') }}{{ loop.changed(i) }} {% endfor %}", {}, None),
    ("loop/filter_and_else", "{% for i in range(6) if i is odd %}{{ i }}:{{ loop.index }}/{{ loop.length }} {% else %}none{% endfor %}|{% for i in [] %}x{% else %}empty{% endfor %}|{% for i in [1, 2] if i > 5 %}x{% else %}filtered{% endfor %}", {}, None),
    ("loop/unpacking", "{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}{% for k, v in {'x': 9}|items %}{{ k }}{{ v }}{% endfor %}{% for (a, b), c in [((1, 2), 3)] %}{{ a }}{{ b }}{{ c }}{% endfor %}{% for a, b in [[1, 2], 'xy'] %}{{ a }}{{ b }}{% endfor %}", {}, None),
    ("loop/dict_and_string", "{% for k in {'z': 1, 'a': 2} %}{{ k }}{% endfor %}|{% for c in 'héllo' %}{{ c }}.{% endfor %}|{% for x in none_var %}x{% endfor %}", {}, None),
    ("loop/break_continue", "{% for i in range(10) %}{% if i == 5 %}{% break %}{% endif %}{% if i is odd %}{% continue %}{% endif %}{{ i }}{% endfor %}|{% for i in range(3) %}{% for j in range(3) %}{% if j > i %}{% break %}{% endif %}{{ i }}{{ j }} {% endfor %}{% endfor %}", {}, None),
    ("loop/scoping", "{% set c = 0 %}{% for i in range(3) %}{% set c = c + 1 %}{{ c }}{% endfor %}{{ c }}|{% for i in range(2) %}{% set inner = i %}{% endfor %}{{ inner }}|{% if true %}{% set y = 3 %}{% endif %}{{ y }}|{% set i = 'outer' %}{% for i in [1] %}{% endfor %}{{ i }}", {}, None),
    ("loop/nested_loop_var", "{% for a in [1, 2] %}{% set outer = loop %}{% for b in 'xy' %}{{ outer.index }}{{ loop.index }}{{ a }}{{ b }} {% endfor %}{% endfor %}", {}, None),
    ("loop/recursive", "{% for item in tree recursive %}[{{ item.name }}:{{ loop.depth }}{% if item.children %}{{ loop(item.children) }}{% endif %}]{% endfor %}", {"tree": [{"name": "a", "children": [{"name": "b", "children": []}, {"name": "c", "children": [{"name": "d"}]}]}, {"name": "e"}]}, None),
    ("loop/over_generators", "{% set g = [1, 2, 3]|map('string') %}{% for x in g %}{{ x }}{% endfor %}|{% for x in g %}{{ x }}{% endfor %}|{{ (messages|selectattr('role', 'eq', 'user'))|list|length }}", {}, SAMPLE),
    ("loop/reverse_messages", "{% for m in messages[::-1] %}{{ m.role }}{{ loop.index0 }} {% endfor %}|{% for m in messages|reverse %}{{ m.role[0] }}{% endfor %}", {}, SAMPLE),
    ("loop/loop_in_filter_is_outer", "{% for i in [1, 2] %}{% for j in [3, 4] if loop.index == 1 %}{{ i }}{{ j }} {% endfor %}{% endfor %}", {}, None),
    # set, namespace, with, filter blocks, macros
    ("set/namespace", "{% set ns = namespace(x=0, y='a') %}{% for i in range(3) %}{% set ns.x = ns.x + i %}{% endfor %}{{ ns.x }}{{ ns.y }}{{ ns }}{{ ns.missing }}|{% set ns2 = namespace({'k': 1}, j=2) %}{{ ns2.k }}{{ ns2.j }}{{ ns2['k'] }}", {}, None),
    ("set/tuple_and_block", "{% set a, b = 1, 2 %}{{ a }}{{ b }}|{% set (c, d) = 'xy' %}{{ c }}{{ d }}|{% set t = 1, %}{{ t }}|{% set blk | upper %}hello {{ a }}{% endset %}{{ blk }}", {}, None),
    ("set/shadow_messages", "{% set messages = messages[1:] %}{{ messages|length }}{% set add_generation_prompt = true %}{{ add_generation_prompt }}", {}, SAMPLE),
    ("set/with", "{% with x = 1, y = 2 %}{{ x + y }}{% set z = 3 %}{% endwith %}{{ x }}{{ z }}|{% set a = 5 %}{% with a = a + 1, b = a %}{{ a }}{{ b }}{% endwith %}{{ a }}", {}, None),
    ("set/filter_block", "{% filter upper %}hello {{ 'x' }}{% endfilter %}|{% filter trim|replace('a', 'b') %}  aaa  {% endfilter %}|", {}, None),
    ("macro/basic", "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('A') }} {{ greet('B', '?') }} {{ greet(name='C') }} {{ greet('D', punct='.') }}", {}, None),
    ("macro/defaults_use_args", "{% macro m(a, b=a * 2, c=none) %}{{ a }},{{ b }},{{ c }}{% endmacro %}{{ m(1) }}|{{ m(1, c=3) }}|{{ m(b=0, a=4) }}", {}, None),
    ("macro/varargs_kwargs", "{% macro m(a) %}{{ a }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, 3, x=4) }}|{% macro n() %}{{ varargs|length }}{% endmacro %}{{ n(1, 2) }}", {}, None),
    ("macro/missing_arg", "{% macro m(a, b) %}[{{ a }}][{{ b }}][{{ b is defined }}]{% endmacro %}{{ m(1) }}", {}, None),
    ("macro/recursion", "{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * fact(n - 1)|int }}{% endif %}{% endmacro %}{{ fact(10) }}", {}, None),
    ("macro/closure_sees_later_set", "{% set c = 5 %}{% macro m() %}{{ c }}{% endmacro %}{% set c = 6 %}{{ m() }}", {}, None),
    ("macro/output_is_string", "{% macro m() %}  x  {% endmacro %}[{{ m()|trim }}][{{ m()|length }}][{{ m() ~ 1 }}]", {}, None),
    ("macro/call_block", "{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('b') %}inside {{ 1 + 1 }}{% endcall %}|{% macro each(items) %}{% for i in items %}{{ caller(i) }}{% endfor %}{% endmacro %}{% call(x) each([1, 2]) %}<{{ x }}>{% endcall %}", {}, None),
    ("macro/in_loop_scope", "{% for i in [1, 2] %}{% macro show() %}{{ i }}{% endmacro %}{{ show() }}{% endfor %}", {}, None),
    ("generation/tag", "{% for m in messages %}{% if m.role == 'assistant' %}{% generation %}{{ m.content }}{% set g = 1 %}{% endgeneration %}{% else %}{{ m.content }}{% endif %}|{% endfor %}{{ g is defined }}", {}, SAMPLE),
    ("joiner", "{% set pipe = joiner(' | ') %}{% for x in 'abc' %}{{ pipe() }}{{ x }}{% endfor %}", {}, None),
    # filters
    ("filter/string_filters", "{{ '  x  '|trim }}|{{ 'xxaxx'|trim('x') }}|{{ 'Hello World'|upper }}|{{ 'Hello'|lower }}|{{ 'hello world-foo (bar) [baz] <q>'|title }}|{{ 'hELLO wORLD'|capitalize }}|{{ 'aaa'|replace('a', 'b', 2) }}|{{ 'abc'|replace('', '-') }}|{{ 'a b c'|wordcount }}|{{ 'abc'|center(9) }}|{{ 'abc'|center(8) }}|", {}, None),
    ("filter/length_count", "{{ [1, 2]|length }} {{ 'héllo'|count }} {{ {'a': 1}|length }} {{ undefined_var|length }} {{ range(7)|length }} {{ messages|length }}", {}, SAMPLE),
    ("filter/first_last", "{{ [1, 2]|first }} {{ []|first }}|{{ 'abc'|last }} {{ {'q': 1, 'r': 2}|first }} {{ {'q': 1, 'r': 2}|last }} {{ range(3)|last }} {{ messages|last|attr('role') }}", {}, SAMPLE),
    ("filter/default", "{{ u|default('d') }} {{ u|d('short') }} {{ none|default('x') }} {{ ''|default('e', true) }} {{ 0|default(5, boolean=true) }} {{ 'v'|default('w') }} {{ u|default }}|", {}, None),
    ("filter/join", "{{ [1, 2, 3]|join(', ') }} {{ [1, 2]|join }} {{ [{'a': 'x'}, {'a': 'y'}]|join('-', attribute='a') }} {{ 'abc'|join('.') }} {{ [none, true]|join('/') }}", {}, None),
    ("filter/list_string", "{{ 'ab'|list }} {{ {'a': 1}|list }} {{ (1, 2)|list }} {{ 5|string }} {{ [1, 'a']|string }} {{ none|string }} {{ 1.0|string }}", {}, None),
    ("filter/int_float", "{{ 'x'|int }} {{ '3.7'|int }} {{ '0x1A'|int(base=16) }} {{ '0x1A'|int(0, 0) }} {{ 3.9|int }} {{ -3.9|int }} {{ none|int }} {{ '  12 '|int }} {{ '1_000'|int }} {{ 'x'|int(7) }} {{ true|int }} | {{ '1.5'|float }} {{ 'x'|float }} {{ 3|float }} {{ 'nan'|float }} {{ '1e3'|float }} {{ ' -2.5 '|float }} {{ none|float(1.5) }}", {}, None),
    ("filter/abs_round", "{{ -3|abs }} {{ -2.5|abs }} {{ 2.5|round }} {{ 3.5|round }} {{ 3|round }} {{ 3.14159|round(2) }} {{ 2.675|round(2) }} {{ 2.5|round(0, 'floor') }} {{ -2.5|round }} {{ 3|round(0, 'ceil') }} {{ 1234.5678|round(-2) }} {{ 1250|round(-2) }} {{ 1350|round(-2) }} {{ 0.5|round }} {{ 1.5|round(0, 'ceil') }}", {}, None),
    ("filter/items_dictsort", "{{ {'b': 1, 'a': 2}|dictsort }} {{ {'b': 1, 'A': 2, 'a': 0}|dictsort }} {{ {'b': 1, 'A': 2}|dictsort(true) }} {{ {'x': 3, 'y': 1}|dictsort(by='value') }} {{ {'x': 3, 'y': 1}|dictsort(reverse=true) }} {{ {'b': 1, 'a': 2}|items|list }} {{ u|items|list }}", {}, None),
    ("filter/map", "{{ messages|map(attribute='role')|list }} {{ [1, 2]|map('string')|list }} {{ ['a', 'b']|map('upper')|join }} {{ [{'a': {'b': 1}}, {'a': {'b': 2}}]|map(attribute='a.b')|list }} {{ [[1, 2], [3, 4]]|map(attribute='1')|list }} {{ [{'a': 1}, {}]|map(attribute='a', default='D')|list }} {{ ['x', 'yy']|map('length')|list }} {{ [' a ']|map('trim')|list }} {{ ['a']|map('replace', 'a', 'b')|list }}", {}, SAMPLE),
    ("filter/selectattr", "{{ messages|selectattr('role', 'equalto', 'user')|map(attribute='content')|list }} {{ messages|rejectattr('role', 'eq', 'user')|map(attribute='role')|list }} {{ [{'a': 1}, {'a': 0}, {}]|selectattr('a')|list }} {{ [{'a': 1}, {'a': 0}]|rejectattr('a')|list }} {{ [{'t': 'x'}, {'t': 'y'}]|selectattr('t', 'in', ['y', 'z'])|list }} {{ messages|selectattr('tool_calls', 'defined')|list }}", {}, SAMPLE),
    ("filter/unique_sort", "{{ [1, 1, 2, 'A', 'a', 2.0]|unique|list }} {{ ['A', 'a']|unique(true)|list }} {{ [3, 1, 2]|sort }} {{ ['b', 'A', 'a', 'B']|sort }} {{ ['b', 'A', 'a']|sort(case_sensitive=true) }} {{ [3, 1]|sort(reverse=true) }} {{ [{'n': 2, 'm': 'b'}, {'n': 1, 'm': 'a'}, {'n': 2, 'm': 'a'}]|sort(attribute='n,m')|map(attribute='m')|list }} {{ [{'n': 'B'}, {'n': 'a'}]|sort(attribute='n')|map(attribute='n')|join }} {{ [1, 2.5, true, 0]|sort }}", {}, None),
    ("filter/reverse", "{{ [1, 2, 3]|reverse|list }} {{ 'abc'|reverse }} {{ (1, 2)|reverse|list }} {{ range(3)|reverse|list }} {{ {'a': 1, 'b': 2}|reverse|list }} {{ [1, 2]|map('string')|reverse }}", {}, None),
    ("filter/tojson", "{{ v|tojson }}|{{ v|tojson(indent=2) }}|{{ v|tojson(sort_keys=true) }}|{{ 'é\"\\\\\\n\\t\\x01'|tojson }}|{{ 'é'|tojson(ensure_ascii=true) }}|{{ [1, (2, 3), none, true, 1.0]|tojson }}|{{ {}|tojson(indent=2) }}|{{ []|tojson }}|{{ {'a': []}|tojson(indent=4) }}|{{ 'x'|tojson(2) }}|{{ {'a': 1}|tojson(separators=(',', ':')) }}|{{ {1: 'i', 1.5: 'f', true: 'b', none: 'n'}|tojson }}|{{ v|tojson(indent='\\t') }}", {"v": {"b": [1, 2.5, {"c": None}], "a": "😀 ünï", "z": True}}, None),
    ("filter/indent", "{{ 'a\\nb'|indent(2) }}|{{ 'a\\n\\nb\\n'|indent(2, true) }}|{{ 'a\\n\\nb'|indent(2, blank=true) }}|{{ 'x\\ny'|indent('> ') }}|{{ 'one'|indent }}|{{ 'a\\r\\nb'|indent(1) }}", {}, None),
    ("filter/sum_min_max", "{{ [1, 2, 3]|sum }} {{ [1.5, 2]|sum }} {{ [{'a': 1}, {'a': 2}]|sum(attribute='a') }} {{ [[1], [2]]|sum(start=[]) }} {{ [3, 1, 2]|max }} {{ ['b', 'A']|min }} {{ ['b', 'A']|max }} {{ ['b', 'A']|max(case_sensitive=true) }} {{ []|max }}| {{ [{'n': 3}, {'n': 5}]|max(attribute='n') }}", {}, None),
    ("filter/batch_slice_groupby", "{{ [1, 2, 3, 4, 5]|batch(2)|list }} {{ [1, 2, 3]|batch(2, 'x')|list }} {{ [1, 2, 3, 4, 5]|slice(2)|list }} {{ [1, 2, 3, 4]|slice(3, 0)|list }} {% for g, items in [{'n': 'b', 'g': 1}, {'n': 'a', 'g': 2}, {'n': 'c', 'g': 1}]|groupby('g') %}{{ g }}:{{ items|map(attribute='n')|join(',') }};{% endfor %} {{ ([{'k': 'A'}, {'k': 'a'}]|groupby('k'))[0].grouper }} {{ [{'k': 1}]|groupby('k') }}", {}, None),
    ("filter/truncate_escape_misc", "{{ 'hello world foo bar'|truncate(9) }}|{{ 'hello world foo bar'|truncate(9, true) }}|{{ 'hello world foo bar baz'|truncate(11, false, '..', 0) }}|{{ 'short'|truncate(10) }}|{{ '<a href=\"x\">&\\'</a>'|e }}|{{ '<b>'|escape }}|{{ '<b>'|safe }}|{{ 5|safe }}|{{ '<p>Hi <b>there</b></p> &amp; x'|striptags }}|{{ messages[0]|attr('role') }}|{{ '%s=%d'|format('a', 1) }}|{{ '%(k)s'|format(k='v') }}", {}, SAMPLE),
    ("filter/chained_and_args", "{{ messages|map(attribute='content')|map('length')|sum }} {{ ('x' ~ 'y')|upper }} {{ -3|abs + 1 }} {{ 'a,b'|replace(',', ' ')|upper|list|length }}", {}, SAMPLE),
    # string methods
    ("methods/strings", "{{ '  x '.strip() }}|{{ '--a--'.strip('-') }}|{{ '  x '.lstrip() }}|{{ '  x '.rstrip() }}|{{ 'xyx'.lstrip('x') }}|{{ 'a b  c'.split() }}|{{ 'a,b,,c'.split(',') }}|{{ 'a,b,c'.split(',', 1) }}|{{ 'a,b,c'.rsplit(',', 1) }}|{{ '  lead and trail  '.split() }}|{{ 'l1\\nl2\\r\\nl3'.splitlines() }}|{{ 'abc'.startswith('ab') }}|{{ 'abc'.endswith(('x', 'c')) }}|{{ 'abc'.startswith('b', 1) }}", {}, None),
    ("methods/strings2", "{{ 'hello world'.title() }}|{{ \"they're bill's\".title() }}|{{ 'hELLO'.capitalize() }}|{{ 'Hi'.upper() }}{{ 'Hi'.lower() }}|{{ 'aXa'.replace('a', 'b') }}|{{ 'aaa'.replace('a', 'b', 1) }}|{{ 'abcb'.find('b') }}{{ 'abcb'.rfind('b') }}{{ 'abc'.find('z') }}|{{ 'abab'.count('ab') }}|{{ '-'.join(['a', 'b']) }}|{{ '12'.isdigit() }}{{ 'ab'.isalpha() }}{{ ' '.isspace() }}{{ 'a1'.isalnum() }}|{{ '5'.zfill(3) }}{{ '-5'.zfill(3) }}|{{ 'ab'.center(6, '*') }}{{ 'ab'.ljust(4, '.') }}{{ 'ab'.rjust(4) }}|{{ 'prefix_x'.removeprefix('prefix_') }}{{ 'x.py'.removesuffix('.py') }}|{{ 'a=b=c'.partition('=') }}{{ 'a=b=c'.rpartition('=') }}|{{ 'ß'.upper() }}|{{ 'ǅ'.lower() }}", {}, None),
    ("methods/list_tuple", "{{ [1, 2, 1].count(1) }} {{ [1, 2, 3].index(2) }} {{ (5, 6).index(6) }} {{ [1, 2].copy() }} {{ x.copy() }}", {"x": [3]}, None),
    ("methods/unsafe_attribute_is_undefined", "{{ x.append }}|{{ x.append is defined }}|{{ d.update is defined }}|{{ x.pop }}|", {"x": [1], "d": {}}, None),
    # undefined behaviour
    ("undefined/renders_empty", "[{{ u }}][{{ d.nope }}][{{ messages[0].nope }}][{{ messages[10] }}][{{ none.x }}][{{ 'abc'.nope }}][{{ [1][5] }}][{{ u|string }}][{{ u|upper }}][{{ u|trim }}][{{ u|join }}][{{ u|list }}][{{ u|first }}][{{ u|last }}]", {"d": {}}, SAMPLE),
    ("undefined/falsy_iterable", "{% if u %}yes{% else %}no{% endif %}{% for x in u %}x{% endfor %}{{ u == u2 }}{{ u != 1 }}{{ u == none }}{{ not u }}{{ u ~ 'x' }}{{ u is defined }}", {}, None),
    ("undefined/ternary_without_else", "[{{ 'x' if false }}][{{ ('x' if false) is defined }}]", {}, None),
    ("undefined/loop_prev_next", "{% for i in [1] %}[{{ loop.previtem }}][{{ loop.nextitem }}][{{ loop.previtem is defined }}]{% endfor %}", {}, None),
    ("strftime_now", "{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%Y-%m-%d %H:%M:%S') }}|{{ strftime_now('%A %B %-d %I%p %j %y %e|%%|%a') }}", {}, None),
    ("range_forms", "{{ range(3)|list }} {{ range(1, 4)|list }} {{ range(10, 0, -3)|list }} {{ range(0)|list }} {{ range(5)[1] }} {{ range(-2)|list }}", {}, None),
    ("globals_available", "{{ raise_exception is defined }} {{ strftime_now is defined }} {{ namespace is defined }} {{ range is defined }} {{ tools is none }} {{ documents is none }} {{ tools is defined }} {{ add_generation_prompt }}", {}, None),
    # errors (the expected error is recorded)
    ("error/undefined_attribute_of_undefined", "{{ u.x }}", {}, None),
    ("error/undefined_chain", "{{ d.nope.x }}", {"d": {}}, None),
    ("error/undefined_arithmetic", "{{ u + 1 }}", {}, None),
    ("error/undefined_call", "{{ u() }}", {}, None),
    ("error/none_attribute_chain", "{{ none.x.y }}", {}, None),
    ("error/string_plus_int", "{{ 'a' + 1 }}", {}, None),
    ("error/string_plus_none", "{{ 'a' + none }}", {}, None),
    ("error/compare_mismatch", "{{ 1 < 'a' }}", {}, None),
    ("error/len_of_none", "{{ none|length }}", {}, None),
    ("error/len_of_generator", "{{ messages|selectattr('role', 'eq', 'user')|length }}", {}, SAMPLE),
    ("error/last_of_generator", "{{ messages|selectattr('role', 'eq', 'user')|last }}", {}, SAMPLE),
    ("error/division_by_zero", "{{ 1 / 0 }}", {}, None),
    ("error/floor_division_by_zero", "{{ 1 // 0 }}", {}, None),
    ("error/unsafe_append", "{{ x.append(1) }}", {"x": [1]}, None),
    ("error/unsafe_dict_update", "{% set _ = d.update({'a': 1}) %}", {"d": {}}, None),
    ("error/range_too_big", "{{ range(100001)|length }}", {}, None),
    ("error/unpack_count", "{% for a, b in [[1, 2], [3]] %}{{ a }}{% endfor %}", {}, None),
    ("error/unpack_too_many", "{% set a, b = [1, 2, 3] %}", {}, None),
    ("error/macro_too_many_args", "{% macro m(a) %}{{ a }}{% endmacro %}{{ m(1, 2) }}", {}, None),
    ("error/macro_unknown_kwarg", "{% macro m(a) %}{{ a }}{% endmacro %}{{ m(b=2) }}", {}, None),
    ("error/macro_default_uses_missing", "{% macro m(a, b=a+1) %}{{ b }}{% endmacro %}{{ m() }}", {}, None),
    ("error/namespace_assign_non_namespace", "{% set x = 1 %}{% set x.y = 2 %}", {}, None),
    ("error/raise_exception", "{{ raise_exception('Custom failure: ' ~ 42) }}", {}, None),
    ("error/raise_exception_in_macro", "{% macro check(r) %}{% if r != 'user' %}{{ raise_exception('bad role ' + r) }}{% endif %}{% endmacro %}{% for m in messages %}{{ check(m.role) }}{% endfor %}", {}, SAMPLE),
    ("error/unknown_filter", "{{ x|nosuchfilter }}", {}, None),
    ("error/unknown_filter_in_if_runs", "{% if true %}{{ x|nosuchfilter }}{% endif %}", {}, None),
    ("ok/unknown_filter_in_untaken_if", "{% if false %}{{ x|nosuchfilter }}{% endif %}ok", {}, None),
    ("error/unknown_test", "{{ x is nosuchtest }}", {}, None),
    ("error/not_iterable", "{% for x in 5 %}{% endfor %}", {}, None),
    ("error/not_callable", "{{ 'a'() }}", {}, None),
    ("error/in_string_non_string", "{{ 1 in 'abc' }}", {}, None),
    ("error/tojson_undefined", "{{ u|tojson }}", {}, None),
    ("error/unhashable_key", "{{ {[1]: 2} }}", {}, None),
    ("error/join_method_non_str", "{{ ', '.join([1, 2]) }}", {}, None),
    ("error/int_of_undefined", "{{ u|int }}", {}, None),
    ("error/slice_step_zero", "{{ [1, 2][::0] }}", {}, None),
    ("error/loop_not_recursive", "{% for i in [1] %}{{ loop([2]) }}{% endfor %}", {}, None),
    # syntax errors (line of the error is recorded)
    ("syntax/unclosed_if", "{% if true %}\nabc\n", {}, None),
    ("syntax/unclosed_for_nested", "{% for x in y %}\n{% if x %}\n{% endfor %}", {}, None),
    ("syntax/unknown_tag", "a\n{% frobnicate %}", {}, None),
    ("syntax/missing_variable_end", "{{ x ", {}, None),
    ("syntax/bad_expression", "line1\nline2 {{ 1 + }}", {}, None),
    ("syntax/unbalanced_brackets", "{{ [1, 2 }}", {}, None),
    ("syntax/endfor_without_for", "{% endfor %}", {}, None),
    ("syntax/missing_comment_end", "x {# never closed", {}, None),
    ("syntax/bad_assign_target", "{% set 1 = 2 %}", {}, None),
    ("syntax/else_twice", "{% if a %}{% else %}{% else %}{% endif %}", {}, None),
    ("syntax/break_outside_loop", "{% break %}", {}, None),
    ("syntax/chained_is", "{{ a is defined is defined }}", {}, None),
    ("syntax/unexpected_char", "{{ a $ b }}", {}, None),
    ("syntax/unterminated_string", "{{ 'abc }}", {}, None),
    ("syntax/non_default_after_default", "{% macro m(a=1, b) %}{% endmacro %}", {}, None),
]


def render(template, c):
    kwargs = {"tools": None, "documents": None}
    kwargs.update(c["variables"])
    return ENV.from_string(template).render(messages=c["messages"], add_generation_prompt=c["add_generation_prompt"], **kwargs)


def normalize_messages(messages):
    # ChatMessage always has role then content (None when absent), then the additional properties in order.
    out = []
    for m in messages:
        n = {"role": m["role"], "content": m.get("content")}
        for k, v in m.items():
            if k not in ("role", "content"):
                n[k] = v
        out.append(n)
    return out


def run_case(case, template):
    c = {"messages": case["messages"], "add_generation_prompt": case["add_generation_prompt"], "variables": case["variables"]}
    try:
        case["expected"] = render(template, json.loads(json.dumps(c)))
        case["error"] = None
    except jinja2.exceptions.TemplateSyntaxError as e:
        case["expected"] = None
        case["error"] = {"type": type(e).__name__, "message": e.message, "line": e.lineno}
    except Exception as e:  # noqa: BLE001 - record every failure
        case["expected"] = None
        case["error"] = {"type": type(e).__name__, "message": str(e)}


def hf_jinja(templates, cases):
    """Renders the cases with @huggingface/jinja; marks the cases where it differs from Python."""
    env = dict(os.environ)
    env.setdefault("NODE_PATH", "/tmp/jinja-goldens/node_modules")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as f:
        json.dump({"strftime_now": FIXED_NOW.isoformat(), "templates": templates, "cases": cases}, f, ensure_ascii=False)
        path = f.name
    try:
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "check_hf_jinja.cjs")
        out = subprocess.run(["node", script, path], env=env, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"@huggingface/jinja check skipped: {e}", file=sys.stderr)
        return None
    finally:
        os.unlink(path)
    data = json.loads(out)
    differing = []
    for case in cases:
        result = data["results"][case["name"]]
        agrees = ("error" in result) if case["error"] else result.get("output") == case["expected"]
        if not agrees:
            case["hf_jinja"] = result
            differing.append(case["name"])
    print(f"@huggingface/jinja {data['version']}: {len(cases) - len(differing)} cases agree, {len(differing)} differ", file=sys.stderr)
    return {"version": data["version"], "agreeing_cases": len(cases) - len(differing), "differing_cases": differing}


def main():
    templates = {}
    cases = []
    for name, (model, source) in REAL_TEMPLATES.items():
        templates[name] = {"model": model, "source": source}
    for name, msgs, agp, extra in REAL_CASES:
        variables = dict(BASE_VARS)
        variables.update(extra)
        label = f"{name}/{msgs}" + ("/gen" if agp else "") + ("/" + "+".join(sorted(extra)) if extra else "")
        cases.append({"name": label, "template": name, "messages": normalize_messages(M[msgs]), "add_generation_prompt": agp, "variables": variables})
    for name, source, variables, msgs in FEATURES:
        templates["feature:" + name] = {"model": None, "source": source}
        cases.append({"name": "feature:" + name, "template": "feature:" + name, "messages": normalize_messages(msgs or []), "add_generation_prompt": False, "variables": dict(variables)})
    seen = set()
    for case in cases:
        if case["name"] in seen:
            raise SystemExit(f"duplicate case name {case['name']}")
        seen.add(case["name"])
        run_case(case, templates[case["template"]]["source"])
    hf = hf_jinja(templates, cases)
    doc = {
        "generator": (
            f"Python {platform.python_version()} jinja2 {jinja2.__version__}: ImmutableSandboxedEnvironment(trim_blocks=True, "
            "lstrip_blocks=True, extensions=[AssistantTracker, loopcontrols]) with transformers' tojson, raise_exception and "
            "strftime_now, rendered with messages, tools=None, documents=None, add_generation_prompt and the variables "
            "(generate_goldens.py); the hf_jinja field is @huggingface/jinja's output where it differs (check_hf_jinja.cjs)"
        ),
        "strftime_now": FIXED_NOW.isoformat(),
        "hf_jinja": hf,
        "templates": templates,
        "cases": cases,
    }
    with open("goldens.json", "w", encoding="utf-8", newline="\n") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.write("\n")
    errors = sum(1 for c in cases if c["error"])
    print(f"{len(cases)} cases ({errors} expected errors), {len(templates)} templates", file=sys.stderr)


if __name__ == "__main__":
    main()
