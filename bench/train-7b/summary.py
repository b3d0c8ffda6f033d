"""Prints one bench/train-7b run: load, memory, speed against the machine's matmul rate, and the course's 8 epochs projected.

usage: summary.py MODEL CHECKPOINT RUN_DIR TRAIN_LOG TIME_FILE MATMUL_BEFORE MATMUL_AFTER CORES
"""
import glob, json, math, os, re, struct, sys

model, ckpt, run, log, time_file, before, after, cores = sys.argv[1:9]
text = open(log).read()
load_s = int(re.search(r"Timer - load \S+: (\d+) ms", text).group(1)) / 1000
train_tokens = int(re.search(r"train: (\d+) samples -> \d+ examples, (\d+) tokens", text).group(2))
samples = int(re.search(r"train: (\d+) samples", text).group(1))
rss_kb, wall = open(time_file).read().split()
rows = [json.loads(l) for l in open(os.path.join(run, "metrics.jsonl")) if l.strip()]
steps = [r for r in rows if "tokens_per_s" in r]
config = open(os.path.join(run, "config.yaml")).read()
accumulation = int(re.search(r"gradient_accumulation_steps: (\d+)", config).group(1))
seq = int(re.search(r"max_seq_length: (\d+)", config).group(1))

# the decoder's projections: every 2-D tensor but the embedding and the output head (N in 4 N tokens)
index = json.load(open(os.path.join(ckpt, "model.safetensors.index.json")))["weight_map"]
projections = 0
for shard in sorted(set(index.values())):
    with open(os.path.join(ckpt, shard), "rb") as f:
        header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
    for name, t in header.items():
        if name != "__metadata__" and len(t["shape"]) == 2 and not re.search(r"embed|lm_head", name):
            projections += t["shape"][0] * t["shape"][1]

tps = sorted(r["tokens_per_s"] for r in steps)[len(steps) // 2]
micro_s = seq / tps
train_s = sum(seq * accumulation / r["tokens_per_s"] for r in steps)
eval_s = rows[-1]["elapsed_s"] - load_s - train_s  # the one evaluation, at the last step (the 13 held-out samples)
matmul = (float(before) + float(after)) / 2
model_gflops = 4 * projections * tps / 1e9     # forward 2N + input gradient 2N a token (the base is frozen)
executed_gflops = 6 * projections * tps / 1e9  # + the forward again that gradient checkpointing recomputes
ckpt_mb = sum(os.path.getsize(f) for f in glob.glob(os.path.join(run, "checkpoints", "checkpoint-*", "*"))) / 1e6 / len(glob.glob(os.path.join(run, "checkpoints", "checkpoint-*")))
# the course: 8 epochs of the 112 training samples unpacked, batch 1 x 4 -> 224 optimizer steps, an evaluation every 5
epochs = 8
optimizer_steps = math.ceil(samples * epochs / accumulation)
evaluations = optimizer_steps // 5 + (optimizer_steps % 5 != 0)
projected = epochs * train_tokens / tps + evaluations * eval_s + load_s
print(f"{model}: {projections / 1e9:.2f}B parameters in projections, {len(steps)} optimizer step(s) of {accumulation} x {seq} tokens")
print(f"  load {load_s:.0f} s; peak RSS {int(rss_kb) / 2**20:.2f} GiB; {micro_s:.0f} s a micro-step ({tps:.2f} tokens/s); "
      f"evaluation of the held-out samples {eval_s:.0f} s; checkpoint {ckpt_mb:.0f} MB; last loss {steps[-1]['loss']:.4f}")
print(f"  {model_gflops:.0f} GFLOP/s counting 4 N a token ({executed_gflops:.0f} with checkpointing's recomputed forward) against "
      f"{matmul:.0f} GFLOP/s fp32 matmul 2048^3 (before {float(before):.0f}, after {float(after):.0f}): "
      f"{model_gflops / matmul:.2f} ({executed_gflops / matmul:.2f})")
print(f"  the course's {epochs} epochs ({epochs} x {train_tokens} tokens, {optimizer_steps} optimizer steps, {evaluations} evaluations): "
      f"{projected / 3600:.1f} h on this machine = {projected * int(cores) / 3600:.0f} core-hours")
