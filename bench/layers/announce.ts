// How a bench layer says it is up: the line bench/service.ts waits for (startLayer), with the pid it pins and
// measures and the port it loads.
import type { Server } from "node:http";

export function listenAndAnnounce(server: Server): void {
  server.listen(0, "127.0.0.1", () => {
    const address = server.address();
    console.log(JSON.stringify({ pid: process.pid, port: typeof address === "object" && address ? address.port : 0, msg: "listening" }));
  });
  process.on("SIGTERM", () => process.exit(0));
}
