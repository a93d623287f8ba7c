// Remote set-up in one go: choosing Remote (the status item, or the setting) asks for what is missing in the order
// a first connection needs it, and checks each answer against the service itself: the URL if none is set, the
// service's /sandbox/health at it, then the token if the service answers 401. Before, each of these was found by
// a failed run: three failed runs before the first one that worked.

import * as vscode from "vscode";
import { Refusal } from "../protocol/refusal";
import { RemoteSandboxClient } from "../sandbox/connect/remoteClient";
import { SandboxUnavailableError } from "../sandbox/connect/sandboxClient";
import type { Config } from "./config";

/** A probe is a person waiting: a service that has not answered by then is as good as unreachable. */
const PROBE_TIMEOUT_MS = 10_000;

export interface RemoteSetup {
  config: Config;
  token: { get(): Promise<string | undefined>; set(token: string): Promise<void> };
  log(message: string): void;
}

type Probe = { ok: true } | { ok: false; problem: "unreachable"; message: string } | { ok: false; problem: "token"; hadToken: boolean };

/** What the service at `url` says to a caller with `token`: reachable, and whether it takes the token. */
async function probe(url: string, token: string | undefined): Promise<Probe> {
  let client: RemoteSandboxClient;
  try {
    client = new RemoteSandboxClient({ url, ...(token ? { token } : {}), timeoutMs: PROBE_TIMEOUT_MS });
  } catch (error) {
    return { ok: false, problem: "unreachable", message: error instanceof Error ? error.message : String(error) };
  }
  try {
    await client.health();
    // Health is open to all; listing sessions is not, so it tells whether this caller gets in.
    await client.listSessions();
    return { ok: true };
  } catch (error) {
    if (error instanceof Refusal && error.status === 401) return { ok: false, problem: "token", hadToken: !!token };
    if (error instanceof SandboxUnavailableError) return { ok: false, problem: "unreachable", message: `${error.message} ${error.hint}` };
    return { ok: false, problem: "unreachable", message: error instanceof Error ? error.message : String(error) };
  } finally {
    await client.dispose();
  }
}

function askUrl(current: string): Thenable<string | undefined> {
  return vscode.window.showInputBox({
    title: "UzonCalc: remote sandbox URL",
    prompt: "The address of your team's sandbox service (`uzoncalc serve`), as your team lead gave it.",
    placeHolder: "https://sandbox.example.com",
    value: current,
    ignoreFocusOut: true,
    validateInput: (text) => {
      const value = text.trim();
      if (value === "") return "Enter the service's address, such as https://sandbox.example.com.";
      try {
        const url = new URL(value);
        return url.protocol === "http:" || url.protocol === "https:" ? undefined : `An http:// or https:// address, not ${url.protocol}`;
      } catch {
        return "Not an address: it should read like https://sandbox.example.com.";
      }
    },
  });
}

function askToken(refused: boolean): Thenable<string | undefined> {
  return vscode.window.showInputBox({
    title: "UzonCalc: remote sandbox token",
    prompt: refused
      ? "The service did not accept the token saved for it. Enter the one your team lead gave you (kept in VS Code's secret storage)."
      : "The service asks for a token. Enter the one your team lead gave you (kept in VS Code's secret storage, never in settings).",
    password: true,
    ignoreFocusOut: true,
    validateInput: (text) => (text.trim() === "" ? "The service will not answer without its token." : undefined),
  });
}

/**
 * Asks and checks until the remote sandbox answers this user; true when sheets can run there. Cancelling any
 * question, or choosing to stay local when the service cannot be reached, gives false and changes no mode.
 */
export async function setUpRemote(setup: RemoteSetup): Promise<boolean> {
  let url = setup.config.remoteUrl;
  for (;;) {
    if (url === "") {
      const entered = await askUrl("");
      if (entered === undefined) return false;
      url = entered.trim();
      await setup.config.setRemoteUrl(url);
    }
    const answer = await probe(url, await setup.token.get());
    if (answer.ok) {
      setup.log(`remote sandbox at ${url}: healthy, and it accepts this user`);
      return true;
    }
    if (answer.problem === "token") {
      const token = await askToken(answer.hadToken);
      if (token === undefined) return false;
      await setup.token.set(token.trim());
      continue;
    }
    setup.log(`remote sandbox at ${url}: ${answer.message}`);
    const choice = await vscode.window.showErrorMessage(
      `UzonCalc: no sandbox answers at ${url}. ${answer.message}`,
      "Change URL",
      "Stay Local",
    );
    if (choice !== "Change URL") return false;
    const entered = await askUrl(url);
    if (entered === undefined) return false;
    url = entered.trim();
    await setup.config.setRemoteUrl(url);
  }
}
