// A layer of `uzoncalc serve` alone, for bench/service.ts: our HTTP plumbing (jsonServer.ts: caller checks, routes,
// body, request log, metrics) with routes that answer a fixed window at once. Its CPU per request above bare
// node:http is what the plumbing costs; the next layer (instantEngine.ts) adds the executor.
import { createJsonServer, serviceLogger, type Route } from "../../sandbox/service/jsonServer";
import { Metrics } from "../../sandbox/service/metrics";
import { listenAndAnnounce } from "./announce";

let answered = 0;
const answer = () => ({
  status: "waiting_ui",
  session_id: String(++answered),
  ui_steps: 1,
  ui: { id: "w1", title: "Window 1", fields: [{ name: "x", type: "number", default: 1 }] },
  html_delta: "",
});
const routes: Route[] = ["execute", "resume"].map((name) => ({
  method: "POST",
  pattern: new RegExp(`^/sandbox/${name}$`),
  name,
  body: true,
  step: true,
  handler: answer,
}));
const server = createJsonServer({
  logger: serviceLogger("uzoncalc-bench-http-layer"),
  routes,
  metrics: new Metrics(),
  noun: "this sandbox",
});
listenAndAnnounce(server);
