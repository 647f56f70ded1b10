#!/usr/bin/env node
// Generates golden tokenizer test data with transformers.js (npm @huggingface/transformers).
//
// NOT needed at test time: the JSON files it writes are checked in next to it.
//
// Usage (run from a scratch folder OUTSIDE the repo):
//   mkdir -p /tmp/tok-goldens && cd /tmp/tok-goldens
//   npm init -y && npm install --ignore-scripts @huggingface/transformers@4.3.1
//   node /path/to/make-goldens.mjs \
//     [--node-modules /tmp/tok-goldens/node_modules]        (default: ./node_modules of the cwd)
//     [--model distilgpt2=/work/shared/models/tokenizer-only/distilgpt2] ... (repeatable; default: the 4 below)
//     [--out /path/to/goldens]                               (default: the folder holding this script)
//
// Each --model NAME=DIR names a local folder holding tokenizer.json + tokenizer_config.json.
// It is loaded fully offline (env.allowRemoteModels = false, env.localModelPath = parent of DIR,
// model id = basename of DIR). Nothing is written into DIR (file-system cache disabled).
// Output: <out>/<NAME>.transformersjs-<version>.json

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// ---------------------------------------------------------------- arguments
const args = process.argv.slice(2);
let nodeModules = path.resolve(process.cwd(), 'node_modules');
let outDir = path.dirname(fileURLToPath(import.meta.url));
const models = [];
for (let i = 0; i < args.length; ++i) {
    const a = args[i];
    const next = () => {
        if (i + 1 >= args.length) throw new Error(`missing value after ${a}`);
        return args[++i];
    };
    if (a === '--node-modules') nodeModules = path.resolve(next());
    else if (a === '--out') outDir = path.resolve(next());
    else if (a === '--model') {
        const v = next();
        const eq = v.indexOf('=');
        if (eq <= 0) throw new Error(`--model expects NAME=DIR, got ${v}`);
        models.push({ name: v.slice(0, eq), dir: path.resolve(v.slice(eq + 1)) });
    } else if (a === '--help' || a === '-h') {
        console.log(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1, 18).join('\n'));
        process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
}
if (models.length === 0) {
    models.push(
        { name: 'distilgpt2', dir: '/work/shared/models/tokenizer-only/distilgpt2' },
        { name: 'all-MiniLM-L6-v2', dir: '/work/shared/models/tokenizer-only/all-MiniLM-L6-v2' },
        { name: 'flan-t5-small', dir: '/work/shared/models/tokenizer-only/flan-t5-small' },
        { name: 'tiny-llama', dir: '/work/shared/models/tiny-llama' },
    );
}

const pkgDir = path.join(nodeModules, '@huggingface', 'transformers');
const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
const tokPkgDir = path.join(nodeModules, '@huggingface', 'tokenizers');
const tokPkg = fs.existsSync(path.join(tokPkgDir, 'package.json'))
    ? JSON.parse(fs.readFileSync(path.join(tokPkgDir, 'package.json'), 'utf8'))
    : null;
const { AutoTokenizer, env } = await import(pathToFileURL(path.join(pkgDir, 'dist', 'transformers.node.mjs')).href);

env.allowRemoteModels = false;
env.allowLocalModels = true;
env.useFSCache = false;
env.useBrowserCache = false;

// ---------------------------------------------------------------- test data
const PARAGRAPH =
    'The history of writing systems is, in many ways, the history of compromise. Early scribes ' +
    'carved marks into clay and stone, trading precision for speed; later, merchants adopted ' +
    "alphabets that could be learned in weeks rather than years. Today's computers inherit those " +
    'choices: every character we type must be mapped to numbers, and every number must be mapped ' +
    'back again. Tokenizers sit at the center of that exchange. They decide whether "unbelievable" ' +
    'is one unit or three, whether a space belongs to the word before it or after it, and what ' +
    "happens when a user pastes an emoji, a mathematical symbol, or a line of code that nobody " +
    'anticipated. Good tokenizers are boring: they round-trip text faithfully, they treat rare ' +
    'inputs gracefully, and they behave identically on every platform. Bad tokenizers are ' +
    'surprising, and surprises in production are expensive. That is why careful engineers keep ' +
    'golden files, compare implementations byte for byte, and write tests for the strange corners ' +
    '(tabs, non-breaking spaces, combining accents, and the empty string) long before any user finds them.';

/** @type {{id: string, text: string}[]} */
const SINGLE = [
    // the six strings of the pre-existing tokenizer_goldens.transformersjs-4.3.1.json (kept first, same order)
    ['legacy_hello_world', 'Hello world!'],
    ['legacy_love_transformers', 'I love transformers!'],
    ['legacy_once_upon', 'Once upon a time, there was a little girl named Lily.'],
    ['legacy_leading_spaces_newlines_tabs', '  leading spaces and\nnewlines\ttabs'],
    ['legacy_unicode_mix', 'Héllo wörld — naïve café 日本語 🤗'],
    ['legacy_translate_prompt', 'translate English to German: How old are you?'],
    // plain English
    ['english_pangram', 'The quick brown fox jumps over the lazy dog.'],
    ['english_sentence', 'Machine learning models process text as sequences of tokens.'],
    ['english_mixed_case', "HeLLo WoRLD, iPhone McDonald's NASA's GPU-Accelerated ÉCOLE Ünïcödé"],
    ['english_all_caps', 'THIS IS ALL CAPS AND SHOUTING'],
    ['single_char_a', 'a'],
    ['single_char_period', '.'],
    // punctuation
    ['punct_heavy', 'Wait... what?! No way!!! (Really?) [Yes.] {Maybe;} "quoted" \'single\' — em – en … ellipsis'],
    ['punct_ascii_all', '@#$%^&*()_+-=[]{}|;\':",./<>?`~\\'],
    ['punct_repeated', '!!!!!!!!!!?????......,,,,,;;;;----____'],
    ['curly_quotes', 'It’s don’t ‘single’ “double” «guillemets» „low“'],
    ['decode_cleanup_patterns', "do n't , is n't . really ? yes ! I 'm he 's we 've they 're ' quoted '"],
    // contractions
    ['contractions', "I don't think I'll go; it's late and we've been out. They're sure he'd've known. Y'all can't, won't, shouldn't."],
    ['contractions_upper', "DON'T I'LL IT'S WE'VE O'Neill's rock 'n' roll"],
    // numbers
    ['numbers_basic', 'Pi is 3.14159, a million is 1,000,000 and the date is 2026-11-21.'],
    ['numbers_phone_money', 'Call +1 (555) 123-4567 or 555.987.6543 ext. 42; order #00123 costs $1,299.99 (15% off).'],
    ['numbers_digits', '0123456789 12345678901234567890 3e-5 -42 +7 1/2 ½ ²³ ٣٤٥ १२३'],
    // code
    ['code_csharp', 'public static int Add(int a, int b)\n{\n    return a + b; // sum\n}\n'],
    ['code_python', 'def greet(name):\n    if name:\n        print(f"Hello, {name}!")\n    else:\n\treturn None\n'],
    ['code_json', '{"name": "Ada", "age": 36, "tags": ["math", "code"], "active": true, "ratio": 0.5, "nil": null}'],
    // whitespace
    ['ws_space_runs', 'a  b   c    d     e'],
    ['ws_tabs', 'tab\tseparated\t\tvalues\t'],
    ['ws_newlines', 'line1\nline2\n\nline4\n'],
    ['ws_crlf', 'windows\r\nline\r\nendings\r\n'],
    ['ws_leading_trailing', '   leading and trailing whitespace   '],
    ['ws_single_space', ' '],
    ['ws_only_mixed', '   \t\n  \r\n '],
    ['ws_single_newline', '\n'],
    ['empty', ''],
    // Latin with diacritics / special letters
    ['latin_accents', 'café naïve résumé Ærøskøbing Zoë façade coöperate Łódź Dvořák'],
    ['german_eszett', 'Straße, Fußball, Größe, ẞ — STRASSE'],
    ['turkish_dotted_i', 'İstanbul ılık IĞDIR ıi İI'],
    // other scripts
    ['cyrillic', 'Привет, мир! Съешь же ещё этих мягких французских булок.'],
    ['greek', 'Γειά σου Κόσμε! Ξεσκεπάζω την ψυχοφθόρα βδελυγμία. ΣΊΣΥΦΟΣ'],
    ['korean', '안녕하세요, 세계! 한국어 텍스트입니다.'],
    ['chinese', '你好，世界！我爱自然语言处理。'],
    ['japanese', 'こんにちは世界。カタカナとひらがなと漢字を混ぜます。ｶﾀｶﾅ'],
    ['arabic', 'مرحبا بالعالم! هذا نص عربي.'],
    ['hebrew', 'שלום עולם! זה טקסט בעברית.'],
    ['hindi', 'नमस्ते दुनिया! हिन्दी पाठ में मात्राएँ हैं।'],
    ['thai', 'สวัสดีชาวโลก ภาษาไทยไม่มีช่องว่างระหว่างคำ'],
    ['mixed_scripts', 'English, Русский, Ελληνικά, 中文, 日本語, 한국어, العربية, עברית, हिन्दी, ไทย'],
    // emoji
    ['emoji_basic', 'I ❤️ NLP 😀😂🤖 👍🏽 👋🏿 🤗'],
    ['emoji_zwj', 'Family: 👩‍👩‍👧‍👦 Rainbow flag: 🏳️‍🌈 Technologist: 👩🏻‍💻'],
    ['emoji_flags', 'Flags: 🇺🇸 🇯🇵 🇩🇪 🇧🇷 🏴󠁧󠁢󠁳󠁣󠁴󠁿'],
    ['emoji_only', '🤗'],
    // Unicode normalization corner cases
    ['combining_vs_precomposed', 'e\u0301 vs \u00e9 — cafe\u0301 vs caf\u00e9; n\u0303 a\u0308\u0304 \u212b \u00c5'],
    ['fullwidth', 'ＡＢＣ１２３ ｆｕｌｌｗｉｄｔｈ！？ ～'],
    ['ligatures_compat', 'ﬁnance ﬂow ﬀ ﬃ Ǆ ㎏ ™ ① ⅷ'],
    ['math_symbols', '∀x ∈ ℝ: x² ≥ 0 → √(x²) = |x| ≠ ∞ ± ≈'],
    ['nbsp', 'non\u00a0breaking\u00a0space and narrow\u202fnbsp and ideographic\u3000space'],
    ['zero_width', 'zero\u200bwidth\u200bspace, zw\u200cnon\u200djoiner, bom\ufeffhere'],
    ['control_bell_esc_del', 'bell\u0007char esc\u001b[0m del\u007f vt\u000bff\u000c end'],
    ['control_null', 'null\u0000char'],
    ['replacement_char', 'replacement\ufffdchar'],
    ['metaspace_literal', 'The ▁ metaspace char ▁▁ literal▁'],
    ['bytelevel_literal', 'Ġ Ċ ĉ âĢĻ literal byte-level chars'],
    // long inputs
    ['long_word_238', 'Supercalifragilisticexpialidocious'.repeat(7)],
    ['long_repeat_a_500', 'a'.repeat(500)],
    ['long_paragraph', PARAGRAPH],
    // URLs / emails
    ['url_email', 'Visit https://huggingface.co/docs/transformers?lang=en&v=4.3.1#intro or mail john.doe+test@example.com today.'],
    // special tokens written literally in the text
    ['special_gpt2_alone', '<|endoftext|>'],
    ['special_gpt2_inline', 'Hello<|endoftext|>world <|endoftext|> end'],
    ['special_bert', '[CLS] [SEP] [MASK] [PAD] [UNK] the [MASK] sat'],
    ['special_bert_lower', '[cls] [mask] are lowercase look-alikes'],
    ['special_sentencepiece', '</s> <s> <unk> <pad> <extra_id_0> fill <extra_id_1> here'],
    ['special_sentencepiece_tight', '<s>Hello</s>world<unk>'],
];

const PAIRS = [
    ['pair_question_answer', 'How old are you?', 'I am 6 years old.'],
    ['pair_capital', 'What is the capital of France?', 'Paris is the capital and most populous city of France.'],
    ['pair_translation', 'The cat sat on the mat.', "Le chat s'est assis sur le tapis."],
    ['pair_case', 'Straße', 'STRASSE'],
    ['pair_cjk', '日本語のテキスト', '中文文本'],
    ['pair_special_literals', '[CLS] literal', '<|endoftext|> </s>'],
    ['pair_whitespace', '  spaces  ', '\ttabs\n'],
    ['pair_long_short', 'A very long first sentence that goes on and on with many words in it.', 'short'],
    ['pair_emoji', 'emoji 🤗', '👩‍👩‍👧‍👦'],
    ['pair_empty_second', 'Hello', ''],
    ['pair_empty_first', '', 'Only second'],
];

const BATCH = [
    'Hi',
    'Hello world!',
    'The quick brown fox jumps over the lazy dog.',
    'A',
    'Once upon a time, there was a little girl named Lily.',
];

// ---------------------------------------------------------------- helpers
function tryDecode(tok, ids, opts) {
    try {
        return { value: tok.decode(ids, opts) };
    } catch (e) {
        return { value: null, error: String(e?.message ?? e) };
    }
}

function hasLoneSurrogate(s) {
    return typeof s === 'string' && /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);
}

const problems = [];

function singleCase(tok, id, text) {
    const c = { id, text };
    try {
        c.ids = tok.encode(text); // add_special_tokens defaults to true
        c.ids_no_special = tok.encode(text, { add_special_tokens: false });
        c.tokens = c.ids.map((i) => tok._tokenizer.id_to_token(i) ?? null);
        // model-level token strings (before id lookup): differ from `tokens` only when a piece is unknown
        const pre = tok._tokenizer.encode(text).tokens;
        if (JSON.stringify(pre) !== JSON.stringify(c.tokens)) c.pre_id_tokens = pre;
        const d = tryDecode(tok, c.ids, { skip_special_tokens: false });
        c.decoded = d.value;
        if (d.error) c.decoded_error = d.error;
        const ds = tryDecode(tok, c.ids, { skip_special_tokens: true });
        c.decoded_skip_special = ds.value;
        if (ds.error) c.decoded_skip_special_error = ds.error;
        if (d.error || ds.error) problems.push(`${id}: decode threw: ${d.error ?? ds.error}`);
    } catch (e) {
        c.error = String(e?.message ?? e);
        problems.push(`${id}: encode threw: ${c.error}`);
    }
    return c;
}

function pairCase(tok, id, text, text_pair) {
    const c = { id, text, text_pair };
    try {
        const enc = tok(text, { text_pair, return_tensor: false, return_token_type_ids: true });
        c.ids = enc.input_ids;
        c.token_type_ids = enc.token_type_ids ?? null;
        c.attention_mask = enc.attention_mask;
        c.tokens = c.ids.map((i) => tok._tokenizer.id_to_token(i) ?? null);
        const dflt = tok(text, { text_pair, return_tensor: false });
        c.default_call_returns_token_type_ids = 'token_type_ids' in dflt;
        const d = tryDecode(tok, c.ids, { skip_special_tokens: false });
        c.decoded = d.value;
        if (d.error) c.decoded_error = d.error;
        const alone = tok(text, { return_tensor: false, return_token_type_ids: true }).input_ids;
        if (text_pair === '') {
            c.note = 'transformers.js treats text_pair "" as no pair at all (`text_pair || null`): same ids as encoding text alone. ' +
                'The Python/Rust tokenizers encode an empty second sequence (e.g. BERT gives [CLS] A [SEP] [SEP]).';
        } else if (JSON.stringify(alone) === JSON.stringify(c.ids)) {
            c.note = 'transformers.js dropped text_pair: ids equal those of text alone (its ByteLevel post-processor returns the pair ' +
                'separately and Tokenizer.encode ignores it). The Python/Rust tokenizers append the pair (type id 1). Do NOT use as ground truth.';
            problems.push(`${id}: text_pair silently dropped`);
        }
    } catch (e) {
        c.error = String(e?.message ?? e);
        problems.push(`${id}: pair encode threw: ${c.error}`);
    }
    return c;
}

function batchCase(tok, id, texts, options) {
    const c = { id, texts, options };
    try {
        const enc = tok(texts, { ...options, return_tensor: false });
        for (const k of Object.keys(enc)) c[k] = enc[k];
        // also the tensor form (default return_tensor) to show it matches
        const t = tok(texts, options);
        c.tensor_dims = t.input_ids.dims;
        const flat = Array.from(t.input_ids.data, Number);
        c.tensor_matches_arrays = JSON.stringify(flat) === JSON.stringify(enc.input_ids.flat());
    } catch (e) {
        c.error = String(e?.message ?? e);
        problems.push(`${id}: batch threw: ${c.error}`);
    }
    return c;
}

// Diagnostic only: emulation of how the Python/Rust tokenizers apply a SentencePiece precompiled_charsmap
// (spm_precompiled's Darts double-array trie + tokenizers' normalizers/precompiled.rs: per extended grapheme
// cluster shorter than 6 UTF-8 bytes, the FIRST (shortest) common-prefix match replaces the whole grapheme;
// otherwise char by char). Used to flag cases where transformers.js' NFKC approximation likely diverges.
// It is NOT verified against Python here (no Python tokenizers available offline).
function makeCharsmap(b64) {
    const buf = Buffer.from(b64, 'base64');
    const trieSize = buf.readUInt32LE(0);
    const arr = new Uint32Array(trieSize / 4);
    for (let i = 0; i < arr.length; i++) arr[i] = buf.readUInt32LE(4 + 4 * i);
    const normalized = buf.subarray(4 + trieSize);
    const offset = (u) => (u >>> 10) << ((u & (1 << 9)) >>> 6);
    const search = (bytes) => {
        let pos = 0;
        const res = [];
        pos ^= offset(arr[pos]);
        for (const c of bytes) {
            if (c === 0) break;
            pos ^= c;
            const unit = arr[pos];
            if ((unit & 0x800000ff) >>> 0 !== c) return res;
            pos ^= offset(unit);
            if (((unit >>> 8) & 1) === 1) res.push(arr[pos] & 0x7fffffff);
        }
        return res;
    };
    const transform = (chunk) => {
        const r = search(Buffer.from(chunk, 'utf8'));
        if (!r.length) return null;
        let j = r[0];
        while (j < normalized.length && normalized[j] !== 0) j++;
        return normalized.subarray(r[0], j).toString('utf8');
    };
    const seg = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
    return (text) => {
        let out = '';
        for (const { segment: g } of seg.segment(text)) {
            if (Buffer.byteLength(g, 'utf8') < 6) {
                const n = transform(g);
                if (n !== null) {
                    out += n;
                    continue;
                }
            }
            for (const ch of g) out += transform(ch) ?? ch;
        }
        return out;
    };
}

/** returns null, or [transformers.js normalized, emulated Rust normalized] when they differ */
function precompiledDivergence(tok, tj, text) {
    const cfgs = tj.normalizer?.type === 'Sequence' ? tj.normalizer.normalizers : [tj.normalizer];
    const objs = tok._tokenizer.normalizer?.normalizers ?? [tok._tokenizer.normalizer];
    if (!cfgs.some((c) => c?.type === 'Precompiled')) return null;
    let js = text;
    let rust = text;
    cfgs.forEach((cfg, i) => {
        js = objs[i].normalize(js);
        if (cfg.type === 'Precompiled') {
            cfg._emulated ??= makeCharsmap(cfg.precompiled_charsmap);
            rust = cfg._emulated(rust);
        } else rust = objs[i].normalize(rust);
    });
    return js === rust ? null : [js, rust];
}

// JSON: objects indented, arrays inline (one case per readable block).
function pretty(v, indent = '') {
    if (Array.isArray(v)) {
        if (v.length > 0 && v.every((x) => x !== null && typeof x === 'object')) {
            const inner = indent + '  ';
            return '[\n' + v.map((x) => inner + pretty(x, inner)).join(',\n') + '\n' + indent + ']';
        }
        return JSON.stringify(v);
    }
    if (v !== null && typeof v === 'object') {
        const inner = indent + '  ';
        const keys = Object.keys(v).filter((k) => v[k] !== undefined);
        if (keys.length === 0) return '{}';
        return '{\n' + keys.map((k) => inner + JSON.stringify(k) + ': ' + pretty(v[k], inner)).join(',\n') + '\n' + indent + '}';
    }
    return JSON.stringify(v);
}

// ---------------------------------------------------------------- main
fs.mkdirSync(outDir, { recursive: true });
const summary = [];
for (const { name, dir } of models) {
    env.localModelPath = path.dirname(dir) + path.sep;
    const tok = await AutoTokenizer.from_pretrained(path.basename(dir), { local_files_only: true });
    problems.length = 0;

    const tj = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8'));
    const tc = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8'));
    const singles = SINGLE.map(([id, text]) => singleCase(tok, id, text));
    for (const c of singles) {
        const div = precompiledDivergence(tok, tj, c.text);
        if (div) {
            c.precompiled_divergence = {
                note: 'transformers.js normalizes with NFKC instead of the precompiled_charsmap; an emulation of the Rust Precompiled ' +
                    'normalizer gives a different normalized string, so Python/Rust ids for this case likely differ from these.',
                transformersjs_normalized: div[0],
                charsmap_normalized_emulated: div[1],
            };
            problems.push(`${c.id}: likely differs from Python/Rust (precompiled charsmap vs NFKC)`);
        }
    }
    const pairs = PAIRS.map(([id, a, b]) => pairCase(tok, id, a, b));
    const batches = [
        batchCase(tok, 'batch_padding', BATCH, { padding: true }),
        batchCase(tok, 'batch_padding_truncation_8', BATCH, { padding: true, truncation: true, max_length: 8 }),
    ];

    // lone surrogates cannot round-trip through strict JSON readers: flag them
    for (const c of [...singles, ...pairs]) {
        for (const k of ['tokens', 'pre_id_tokens']) {
            if ((c[k] ?? []).some(hasLoneSurrogate)) problems.push(`${c.id}: ${k} contain a lone surrogate`);
        }
        for (const k of ['decoded', 'decoded_skip_special']) {
            if (hasLoneSurrogate(c[k])) problems.push(`${c.id}: ${k} contains a lone surrogate`);
        }
    }

    // tokenizer-specific caveats, detected from the tokenizer files
    const types = (o) => (o && typeof o === 'object' ? [o.type, ...Object.values(o).flatMap(types)] : Array.isArray(o) ? o.flatMap(types) : []);
    const notes = [];
    if (tj.padding || tj.truncation) {
        notes.push('tokenizer.json has padding ' + JSON.stringify(tj.padding) + ' and truncation ' + JSON.stringify(tj.truncation) +
            ': transformers.js ignores both sections (ids here are neither padded nor truncated); padding/truncation only happen in tok(texts, {padding, truncation, max_length}).');
    }
    if (types(tj.normalizer).includes('Precompiled')) {
        notes.push('transformers.js does NOT interpret precompiled_charsmap: its Precompiled normalizer removes a hard-coded set of control chars ' +
            '(U+0001-0008, 000B, 000E-001F, 007F, 008F, 009F), maps a hard-coded set of whitespace-like chars to " " ' +
            '(U+0009, 000A, 000C, 000D, 00A0, 1680, 2000-200F, 2028, 2029, 202F, 205F, 2581, 3000, FEFF, FFFD) and then applies String.prototype.normalize("NFKC") ' +
            '(except around U+FF5E). Cases with exotic characters (combining sequences, compatibility chars, controls) may therefore differ from the Python/Rust tokenizers, which apply the real charsmap.');
    }
    if (tj.post_processor?.type === 'ByteLevel') {
        notes.push('Pairs: transformers.js drops text_pair for this tokenizer (ByteLevel post-processor); see the per-pair notes. Python/Rust would concatenate A + B with type ids 0... then 1....');
    }
    if (types(tj.decoder).includes('ByteFallback')) {
        notes.push('Decode: transformers.js ByteFallback decodes each run of <0xNN> tokens with a default TextDecoder, which strips a leading U+FEFF (BOM) of the run ' +
            '(see case zero_width: "bom\\ufeffhere" decodes to "bomhere"); Python/Rust keep it. Invalid byte runs would also be replaced WHATWG-style rather than one U+FFFD per byte.');
    }
    if (tc.pad_token == null && tok.pad_token != null) {
        notes.push(`tokenizer_config.json has no pad_token: transformers.js silently pads with eos_token ${JSON.stringify(tok.pad_token)} (id ${tok.pad_token_id}); Python transformers would refuse to pad.`);
    }
    const single = tj.post_processor?.single ?? [];
    const last = single[single.length - 1];
    if (last && 'SpecialToken' in last) {
        notes.push(`Truncation (batch_padding_truncation_8): transformers.js cuts the already post-processed ids at max_length, ` +
            `so the trailing ${JSON.stringify(last.SpecialToken.id)} is lost on truncated rows; Python/Rust truncate the sequence first and keep the special tokens.`);
    }

    const doc = {
        generator: {
            package: pkg.name,
            version: pkg.version,
            tokenizers_package: tokPkg ? `${tokPkg.name}@${tokPkg.version}` : null,
            node: process.version,
            script: 'tests/MLNetTransformers.Tokenizers.Tests/TestData/goldens/make-goldens.mjs',
            load:
                "env.allowRemoteModels=false; env.useFSCache=false; env.localModelPath=<parent dir>; " +
                "tok = await AutoTokenizer.from_pretrained(<folder name>, { local_files_only: true })",
            calls: {
                ids: 'tok.encode(text)  // add_special_tokens defaults to true',
                ids_no_special: 'tok.encode(text, { add_special_tokens: false })',
                tokens: 'ids.map(i => tok._tokenizer.id_to_token(i))  // model vocab lookup; transformers.js has no convert_ids_to_tokens',
                pre_id_tokens:
                    'tok._tokenizer.encode(text).tokens  // recorded only when it differs from `tokens` (e.g. a piece the vocab lacks, mapped to unk)',
                decoded: 'tok.decode(ids, { skip_special_tokens: false })  // clean_up_tokenization_spaces left at its default (tokenizer_config value, else true)',
                decoded_skip_special: 'tok.decode(ids, { skip_special_tokens: true })',
                pairs:
                    'tok(text, { text_pair, return_tensor: false, return_token_type_ids: true })  -> input_ids (recorded as ids), token_type_ids, attention_mask; ' +
                    'default_call_returns_token_type_ids = whether tok(text, { text_pair, return_tensor: false }) includes token_type_ids',
                batches:
                    "tok(texts, { ...options, return_tensor: false }); options = { padding: true } or { padding: true, truncation: true, max_length: 8 }; " +
                    'tensor_dims / tensor_matches_arrays from the same call with the default return_tensor (int64 Tensor)',
                offsets:
                    'not available: transformers.js 4.3.1 has no return_offsets_mapping (its tokenizer pipeline keeps no character offsets)',
            },
            text_pair_empty_string: 'tok(text, { text_pair: "" }) is treated as no pair (transformers.js uses `text_pair || null`)',
            decode_of_empty_ids:
                'tok.decode([]) throws "token_ids must be a non-empty array of integers." -> recorded as decoded=null plus decoded_error',
        },
        tokenizer: {
            name,
            source_dir: dir,
            class: tok.constructor.name,
            padding_side: tok.padding_side,
            pad_token: tok.pad_token,
            pad_token_id: tok.pad_token_id ?? null,
            bos_token_id: tok.bos_token_id ?? null,
            eos_token_id: tok.eos_token_id ?? null,
            unk_token_id: tok.unk_token_id ?? null,
            model_max_length: Number.isFinite(tok.model_max_length) ? tok.model_max_length : null,
            return_token_type_ids_default: tok.return_token_type_ids,
            all_special_ids: tok.all_special_ids,
            special_tokens_skipped_by_decode_count: tok._tokenizer.special_tokens.length,
            transformersjs_notes: notes,
        },
        cases: singles,
        pairs,
        batches,
        problems: [...problems],
    };

    const file = path.join(outDir, `${name}.transformersjs-${pkg.version}.json`);
    fs.writeFileSync(file, pretty(doc) + '\n');
    summary.push(`${name}: ${singles.length} single, ${pairs.length} pair, ${batches.length} batch cases, ` +
        `${problems.length} problems -> ${file} (${fs.statSync(file).size} bytes)`);
    for (const p of problems) summary.push(`   ! ${p}`);
}
console.log(summary.join('\n'));
