import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { ExecutionResponse } from "../../protocol/rpc";
import { Executor } from "../session/executor";
import { startService } from "./support/processes";
import type { RealmOutcome } from "../runtime/abi";
import type { EngineOutcome, RealmEngine } from "../engine/realmEngine";
import { repeatedWireString, wiredFields, wireJson, withWireFields, wireString } from "../session/wireJson";

const WINDOW = (id: string) => `yield UI(Window({ title: "${id}", id: "${id}", fields: [{ name: "x", type: "number", default: 1 }] }))`;

/** Rendered lines, a title block and two sections: the completed document gets a table of contents. */
const SECTIONS_SHEET = `import { UI, Window, h1, h2, p } from "uzoncalc";
export async function* sheet() {
  h1("Wire “test”");
  p("Introduction − with two-byte text. ".repeat(150));
  const a = ${WINDOW("w1")};
  h2("First");
  const b = a.x * 2.5 - 1;
  const c = b / 3 + a.x;
  const d = ${WINDOW("w2")};
  h2("Second");
  const e = d.x + c * 0.5;
  p(\`e is \${e}\`);
  return { e };
}
`;

/** Markup the document makes inert: its body is no longer the steps' text. */
const ACTIVE_SHEET = `import { UI, Window, html, p } from "uzoncalc";
export async function* sheet() {
  p("before ".repeat(800));
  ${WINDOW("w1")};
  html('<iframe src="x"></iframe><p>after</p>');
}
`;

/**
 * An engine whose two steps write the halves of one surrogate pair (a sheet's own output always ends its lines,
 * so only an engine can): one window, then the end.
 */
class SplitPairEngine implements RealmEngine {
  liveRealms = 0;
  async open(): Promise<RealmOutcome> {
    return {
      kind: "ui",
      window: { id: "w1", title: "w1", fields: [{ name: "x", type: "number", label: "x", required: false }] },
      html: `<p>${"x".repeat(5_000)}a\ud83d`,
      logs: [],
    };
  }
  async resume(): Promise<EngineOutcome> {
    return { kind: "done", value: null, html: "\ude00b</p>\n", logs: [] };
  }
  async cancel(): Promise<EngineOutcome> {
    return { kind: "cancelled", html: "", logs: [] };
  }
  async restore(): Promise<EngineOutcome> {
    return { kind: "lost" };
  }
  drop(): void {}
  async close(): Promise<void> {}
}

describe("report text escaped and encoded once for the wire (wireJson.ts)", () => {
  let dir: string;
  let executor: Executor;
  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  };
  /** Runs a sheet to its end (answering every window with x = 2), every response checked against JSON.stringify. */
  async function run(
    file: string,
    htmlMode?: "delta",
    on: Executor = executor,
  ): Promise<{ responses: ExecutionResponse[]; wired: string[][] }> {
    const responses: ExecutionResponse[] = [];
    const wired: string[][] = [];
    const check = (response: ExecutionResponse) => {
      const bytes = wireJson(response);
      wired.push(wiredFields(response));
      if (bytes)
        assert.ok(
          bytes.equals(Buffer.from(JSON.stringify(response), "utf8")),
          `wire bytes differ: ${bytes.toString("utf8").slice(0, 400)}`,
        );
      responses.push(response);
      return response;
    };
    let response = check(await on.execute({ file_path: file, ...(htmlMode ? { html_mode: htmlMode } : {}) }));
    while (response.status === "waiting_ui")
      response = check(
        await on.resume({ session_id: response.session_id, user_input: { x: 2 }, ...(htmlMode ? { html_mode: htmlMode } : {}) }),
      );
    return { responses, wired };
  }

  before(() => {
    dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "uzc-wire-")));
    executor = new Executor({ safeDirs: [dir], wireAnswers: true });
  });
  after(async () => {
    await executor.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("writes every answer of a rendered run, its document with a table of contents included, as JSON.stringify does", async () => {
    for (const mode of ["delta", undefined] as const) {
      const { responses, wired } = await run(write("sections.calc.ts", SECTIONS_SHEET), mode);
      const last = responses.at(-1)!;
      assert.equal(last.status, "completed", JSON.stringify(last.error));
      assert.match(last.result!, /<nav class="uzc-toc">/, "the document has its table of contents");
      assert.match(last.result!, /Wire “test”/);
      const html = mode === "delta" ? "html_delta" : "html";
      assert.deepEqual(
        wired,
        [[html], [html], [html, "result"]],
        `every answer's report goes out from its wire bytes (${mode ?? "full"} html)`,
      );
    }
  });

  it("falls back to JSON.stringify where the document's body is not the steps' text", async () => {
    const { responses, wired } = await run(write("active.calc.ts", ACTIVE_SHEET), "delta");
    const last = responses.at(-1)!;
    assert.equal(last.status, "completed");
    assert.match(last.result!, /&lt;iframe/, "the document's markup was made inert");
    // The last answer's delta is still the steps' text; its document is not, and is escaped whole.
    assert.deepEqual(wired, [["html_delta"], ["html_delta"]]);
  });

  it("falls back where two steps' markup would join a surrogate pair", async () => {
    const splitting = new Executor({ safeDirs: [dir], wireAnswers: true, engine: new SplitPairEngine() });
    try {
      const { responses, wired } = await run(write("pair.calc.ts", SECTIONS_SHEET), "delta", splitting);
      assert.equal(responses.at(-1)!.status, "completed");
      assert.match(responses.at(-1)!.result!, /x{5000}a😀b<\/p>/, "the pair is whole in the document");
      // From the piece that could join a pair on, the run's answers are escaped whole.
      assert.deepEqual(wired, [[], []]);
    } finally {
      await splitting.close();
    }
  });

  it("writes a short report as JSON.stringify does, in one piece", async () => {
    const { responses, wired } = await run(write("short.calc.ts", ACTIVE_SHEET.replace('"before ".repeat(800)', '"before"')), "delta");
    assert.equal(responses.at(-1)!.status, "completed");
    assert.deepEqual(wired, [[], []]);
  });

  it("writes a short run's document from its pieces' wire bytes too, run after run", async () => {
    const short = write(
      "plain.calc.ts",
      `import { UI, Window, p } from "uzoncalc";
export async function* sheet() {
  const a = ${WINDOW("w1")};
  p(\`x is \${a.x} − “short”\`);
}
`,
    );
    for (let again = 0; again < 2; again++) {
      const { responses, wired } = await run(short, "delta");
      assert.equal(responses.at(-1)!.status, "completed");
      assert.match(responses.at(-1)!.result!, /x is 2 − “short”/);
      assert.deepEqual(wired, [[], ["result"]], "the short answers go out whole; the document from its pieces");
    }
  });

  it("makes a repeated text's wire bytes once", () => {
    const head = `<head><style>a::before { content: "“" }</style>\n</head>`;
    const bytes = repeatedWireString(head);
    assert.ok(bytes.equals(wireString(head)));
    assert.equal(repeatedWireString(`${head}`), bytes, "the same bytes, not made again");
    assert.notEqual(repeatedWireString(`${head} `), bytes);
  });

  it("uzoncalc serve sends each answer of a rendered run as exactly the bytes of JSON.stringify", async () => {
    const file = write("served.calc.ts", SECTIONS_SHEET);
    const service = await startService(["serve", "--port", "0", "--safe-dir", dir], { UZONCALC_TOKEN: "", SAFE_DIRS: "" });
    try {
      const post = async (route: string, body: unknown) => {
        const reply = await fetch(`${service.url}/sandbox/${route}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        });
        const bytes = Buffer.from(await reply.arrayBuffer());
        assert.equal(Number(reply.headers.get("content-length")), bytes.length);
        const answer = JSON.parse(bytes.toString("utf8")) as ExecutionResponse;
        assert.ok(bytes.equals(Buffer.from(JSON.stringify(answer), "utf8")), "the body is JSON.stringify's, byte for byte");
        return answer;
      };
      let answer = await post("execute", { file_path: file, html_mode: "delta" });
      while (answer.status === "waiting_ui")
        answer = await post("resume", { session_id: answer.session_id, user_input: { x: 2 }, html_mode: "delta" });
      assert.equal(answer.status, "completed");
      assert.match(answer.result!, /Wire “test”[\s\S]*<nav class="uzc-toc">/);
      assert.match(answer.html_delta!, /e is/);
    } finally {
      await service.stop();
    }
  });

  it("leaves out what JSON.stringify leaves out, and keeps the fields' order", () => {
    const value = withWireFields({ a: 1, skipped: undefined, html: "−“x”\n", f: () => 1, z: "end" }, { html: [wireString("−“x”\n")] });
    assert.equal(wireJson(value)!.toString("utf8"), JSON.stringify(value));
    assert.equal(wireJson({ plain: true }), undefined, "no wire fields: JSON.stringify it");
    assert.equal(JSON.stringify({ ...value }), JSON.stringify(value), "a copy carries no wire fields");
  });
});
