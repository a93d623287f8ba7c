// Report text is escaped and encoded for the wire once. Each step's answer carries its markup as JSON, and the
// completed answer carries the whole document (`result`), which repeats every step's markup. Escaping a string for
// JSON and encoding it to UTF-8 were the service's largest costs with rendering on: a 105 KB rendered document
// took 708 µs to escape and 299 µs to encode on the 2-core test machine, and a run's completed answer was a
// quarter of the service's CPU for the run. So the executor keeps each step's markup as the JSON string contents
// its answer sent, in UTF-8, until the run's document is answered, and writes that document from them.
//
// The executor hands the bytes over beside its response, under a symbol: in-process callers see the plain
// response, and the JSON server (jsonServer.ts) writes the bytes in place of those fields. The result is the same
// bytes as UTF-8 of JSON.stringify(response).

import { Buffer, transcode } from "node:buffer";

/** The contents of a JSON string (between its quotes) in UTF-8, in pieces. */
export type WireString = readonly Buffer[];

/** Fields of a response that go out as wire strings, by name. */
export type WireFields = Readonly<Record<string, WireString>>;

const WIRE = Symbol("uzoncalc.wireFields");

/**
 * A response's UTF-8 bytes. A report is two-byte text (−, γ, “), and V8 encodes such a string to UTF-8 three to
 * four times slower than ICU transcodes its UTF-16 copy (a rendered step's 32 KB answer: 55 µs against 15 µs on
 * this machine; one-byte text: about even), which made encoding the largest single cost of answering it.
 */
export function utf8(text: string): Buffer {
  if (text.length < 1_024) return Buffer.from(text, "utf8");
  try {
    return transcode(Buffer.from(text, "utf16le"), "utf16le", "utf8");
  } catch {
    // A lone surrogate (JSON.stringify never leaves one): Buffer.from writes U+FFFD for it, as before.
    return Buffer.from(text, "utf8");
  }
}

/** `text` as the contents of a JSON string, in UTF-8. */
export function wireString(text: string): Buffer {
  return utf8(JSON.stringify(text).slice(1, -1));
}

/** Wire strings of texts that come back as the same string, by that string (see repeatedWireString). */
const repeated = new Map<string, Buffer>();
const REPEATED_KEPT = 64;

/**
 * wireString(text) for a text sent again and again, as a completed document's head is (reportDocument.ts hands
 * out one string per title): made once. A string keeps its hash once computed, so finding the same string again
 * costs no pass over it; an equal string made afresh would be hashed and compared whole (~15 µs for a head).
 */
export function repeatedWireString(text: string): Buffer {
  let bytes = repeated.get(text);
  if (bytes === undefined) {
    if (repeated.size >= REPEATED_KEPT) repeated.clear();
    bytes = wireString(text);
    repeated.set(text, bytes);
  }
  return bytes;
}

/**
 * Whether `text` starts with a low surrogate or ends with a high one: joined to its neighbour it may make a pair,
 * which JSON.stringify writes as the character while the two pieces escaped apart would write two escapes.
 */
export function mayJoinSurrogates(text: string): boolean {
  if (text.length === 0) return false;
  const first = text.charCodeAt(0);
  const last = text.charCodeAt(text.length - 1);
  return (first >= 0xdc00 && first <= 0xdfff) || (last >= 0xd800 && last <= 0xdbff);
}

/** Hands `fields` over with `response` (not enumerable: JSON.stringify and spreads leave them out). */
export function withWireFields<T extends object>(response: T, fields: WireFields): T {
  Object.defineProperty(response, WIRE, { value: fields, enumerable: false });
  return response;
}

/** The names of the fields `value` carries wire strings for. */
export function wiredFields(value: object): string[] {
  return Object.keys((value as { [WIRE]?: WireFields })[WIRE] ?? {});
}

/**
 * `value` as UTF-8 JSON, exactly as utf8(JSON.stringify(value)) would give it, with the fields it carries wire
 * strings for written from those. Undefined when it carries none (JSON.stringify it then).
 */
export function wireJson(value: unknown): Buffer | undefined {
  if (value === null || typeof value !== "object") return undefined;
  const fields = (value as { [WIRE]?: WireFields })[WIRE];
  if (fields === undefined) return undefined;
  const chunks: Buffer[] = [];
  let text = "{";
  let first = true;
  for (const [key, field] of Object.entries(value)) {
    const wire = Object.prototype.hasOwnProperty.call(fields, key) ? fields[key] : undefined;
    const json = wire === undefined ? JSON.stringify(field) : undefined;
    // What JSON.stringify leaves out of an object: undefined, functions, symbols.
    if (wire === undefined && json === undefined) continue;
    text += `${first ? "" : ","}${JSON.stringify(key)}:`;
    first = false;
    if (wire === undefined) {
      text += json;
      continue;
    }
    chunks.push(utf8(text + '"'), ...wire);
    text = '"';
  }
  chunks.push(utf8(text + "}"));
  return Buffer.concat(chunks);
}
