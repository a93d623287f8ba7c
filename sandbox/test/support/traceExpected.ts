// What fixtures/contract/trace.calc.ts traces, step by step: one expectation for the contract suite (every
// transport) and the trace suite (engines, eviction, bounds).
import type { TraceEntry } from "../../../protocol/rpc";

/** trace.calc.ts's rendered assignments: lines in the file itself, above which esbuild stripped types and imports. */
export const TRACE_STEP_1: TraceEntry[] = [
  { line: 14, name: "a", value: 3, display: "3", formula: "a = 3" },
  { line: 15, name: "b", value: 7.5, display: "7.5", formula: "b = a · 2.5 = 3 · 2.5 = 7.5" },
  { line: 16, name: "grade", value: "C30/37", display: "“C30/37”", formula: "grade = “C30/37”" },
  { line: 17, name: "big", value: 2592000, display: "2.592×10⁶", formula: "big = 2.592×10⁶" },
  { line: 18, name: "nan", value: null, display: "NaN", formula: "nan = 0/0 = NaN" },
];
export const TRACE_STEP_2: TraceEntry[] = [
  { line: 24, name: "M", value: 70.3125, display: "70.313", formula: "M = (q · b²)/8 = (10 · 7.5²)/8 = 70.313" },
  { line: 25, name: "M", value: 71.3125, display: "71.313", formula: "M = M + 1 = 70.313 + 1 = 71.313" },
  { line: 26, name: "t", value: 0, display: "0", formula: "t = 0" },
  { line: 28, name: "t", value: 4, display: "4", formula: "t = i · 2 = 2 · 2 = 4" },
  { line: 30, name: "ok", value: true, display: "true", formula: "ok = M > 10 = 71.313 > 10 = true" },
  { line: 31, name: "list", value: [1, 2, 3], display: "[1, 2, 3]", formula: "list = [1, 2, 3]" },
];
