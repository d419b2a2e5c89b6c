/** Test support: OVN's central daemons (northbound and southbound databases, ovn-northd) in a folder of the test's own. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '@stratus/apiserver';
import { OvsdbClient, centralDaemons, ovnLayout, prepareCentral, type OvnLayout } from '../src/index.js';

export interface OvnCentral {
  layout: OvnLayout;
  /** The daemons by name: ovsdb-nb, ovsdb-sb, ovn-northd. */
  processes: Map<string, ChildProcess>;
  /** Starts a daemon again (after a test killed it). */
  restart(name: string): void;
  stop(): Promise<void>;
}

export async function startOvnCentral(): Promise<OvnCentral> {
  const dir = mkdtempSync(join(tmpdir(), 'ovn-'));
  const layout = ovnLayout(dir);
  await prepareCentral(layout);
  const specs = new Map(centralDaemons(layout).map((d) => [d.name, d]));
  const processes = new Map<string, ChildProcess>();
  const start = (name: string) => {
    const d = specs.get(name)!;
    processes.set(name, spawn(d.command, d.args, { env: { ...process.env, ...d.env }, stdio: 'ignore' }));
  };
  for (const name of specs.keys()) start(name);
  const probe = new OvsdbClient({ remote: layout.nbRemote, database: 'OVN_Northbound' }).start();
  await probe.ready(30_000);
  probe.close();
  return {
    layout,
    processes,
    restart: start,
    async stop() {
      for (const p of processes.values()) p.kill('SIGTERM');
      await eventually('the OVN daemons to exit', () => [...processes.values()].every((p) => p.exitCode !== null || p.signalCode !== null), 30_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs ovn-nbctl against the test's northbound database (as a person would, to make drift). */
export async function nbctl(layout: OvnLayout, ...args: string[]): Promise<string> {
  const { execFile } = await import('node:child_process');
  return new Promise((resolve, reject) => execFile('ovn-nbctl', [`--db=${layout.nbRemote}`, ...args], (e, out, err) => (e ? reject(new Error(`ovn-nbctl ${args.join(' ')}: ${err}`)) : resolve(out))));
}
