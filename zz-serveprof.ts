import { serve } from "./sandbox/service/serve";
void serve({ port: 3779, host: "127.0.0.1", safeDirs: ["/tmp/exp/plain"], maxSessions: 2000 } as never).then((code) => process.exit(code));
setTimeout(() => process.kill(process.pid, "SIGINT"), 9000);
