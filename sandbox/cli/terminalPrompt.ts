// Asking for a window's values in the terminal, field by field, checked with the same rules the sandbox applies.
// Prompts go to stderr, so stdout carries only the report's path.

import * as readline from "node:readline";
import type { Field, FieldValue, WindowSpec } from "../../protocol/fields";
import { unitLabel } from "../../protocol/units";
import { checkField, missingValue } from "../../protocol/validate";

const out = process.stderr;

/** Reads answers line by line; lines typed (or piped into a terminal) ahead of a prompt are kept, not lost. */
export class Prompter {
  private readonly lines: string[] = [];
  private waiting: ((line: string | undefined) => void) | undefined;
  private closed = false;
  private readonly rl: readline.Interface;

  constructor() {
    this.rl = readline.createInterface({ input: process.stdin, output: out, terminal: false });
    this.rl.on("line", (line) => {
      if (this.waiting) {
        const resolve = this.waiting;
        this.waiting = undefined;
        resolve(line);
      } else this.lines.push(line);
    });
    this.rl.on("close", () => {
      this.closed = true;
      this.waiting?.(undefined);
    });
  }

  async ask(prompt: string): Promise<string | undefined> {
    out.write(prompt);
    const queued = this.lines.shift();
    if (queued !== undefined) return queued;
    if (this.closed) return undefined;
    return new Promise((resolve) => (this.waiting = resolve));
  }

  close(): void {
    this.rl.close();
  }
}

function promptFor(field: Field): string {
  const bits: string[] = [];
  if (field.unit) bits.push(unitLabel(field.unit));
  if (field.min !== undefined || field.max !== undefined) bits.push(`${field.min ?? "−∞"}…${field.max ?? "∞"}`);
  if (field.required) bits.push("required");
  if (field.type === "boolean") bits.push("y/n");
  if (field.type === "selectMany") bits.push("comma-separated");
  const label = field.label !== field.name ? `${field.label} (${field.name})` : field.name;
  const def = field.default !== undefined ? ` [${Array.isArray(field.default) ? field.default.join(", ") : String(field.default)}]` : "";
  return `  ${label}${bits.length ? ` {${bits.join(", ")}}` : ""}${def}: `;
}

function optionByIndex(field: Field, answer: string): string {
  if (!field.options) return answer;
  const pick = (token: string) => {
    const index = /^\d+$/.test(token) ? Number(token) - 1 : -1;
    const option = field.options![index];
    return option && !field.options!.some((o) => String(o.value) === token) ? String(option.value) : token;
  };
  return field.type === "selectMany"
    ? answer
        .split(",")
        .map((t) => pick(t.trim()))
        .join(",")
    : pick(answer.trim());
}

export async function askWindow(
  prompter: Prompter,
  window: WindowSpec,
  errors: Record<string, string> = {},
  previous: Record<string, unknown> = {},
): Promise<Record<string, unknown> | undefined> {
  out.write(`\n${window.title}${window.caption ? ` — ${window.caption}` : ""}\n`);
  const values: Record<string, unknown> = { ...previous };
  for (const field of window.fields) {
    if (Object.keys(errors).length > 0 && !(field.name in errors)) continue;
    if (errors[field.name]) out.write(`  ! ${errors[field.name]}\n`);
    if (field.help) out.write(`    ${field.help}\n`);
    if (field.options) out.write(`    ${field.options.map((o, i) => `${i + 1}) ${o.label}`).join("  ")}\n`);
    for (;;) {
      const answer = await prompter.ask(promptFor(field));
      if (answer === undefined) return undefined;
      const raw: FieldValue | string = answer.trim() === "" ? (field.default ?? missingValue(field)) : optionByIndex(field, answer);
      const check = checkField(field, raw);
      if (check.ok) {
        values[field.name] = check.value;
        break;
      }
      out.write(`  ! ${check.message}\n`);
    }
  }
  return values;
}
