/**
 * A process `stratus up` supervises stops with it, however it ends (kill -9 included): its stdin is a pipe from
 * the parent (STRATUS_PARENT_PIPE=1), which the kernel closes when the parent dies. This process then stops
 * as on SIGTERM, and for good after `graceMs` if that does not end it.
 */
export function stopWithParent(graceMs = 15_000): void {
  if (process.env.STRATUS_PARENT_PIPE !== '1') return;
  let gone = false;
  const parentGone = () => {
    if (gone) return;
    gone = true;
    process.kill(process.pid, 'SIGTERM');
    setTimeout(() => process.exit(1), graceMs).unref();
  };
  process.stdin.on('end', parentGone);
  process.stdin.on('close', parentGone);
  process.stdin.on('error', parentGone);
  process.stdin.resume();
  // The pipe keeps no event loop alive by itself: a process that is done may still end.
  (process.stdin as unknown as { unref?: () => void }).unref?.();
}
