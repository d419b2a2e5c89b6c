/** The processes of a running cloud, as /proc shows them: for tests that kill, count or inspect them. */
import { readdirSync, readFileSync } from 'node:fs';

/** A process's parent and state letter, or undefined once it is gone. */
function statOf(pid: number): { parent: number; state: string } | undefined {
  try {
    const [state, parent] = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return { parent: Number(parent), state };
  } catch {
    return undefined; // gone meanwhile
  }
}

const allPids = () => readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number);

/** Its command line, arguments separated by spaces; empty once it is gone (it may end while it is being listed). */
export const commandOf = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
};

/** Whether it is still there (a zombie is not: it has finished). */
export const alive = (pid: number) => ![undefined, 'Z'].includes(statOf(pid)?.state);

/** Its children. */
export const childrenOf = (pid: number) => allPids().filter((p) => statOf(p)?.parent === pid);

/** Every process below it. */
export const descendantsOf = (pid: number): number[] => childrenOf(pid).flatMap((child) => [child, ...descendantsOf(child)]);
