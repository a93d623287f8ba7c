// Which processes the machine's CPU went to over a stretch of a test (Linux /proc; elsewhere it reports nothing).
// For the first Run Calc's breakdown: the workbench, VS Code's TypeScript server, code-server and our own
// processes all start at once on a 2-core machine, and what delays the command is whoever has the cores.
"use strict";
const fs = require("node:fs");
const os = require("node:os");

/** Linux counts CPU in clock ticks of 1/100 s (USER_HZ). */
const MS_PER_TICK = 10;
const EVERY_MS = 200;

/** CPU used so far (ms) by every process, by pid. */
function cpuByPid() {
  const used = new Map();
  let pids;
  try {
    pids = fs.readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return used;
  }
  for (const pid of pids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      // The command name in parentheses may hold spaces: the fields start after its closing one.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      used.set(pid, (Number(fields[11]) + Number(fields[12])) * MS_PER_TICK);
    } catch {
      // Gone meanwhile.
    }
  }
  return used;
}

/**
 * A process as a reader knows it: its program (`comm`: Chromium rewrites its command line), the script it runs,
 * and the role flags that tell same-named ones apart (`--type=renderer`, tsserver's `--serverMode`).
 */
function describe(pid) {
  try {
    const program = fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim();
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
    const script = argv.slice(1).find((arg) => !arg.startsWith("-") && /\.(c|m)?js$/.test(arg));
    const roles = argv.filter((arg) => /^--type=/.test(arg)).map((arg) => arg.slice("--type=".length));
    const mode = argv.indexOf("--serverMode");
    if (mode >= 0 && argv[mode + 1]) roles.push(argv[mode + 1]);
    return [program, script?.split("/").pop(), ...roles].filter(Boolean).join(" ");
  } catch {
    return `pid ${pid}`;
  }
}

/**
 * Samples every process's CPU until stopped; `between(from, to)` then says which used the most in that stretch
 * (ms since the epoch; measured from the sample before it to the sample after it).
 */
function startCpuSampler() {
  const samples = [];
  const names = new Map();
  const take = () => samples.push({ at: Date.now(), used: cpuByPid() });
  take();
  const timer = setInterval(take, EVERY_MS);
  return {
    stop() {
      clearInterval(timer);
      take();
      for (const pid of samples.at(-1).used.keys()) names.set(pid, describe(pid));
    },
    /** The processes that used the most CPU from `from` to `to`, most first, and the window's CPU in all. */
    between(from, to, top = 6) {
      // The samples around the stretch: it is all inside, with up to a sampling interval more on each side.
      const first = [...samples].reverse().find((sample) => sample.at <= from) ?? samples[0];
      const last = samples.find((sample) => sample.at >= to) ?? samples.at(-1);
      const rows = [];
      for (const [pid, used] of last.used) {
        const delta = used - (first.used.get(pid) ?? 0);
        if (delta > 0) rows.push({ pid, ms: delta, name: names.get(pid) ?? describe(pid) });
      }
      rows.sort((a, b) => b.ms - a.ms);
      return {
        windowMs: last.at - first.at,
        cores: os.availableParallelism(),
        cpuMs: rows.reduce((sum, row) => sum + row.ms, 0),
        top: rows.slice(0, top),
      };
    },
  };
}

/**
 * Resolves once the whole machine has used less than `quietMs` of CPU in each of `seconds` consecutive seconds (an
 * idle workbench, Chromium and this process use ~60–110 ms a second here), or after `maxMs`. For "a quiet machine": a
 * freshly opened window keeps both cores busy for 10–15 s (VS Code's TypeScript server, the workbench, language
 * servers). Resolves { waitedMs, quiet, top } with who used the CPU while it waited.
 */
async function waitForQuiet({ quietMs = 150, seconds = 2, maxMs = 60000 } = {}) {
  const sampler = startCpuSampler();
  const started = Date.now();
  let quietSeconds = 0;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const now = Date.now();
    quietSeconds = sampler.between(now - 1000, now).cpuMs < quietMs ? quietSeconds + 1 : 0;
    if (quietSeconds >= seconds || now - started >= maxMs) {
      sampler.stop();
      return { waitedMs: now - started, quiet: quietSeconds >= seconds, top: sampler.between(started, now).top };
    }
  }
}

module.exports = { startCpuSampler, waitForQuiet };
