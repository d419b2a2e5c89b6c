/**
 * A CPU profile of one phase of a benchmark (`--profile FILE`): the phase alone, without start-up and
 * baselines, in the .cpuprofile format Chrome DevTools and speedscope open.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

export async function profiled<T>(file: string | undefined, phase: () => Promise<T>): Promise<T> {
  if (!file) return phase();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await phase();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
    console.log(`CPU profile of the measured phase: ${file}`);
  }
}
