import { UI, Window, p } from "uzoncalc";

// One window per step, about a hundred arithmetic operations between pauses: a typical interactive step.
export async function* sheet(params: { steps?: number } = {}) {
  const steps = params.steps ?? 1000;
  let acc = 0;
  for (let i = 0; i < steps; i++) {
    const v = yield UI(Window({ title: "Step", id: `step-${i}`, fields: [{ name: "x", type: "number", unit: "m", default: 1 }] }));
    for (let k = 0; k < 25; k++) acc += Math.sqrt(v.x * k + 1) * 0.5 - k / 3 + (acc % 7);
    p(`step ${i}: ${acc.toFixed(3)}`);
  }
  return acc;
}
