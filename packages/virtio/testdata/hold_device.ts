/**
 * A device type for transport and queue tests: it takes every available chain on a
 * notification and holds it until the test completes it, and has an 8-byte configuration
 * space the test can change.
 *
 * @module
 */

import type { DescriptorChain, VirtioDevice, VirtioHost } from "../mod.ts";

export class HoldDevice implements VirtioDevice {
  readonly deviceId = 0x2a;
  readonly features: bigint;
  readonly queueSizes: readonly number[];
  readonly configSize = 8;
  readonly config = new Uint8Array(8);
  readonly held: DescriptorChain[] = [];
  /** The queue each held chain came from. */
  readonly heldFrom: number[] = [];
  notifications: number[] = [];
  resets = 0;
  host!: VirtioHost;

  constructor(queueSizes: readonly number[] = [8], features = 0n) {
    this.queueSizes = queueSizes;
    this.features = features;
  }

  attach(host: VirtioHost): void {
    this.host = host;
  }

  readConfig(offset: number, size: number): number {
    const v = new DataView(this.config.buffer);
    return size === 1
      ? v.getUint8(offset)
      : size === 2
      ? v.getUint16(offset, true)
      : v.getUint32(offset, true);
  }

  writeConfig(offset: number, size: number, value: number): void {
    const v = new DataView(this.config.buffer);
    if (size === 1) v.setUint8(offset, value);
    else if (size === 2) v.setUint16(offset, value, true);
    else v.setUint32(offset, value, true);
  }

  notify(queue: number): void {
    this.notifications.push(queue);
    const q = this.host.queues[queue];
    for (let c = q.pop(); c !== null; c = q.pop()) {
      this.held.push(c);
      this.heldFrom.push(queue);
    }
  }

  reset(): void {
    this.resets++;
  }

  /** Completes the oldest held chain, writing `data` into its writable part. */
  complete(data: Uint8Array = new Uint8Array(0)): boolean {
    const chain = this.held.shift()!;
    const queue = this.heldFrom.shift()!;
    const n = chain.write(0, data);
    return this.host.queues[queue].push(chain, n);
  }

  /** Removes the oldest held chain without completing it. */
  take(): DescriptorChain {
    this.heldFrom.shift();
    return this.held.shift()!;
  }

  /** Bumps the configuration. */
  change(): void {
    this.config[0]++;
    this.host.configChanged();
  }
}
