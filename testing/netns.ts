/**
 * Network namespaces for the network tests: each test that reaches the host's network stack
 * makes its own namespace (`ip netns add`), puts a TAP device in it, sends its traffic only
 * there, and deletes it at the end, so nothing leaves for any other address. Needs root and
 * iproute2 (and iputils ping for tests that ping from the host).
 *
 * @module
 */

import { privilegeRequirement, type Requirement, toolRequirement } from "./requirements.ts";

/** Root: making a namespace and a TAP device needs CAP_NET_ADMIN. */
export function rootRequirement(): Requirement {
  let root = false;
  try {
    root = Deno.uid() === 0;
  } catch {
    // Without --allow-sys nobody can tell; treat it as not root.
  }
  return privilegeRequirement(
    "root (CAP_NET_ADMIN)",
    root,
    "network namespace and TAP tests run as root only (CI is root)",
  );
}

/** iproute2's `ip`. */
export function ipRequirement(): Requirement {
  return toolRequirement("ip", "sudo apt-get install iproute2", ["-V"]);
}

/** iputils' `ping`. */
export function pingRequirement(): Requirement {
  return toolRequirement("ping", "sudo apt-get install iputils-ping", ["-V"]);
}

/** What a command printed and how it ended. */
export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `command args...` to completion. */
export async function run(command: string, args: readonly string[]): Promise<CommandResult> {
  const out = await new Deno.Command(command, { args: [...args], stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

/** Runs `ip args...` and throws with its message unless it succeeds. */
export async function ip(...args: string[]): Promise<string> {
  const r = await run("ip", args);
  if (r.code !== 0) throw new Error(`ip ${args.join(" ")} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** A network namespace of the test's own, deleted when disposed. */
export class NetNamespace implements AsyncDisposable {
  /** Its name (`vmkit-<what>-<pid>-<random>`). */
  readonly name: string;

  private constructor(name: string) {
    this.name = name;
  }

  /** Makes a namespace with its loopback up. */
  static async create(what: string): Promise<NetNamespace> {
    const name = `vmkit-${what}-${Deno.pid}-${crypto.getRandomValues(new Uint32Array(1))[0]}`;
    await ip("netns", "add", name);
    const ns = new NetNamespace(name);
    try {
      await ip("-n", name, "link", "set", "lo", "up");
    } catch (e) {
      await ns[Symbol.asyncDispose]();
      throw e;
    }
    return ns;
  }

  /** The argument list that runs `command args...` inside the namespace. */
  exec(command: string, ...args: string[]): string[] {
    return ["netns", "exec", this.name, command, ...args];
  }

  /** Runs `command args...` inside the namespace to completion. */
  run(command: string, ...args: string[]): Promise<CommandResult> {
    return run("ip", this.exec(command, ...args));
  }

  /** `ip -n <ns> args...`; throws unless it succeeds. */
  ip(...args: string[]): Promise<string> {
    return ip("-n", this.name, ...args);
  }

  /** Deletes the namespace (and every interface still in it). */
  async [Symbol.asyncDispose](): Promise<void> {
    await run("ip", ["netns", "del", this.name]);
  }
}
