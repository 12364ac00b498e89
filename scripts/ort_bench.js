#!/usr/bin/env node
// ort_bench.js - the ONNX Runtime baseline: times a model on one CPU thread (onnxruntime-node) and
// prints the same `bench:` line as `fluidtune run --bench`, on the same seeded random inputs.
'use strict';

const fs = require('fs');
const path = require('path');

const USAGE = `usage: node scripts/ort_bench.js MODEL.onnx --bench N [options]

Times N runs of MODEL.onnx in ONNX Runtime (CPU, intra-op and inter-op threads 1, sequential
execution, graph optimization level 'all') after K warm-up runs, and prints
  bench: N runs, median X ms, min Y ms, peak RSS Z MiB
as \`fluidtune run --bench N\` does.

Inputs are seeded random values made exactly as fluidtune makes them, so both runtimes see the same
data for the same seed: floats uniform in [-1, 1); integer inputs that index a Gather (token ids)
uniform below the size of the gathered axis (the vocabulary); other integer inputs all ones
(attention_mask), or all zeros when the name says "type" (token_type_ids).

options:
  --bench N               timed runs (required)
  --warmup K              untimed runs first (default 1, as fluidtune run)
  --seed S                seed of the random inputs (default 1, as fluidtune run)
  --vocab V               bound of the token ids: integer inputs that index a Gather, or named *ids
                          (default: the gathered axis, read from the model)
  --shape NAME=D0,D1,...  fix the dynamic dims of input NAME (repeatable)
  --threads-check         also print process CPU time over wall time of the timed runs (1.00 = one thread)
  -h, --help              this help

Install onnxruntime-node first: scripts/install_ort.sh
exit status: 0 ok, 1 failure, 2 bad usage or bad input`;

class UsageError extends Error {}

function parseArgs(argv) {
  const a = { model: null, bench: 0, warmup: 1, seed: 1n, vocab: 0, shapes: new Map(), threadsCheck: false };
  const whole = (name, v, min) => {
    if (v === undefined || !/^\d+$/.test(v) || Number(v) < min) throw new UsageError(`${name} takes a whole number >= ${min}, not '${v}'`);
    return Number(v);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    let [key, val] = arg.startsWith('--') && arg.includes('=') && !arg.startsWith('--shape=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (arg.startsWith('--shape=')) [key, val] = ['--shape', arg.slice(8)];
    const next = () => (val !== undefined ? val : argv[++i]);
    switch (key) {
      case '--bench': a.bench = whole('--bench', next(), 1); break;
      case '--warmup': a.warmup = whole('--warmup', next(), 0); break;
      case '--seed': {
        const v = next();
        if (v === undefined || !/^\d+$/.test(v)) throw new UsageError(`--seed takes a whole number, not '${v}'`);
        a.seed = BigInt(v);
        break;
      }
      case '--vocab': a.vocab = whole('--vocab', next(), 1); break;
      case '--shape': {
        const v = next() || '';
        const m = /^([^=]+)=(\d+(?:,\d+)*)$/.exec(v);
        if (!m) throw new UsageError(`--shape takes NAME=D0,D1,..., not '${v}'`);
        a.shapes.set(m[1], m[2].split(',').map(Number));
        break;
      }
      case '--threads-check': a.threadsCheck = true; break;
      case '-h': case '--help': process.stdout.write(USAGE + '\n'); process.exit(0); break;
      default:
        if (key.startsWith('-')) throw new UsageError(`unknown option '${arg}'`);
        if (a.model) throw new UsageError('expected exactly one MODEL.onnx');
        a.model = arg;
    }
  }
  if (!a.model) throw new UsageError('expected exactly one MODEL.onnx');
  if (!a.bench) throw new UsageError('--bench N is required');
  return a;
}

// A protobuf reader over positional reads of the file: the model's weights (hundreds of MiB) are
// skipped, never read, so they do not count in this process's peak RSS beyond what ORT itself holds.
class PbFile {
  constructor(file) {
    this.fd = fs.openSync(file, 'r');
    this.size = fs.fstatSync(this.fd).size;
    this.buf = Buffer.alloc(1 << 16);
    this.bufStart = 0;
    this.bufLen = 0;
  }
  close() { fs.closeSync(this.fd); }
  ensure(pos, n) {
    if (pos >= this.bufStart && pos + n <= this.bufStart + this.bufLen) return;
    if (n > this.buf.length) this.buf = Buffer.alloc(n);
    this.bufStart = pos;
    this.bufLen = fs.readSync(this.fd, this.buf, 0, this.buf.length, pos);
  }
  byteAt(pos) {
    this.ensure(pos, 1);
    if (pos >= this.bufStart + this.bufLen) throw new Error('truncated protobuf');
    return this.buf[pos - this.bufStart];
  }
  varint(pos) {
    let v = 0n, shift = 0n;
    for (;;) {
      const b = this.byteAt(pos++);
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return [v, pos];
      shift += 7n;
      if (shift > 63n) throw new Error('bad varint');
    }
  }
  bytes(pos, len) {
    this.ensure(pos, len);
    return this.buf.subarray(pos - this.bufStart, pos - this.bufStart + len);
  }
  str(pos, len) { return this.bytes(pos, len).toString('utf8'); }
  // Calls fn(field, wire, pos, lenOrValue) for each field of the message in [start, end).
  each(start, end, fn) {
    let pos = start;
    while (pos < end) {
      let key;
      [key, pos] = this.varint(pos);
      const field = Number(key >> 3n), wire = Number(key & 7n);
      if (wire === 0) { let v; [v, pos] = this.varint(pos); fn(field, wire, pos, v); }
      else if (wire === 1) { fn(field, wire, pos, null); pos += 8; }
      else if (wire === 5) { fn(field, wire, pos, null); pos += 4; }
      else if (wire === 2) {
        let len; [len, pos] = this.varint(pos);
        len = Number(len);
        fn(field, wire, pos, len);
        pos += len;
      } else throw new Error(`unsupported protobuf wire type ${wire}`);
    }
    if (pos !== end) throw new Error('protobuf field runs past its message');
  }
  // Repeated int64 field values, packed or not.
  ints(wire, pos, v, out) {
    if (wire === 0) { out.push(BigInt.asIntN(64, v)); return; }
    const end = pos + v;
    while (pos < end) { let x; [x, pos] = this.varint(pos); out.push(BigInt.asIntN(64, x)); }
  }
}

// What the benchmark needs from the model: its inputs (name, element type, dims) and, per integer
// input, the size of the axis it indexes through a Gather on an initializer (the vocabulary).
function readModel(file) {
  const pb = new PbFile(file);
  try {
    let graph = null;
    pb.each(0, pb.size, (f, w, pos, len) => { if (f === 7 && w === 2) graph = [pos, pos + len]; });
    if (!graph) throw new Error("no graph in it");
    const inits = new Map(), inputs = [], nodes = [];
    pb.each(graph[0], graph[1], (f, w, pos, len) => {
      if (w !== 2) return;
      if (f === 5) { // initializer: name and dims only
        const t = { name: '', dims: [] };
        pb.each(pos, pos + len, (tf, tw, tp, tl) => {
          if (tf === 1) pb.ints(tw, tp, tl, t.dims);
          else if (tf === 8 && tw === 2) t.name = pb.str(tp, tl);
        });
        inits.set(t.name, t.dims.map(Number));
      } else if (f === 11) { // graph input: ValueInfoProto
        const vi = { name: '', elem: 0, dims: [] };
        pb.each(pos, pos + len, (vf, vw, vp, vl) => {
          if (vf === 1 && vw === 2) vi.name = pb.str(vp, vl);
          if (vf !== 2 || vw !== 2) return;
          pb.each(vp, vp + vl, (yf, yw, yp, yl) => { // TypeProto.tensor_type
            if (yf !== 1 || yw !== 2) return;
            pb.each(yp, yp + yl, (tf, tw, tp, tl) => {
              if (tf === 1 && tw === 0) vi.elem = Number(tl);
              if (tf !== 2 || tw !== 2) return;
              pb.each(tp, tp + tl, (sf, sw, sp, sl) => { // TensorShapeProto.dim
                if (sf !== 1 || sw !== 2) return;
                let d = -1;
                pb.each(sp, sp + sl, (df, dw, dp, dv) => { if (df === 1 && dw === 0) d = Number(BigInt.asIntN(64, dv)); });
                vi.dims.push(d);
              });
            });
          });
        });
        inputs.push(vi);
      } else if (f === 1) { // node: inputs, outputs, op type, integer attribute "axis"
        const n = { op: '', inputs: [], outputs: [], axis: 0 };
        pb.each(pos, pos + len, (nf, nw, np, nl) => {
          if (nw !== 2) return;
          if (nf === 1) n.inputs.push(pb.str(np, nl));
          else if (nf === 2) n.outputs.push(pb.str(np, nl));
          else if (nf === 4) n.op = pb.str(np, nl);
          else if (nf === 5) {
            let name = '', i = 0;
            pb.each(np, np + nl, (af, aw, ap, al) => {
              if (af === 1 && aw === 2) name = pb.str(ap, al);
              if (af === 3 && aw === 0) i = Number(BigInt.asIntN(64, al));
            });
            if (name === 'axis') n.axis = i;
          }
        });
        if (['Gather', 'Reshape', 'Squeeze', 'Unsqueeze', 'Flatten'].includes(n.op)) nodes.push(n);
      }
    });
    const real = inputs.filter((i) => !inits.has(i.name));
    for (const inp of real) inp.bound = gatherBound(inp.name, nodes, inits);
    return real;
  } finally {
    pb.close();
  }
}

// As fluidtune's gather_bound: the smallest gathered-axis size over the Gathers that index with
// this tensor, directly or through views of it.
function gatherBound(name, nodes, inits) {
  const names = new Set([name]);
  for (let grown = true; grown;) {
    grown = false;
    for (const n of nodes)
      if (n.op !== 'Gather' && names.has(n.inputs[0]) && n.outputs[0] && !names.has(n.outputs[0])) {
        names.add(n.outputs[0]);
        grown = true;
      }
  }
  let bound = -1;
  for (const n of nodes) {
    if (n.op !== 'Gather' || !names.has(n.inputs[1]) || !inits.has(n.inputs[0])) continue;
    const dims = inits.get(n.inputs[0]);
    const axis = n.axis < 0 ? n.axis + dims.length : n.axis;
    if (axis < 0 || axis >= dims.length) continue;
    if (bound < 0 || dims[axis] < bound) bound = dims[axis];
  }
  return bound;
}

const MASK64 = (1n << 64n) - 1n;

function nextRandom(st) {
  let s = st.s;
  s ^= (s << 13n) & MASK64;
  s ^= s >> 7n;
  s ^= (s << 17n) & MASK64;
  st.s = s;
  return s;
}

// ONNX element type -> [ORT type name, typed array, is float]
const ELEM = {
  1: ['float32', Float32Array, true], 11: ['float64', Float64Array, true],
  7: ['int64', BigInt64Array, false], 6: ['int32', Int32Array, false], 5: ['int16', Int16Array, false],
  3: ['int8', Int8Array, false], 2: ['uint8', Uint8Array, false], 9: ['bool', Uint8Array, false],
};

// The same values as fluidtune's ft_cli_random_input for input k and this seed.
function randomInput(ort, inp, k, seed, vocab) {
  const e = ELEM[inp.elem];
  if (!e) throw new UsageError(`input '${inp.name}': element type ${inp.elem} is not supported`);
  const [type, Arr, isFloat] = e;
  const n = inp.dims.reduce((x, y) => x * y, 1);
  const st = { s: ((seed + 1n) * 0x9E3779B97F4A7C15n + BigInt(k) * 0xBF58476D1CE4E5B9n) & MASK64 };
  const data = new Arr(n);
  if (isFloat) {
    for (let i = 0; i < n; i++) data[i] = Number(nextRandom(st) >> 11n) / 9007199254740992.0 * 2.0 - 1.0;
  } else {
    // --vocab also covers token-id inputs whose Gather this reader cannot see (e.g. behind a Cast)
    const ids = /ids$/.test(inp.name) && !inp.name.includes('type');
    const bound = BigInt(inp.bound > 0 ? vocab || inp.bound : ids ? vocab : 0);
    const fill = inp.name.includes('type') ? 0n : 1n;
    for (let i = 0; i < n; i++) {
      let v = bound > 0n ? nextRandom(st) % bound : fill;
      if (type === 'bool') v = v !== 0n ? 1n : 0n;
      data[i] = Arr === BigInt64Array ? v : Number(v);
    }
  }
  return new ort.Tensor(type, data, inp.dims);
}

function loadOrt() {
  try {
    return require('onnxruntime-node');
  } catch (e) {
    try {
      return require(path.join(__dirname, '..', 'node_modules', 'onnxruntime-node'));
    } catch (e2) {
      throw new Error(`cannot load onnxruntime-node (${e2.message.split('\n')[0]}); run scripts/install_ort.sh first`);
    }
  }
}

// CPU clock ticks (utime + stime) per OS thread of this process, from /proc.
function threadTicks() {
  const ticks = new Map();
  for (const tid of fs.readdirSync('/proc/self/task')) {
    try {
      const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks.set(tid, Number(f[11]) + Number(f[12]));
    } catch (e) { /* the thread ended meanwhile */ }
  }
  return ticks;
}

function median(sorted) {
  const n = sorted.length;
  return n % 2 ? sorted[(n - 1) / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(a.model)) throw new UsageError(`${a.model}: no such file`);
  let inputs;
  try {
    inputs = readModel(a.model);
  } catch (e) {
    throw new UsageError(`${a.model}: not an ONNX model this script can read (${e.message})`);
  }
  for (const inp of inputs) {
    if (a.shapes.has(inp.name)) {
      const d = a.shapes.get(inp.name);
      if (d.length !== inp.dims.length) throw new UsageError(`--shape ${inp.name}: rank ${d.length}, the model says ${inp.dims.length}`);
      inp.dims = d;
    }
    if (inp.dims.some((d) => d < 0)) throw new UsageError(`input '${inp.name}' has dynamic dims: fix them with --shape ${inp.name}=...`);
  }
  const ort = loadOrt();
  const session = await ort.InferenceSession.create(a.model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
  });
  const feeds = {};
  inputs.forEach((inp, k) => {
    if (session.inputNames.includes(inp.name)) feeds[inp.name] = randomInput(ort, inp, k, a.seed, a.vocab);
  });
  for (let i = 0; i < a.warmup; i++) await session.run(feeds);
  const lat = new Array(a.bench);
  const ticks0 = threadTicks(), cpu0 = process.cpuUsage(), wall0 = process.hrtime.bigint();
  for (let i = 0; i < a.bench; i++) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    lat[i] = Number(process.hrtime.bigint() - t0) / 1e6;
  }
  const wall = Number(process.hrtime.bigint() - wall0) / 1e3, cpu = process.cpuUsage(cpu0), ticks1 = threadTicks();
  lat.sort((x, y) => x - y);
  const rssMiB = process.resourceUsage().maxRSS / 1024;
  console.log(`bench: ${a.bench} runs, median ${median(lat).toFixed(3)} ms, min ${lat[0].toFixed(3)} ms, peak RSS ${rssMiB.toFixed(1)} MiB`);
  if (a.threadsCheck) {
    // One thread does the work if the busiest thread accounts for (nearly) all the CPU time; CPU
    // over wall time alone is below 1 on a shared machine even when two threads compute.
    const used = [...ticks1].map(([tid, t]) => t - (ticks0.get(tid) || 0)).sort((x, y) => y - x);
    const total = used.reduce((x, y) => x + y, 0);
    console.log(`threads: ${ticks1.size} OS threads; timed runs used CPU time / wall time ${((cpu.user + cpu.system) / wall).toFixed(2)}, ` +
                `${total ? ((100 * used[0]) / total).toFixed(1) : '100.0'}% of it in one thread`);
  }
  await session.release();
}

main().catch((e) => {
  process.stderr.write(`ort_bench: error: ${e.message}\n`);
  if (e instanceof UsageError) process.stderr.write(USAGE.split('\n')[0] + '\n');
  process.exit(e instanceof UsageError ? 2 : 1);
});
