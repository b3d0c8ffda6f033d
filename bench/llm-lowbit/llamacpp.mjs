// llama.cpp's CPU decode speed through node-llama-cpp (pinned in package.json), batch 1, by token ids.
//
//   node llamacpp.mjs MODEL.gguf PROMPT_TOKENS NEW_TOKENS THREADS REPEATS
//     Feeds PROMPT_TOKENS seeded random token ids (ids >= 3) as the prompt, then greedy-decodes exactly
//     NEW_TOKENS tokens (end-of-generation tokens do not stop it); one warm-up run, then REPEATS timed
//     runs, keeping the best prefill and the best decode. Prints one JSON line:
//     {"type", "file_mb", "prefill_tok_s", "decode_tok_s", "peak_rss_mb", "threads", ...}
//     prefill_tok_s: PROMPT_TOKENS / (time to evaluate the prompt and pick the first token);
//     decode_tok_s: (NEW_TOKENS - 1) / (time for the other NEW_TOKENS - 1 tokens), one forward pass each,
//     as bench/llm-decode counts them.
//
//   node llamacpp.mjs MODEL.gguf --prompt-ids 1,5,9,13 --max-new-tokens 8 [--threads N]
//     Greedy ids for a given prompt, to compare with `finadvisor generate --prompt-ids ... --json`:
//     prints {"prompt_ids": [...], "generated_ids": [...]}.
//
// The model is loaded on the CPU only (gpu: false, no layers offloaded), from a memory map: peak_rss_mb
// (VmHWM) counts the mapped weights that were read, as they are resident.
import fs from "node:fs";
import {getLlama, LlamaLogLevel} from "node-llama-cpp";

const FILE_TYPES = {0: "F32", 1: "F16", 2: "Q4_0", 7: "Q8_0", 32: "BF16"};

function usage() {
    console.error("usage: node llamacpp.mjs MODEL.gguf PROMPT_TOKENS NEW_TOKENS THREADS REPEATS\n" +
        "       node llamacpp.mjs MODEL.gguf --prompt-ids 1,5,9,13 --max-new-tokens 8 [--threads N]");
    process.exit(2);
}

function positiveInt(text, what) {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) {
        console.error(`${what} must be a positive integer, not '${text}'`);
        process.exit(2);
    }
    return n;
}

// mulberry32: a small seeded generator, so every run and every type gets the same prompt
function randomIds(count, vocabSize, seed) {
    let a = seed >>> 0;
    const next = () => {
        a = (a + 0x6D2B79F5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    return Array.from({length: count}, () => 3 + Math.floor(next() * (vocabSize - 3)));
}

function peakRssMb() {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync("/proc/self/status", "utf8"));
    return m ? Number(m[1]) / 1024 : null;
}

const args = process.argv.slice(2);
if (args.length < 2) usage();
const modelPath = args[0];
let mode, promptIds, promptTokens, newTokens, threads, repeats;
if (args[1] === "--prompt-ids") {
    mode = "ids";
    const opts = {};
    for (let i = 1; i < args.length; i += 2) opts[args[i]] = args[i + 1];
    if (opts["--prompt-ids"] == null) usage();
    promptIds = opts["--prompt-ids"].split(",").map((s) => Number(s.trim()));
    if (promptIds.some((id) => !Number.isInteger(id) || id < 0)) usage();
    promptTokens = promptIds.length;
    newTokens = positiveInt(opts["--max-new-tokens"] ?? "8", "--max-new-tokens");
    threads = positiveInt(opts["--threads"] ?? "2", "--threads");
    repeats = 1;
} else {
    if (args.length !== 5) usage();
    mode = "bench";
    promptTokens = positiveInt(args[1], "PROMPT_TOKENS");
    newTokens = positiveInt(args[2], "NEW_TOKENS");
    threads = positiveInt(args[3], "THREADS");
    repeats = positiveInt(args[4], "REPEATS");
    if (newTokens < 2) {
        console.error("NEW_TOKENS must be at least 2 (the first token comes with the prefill)");
        process.exit(2);
    }
}
if (!fs.existsSync(modelPath)) {
    console.error(`${modelPath}: no such file`);
    process.exit(2);
}

const llama = await getLlama({gpu: false, build: "never", maxThreads: threads, logLevel: LlamaLogLevel.error});
const model = await llama.loadModel({modelPath, gpuLayers: 0});
const metadata = model.fileInfo.metadata;
const vocabSize = metadata?.tokenizer?.ggml?.tokens?.length ?? metadata?.llama?.vocab_size;
if (!vocabSize) throw new Error(`${modelPath}: no vocabulary size in its metadata`);
const context = await model.createContext({
    contextSize: promptTokens + newTokens,
    batchSize: promptTokens,  // the whole prompt in one batch
    threads: {ideal: threads, min: threads},
    sequences: 1
});
const sequence = context.getSequence();
const prompt = mode === "ids" ? promptIds : randomIds(promptTokens, vocabSize, 1234);

// One generation from an empty sequence: [generated ids, prefill seconds, decode seconds].
async function generate() {
    await sequence.clearHistory();
    const out = [];
    const t0 = process.hrtime.bigint();
    let t1 = t0;
    for await (const token of sequence.evaluate(prompt, {temperature: 0, yieldEogToken: true})) {
        out.push(token);
        if (out.length === 1) t1 = process.hrtime.bigint();
        if (out.length === newTokens) break;
    }
    const t2 = process.hrtime.bigint();
    return [out, Number(t1 - t0) / 1e9, Number(t2 - t1) / 1e9];
}

if (mode === "ids") {
    const [ids] = await generate();
    console.log(JSON.stringify({prompt_ids: prompt, generated_ids: ids.map(Number)}));
} else {
    await generate();  // warm-up: page the weights in, size the buffers
    let bestPrefill = 0, bestDecode = 0, generated = null;
    for (let r = 0; r < repeats; r++) {
        const [ids, prefill, decode] = await generate();
        if (generated != null && ids.join() !== generated.join()) throw new Error("greedy decode differs between runs");
        generated = ids;
        bestPrefill = Math.max(bestPrefill, promptTokens / prefill);
        bestDecode = Math.max(bestDecode, (newTokens - 1) / decode);
    }
    const round = (x, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
    console.log(JSON.stringify({
        type: FILE_TYPES[metadata?.general?.file_type] ?? String(metadata?.general?.file_type),
        file_mb: round(fs.statSync(modelPath).size / 2 ** 20, 1),
        prefill_tok_s: round(bestPrefill),
        decode_tok_s: round(bestDecode),
        peak_rss_mb: round(peakRssMb(), 0),
        threads: context.currentThreads ?? threads,
        prompt_tokens: promptTokens,
        new_tokens: newTokens,
        repeats,
        flash_attention: context.flashAttention,
        engine: "llama.cpp via node-llama-cpp " + JSON.parse(fs.readFileSync(new URL("./node_modules/node-llama-cpp/package.json", import.meta.url))).version
    }));
}
await context.dispose();
await model.dispose();
