// Renders every case of a goldens file with @huggingface/jinja (the engine of transformers.js) and prints, as JSON on stdout,
// its version and its output (or error) per case. generate_goldens.py runs it and records where it differs from Python's
// jinja2 (the reference: transformers renders chat templates with Python's jinja2).
//   cd /tmp/jinja-goldens && npm init -y && npm install --ignore-scripts @huggingface/jinja
//   NODE_PATH=/tmp/jinja-goldens/node_modules node check_hf_jinja.cjs goldens.json
const fs = require("fs");
const path = require("path");
const { Template } = require("@huggingface/jinja");
const entry = require.resolve("@huggingface/jinja");
const version = JSON.parse(fs.readFileSync(path.join(path.dirname(entry), "..", "package.json"), "utf8")).version;

const file = process.argv[2] || path.join(__dirname, "goldens.json");
const doc = JSON.parse(fs.readFileSync(file, "utf8"));
// @huggingface/jinja's strftime_now reads the current time: pin the clock to the goldens' fixed time.
const fixed = new Date(doc.strftime_now).getTime();
const RealDate = Date;
global.Date = class extends RealDate {
  constructor(...args) {
    super(...(args.length ? args : [fixed]));
  }
  static now() {
    return fixed;
  }
};

const results = {};
for (const c of doc.cases) {
  const source = doc.templates[c.template].source;
  try {
    const context = { messages: c.messages, tools: null, documents: null, add_generation_prompt: c.add_generation_prompt, ...c.variables };
    results[c.name] = { output: new Template(source).render(context) };
  } catch (e) {
    results[c.name] = { error: String(e && e.message ? e.message : e) };
  }
}
process.stdout.write(JSON.stringify({ version, results }));
