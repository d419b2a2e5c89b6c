/**
 * libvirt through its own command-line client, virsh: every call names the connection URI, and a failure
 * becomes a LibvirtError that says which command failed, why, and whether the domain simply is not there.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export class LibvirtError extends Error {
  constructor(
    readonly command: string[],
    /** libvirt's own message, without virsh's "error: " prefixes. */
    readonly detail: string,
    readonly kind: 'NotFound' | 'InvalidState' | 'Failed',
  ) {
    super(`virsh ${command.join(' ')}: ${detail}`);
    this.name = 'LibvirtError';
  }
}

/** What a failure means: the domain (or the metadata asked of it: a guest Stratus did not make) is not there, … */
export const kindOf = (detail: string): LibvirtError['kind'] =>
  /failed to get domain|Domain not found|no domain with matching|metadata not found/i.test(detail) ? 'NotFound' : /Requested operation is not valid|domain is not running|is already active|not paused/i.test(detail) ? 'InvalidState' : 'Failed';

export class Virsh {
  constructor(readonly uri: string) {}

  /** Runs one virsh command; resolves with its standard output. */
  run(...args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile('virsh', ['-q', '-c', this.uri, ...args], { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        const detail = (stderr || err.message)
          .split('\n')
          .map((l) => l.replace(/^error:\s*/, '').trim())
          .filter(Boolean)
          .join('; ');
        reject(new LibvirtError(args, detail, kindOf(detail)));
      });
    });
  }

  /** Like run, but a missing domain (or, with `alsoFine`, a domain in the wrong state) is not an error. */
  async tolerant(alsoFine: Array<LibvirtError['kind']>, ...args: string[]): Promise<string | undefined> {
    try {
      return await this.run(...args);
    } catch (e) {
      if (e instanceof LibvirtError && (e.kind === 'NotFound' || alsoFine.includes(e.kind))) return undefined;
      throw e;
    }
  }

  /**
   * Follows domain lifecycle events (`virsh event --loop`), calling `onEvent` with the domain's name and the
   * event, until stopped; if libvirtd goes away the stream is started again, backing off.
   */
  lifecycleEvents(onEvent: (domain: string, event: string) => void, onError: (err: Error) => void): { stop(): void } {
    let child: ChildProcess | undefined;
    let stopped = false;
    let delay = 500;
    const begin = () => {
      child = spawn('virsh', ['-c', this.uri, 'event', '--loop', '--event', 'lifecycle'], { stdio: ['ignore', 'pipe', 'pipe'] });
      const started = Date.now();
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const m = /^event 'lifecycle' for domain '(.+)': (.+)$/.exec(line.trim());
        if (m) onEvent(m[1], m[2]);
      });
      child.on('exit', (code) => {
        if (stopped) return;
        if (Date.now() - started > 10_000) delay = 500;
        onError(new Error(`virsh event exited with ${code}; following events again in ${delay} ms`));
        setTimeout(() => !stopped && begin(), delay).unref();
        delay = Math.min(delay * 2, 30_000);
      });
    };
    begin();
    return {
      stop() {
        stopped = true;
        child?.kill();
      },
    };
  }
}
