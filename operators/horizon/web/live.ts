/**
 * Live lists: a list read once through the API, then kept current from the dashboard's server-sent events
 * (one stream for the whole page): each change re-reads just that object, so what is shown is always what the
 * API shows its user.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { LiveOrder } from '../src/shared/liveOrder';
import { BASE } from './api';

export { LiveOrder };

export interface LiveChange {
  kind: string;
  id: string;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  rv: string;
  at: number;
}

type Listener = (c: LiveChange) => void;
const listeners = new Set<Listener>();
let source: EventSource | undefined;

export function openLive(): void {
  if (source) return;
  source = new EventSource(`${BASE}/api/live`);
  source.addEventListener('change', (e) => {
    const change = JSON.parse((e as MessageEvent<string>).data) as LiveChange;
    for (const l of listeners) l(change);
  });
  source.addEventListener('ready', () => document.body.setAttribute('data-live', 'open'));
}

export function closeLive(): void {
  source?.close();
  source = undefined;
  document.body.removeAttribute('data-live');
}

export function useLiveChanges(kind: string, onChange: (c: LiveChange) => void): void {
  const ref = useRef(onChange);
  ref.current = onChange;
  useEffect(() => {
    const l: Listener = (c) => c.kind === kind && ref.current(c);
    listeners.add(l);
    return () => void listeners.delete(l);
  }, [kind]);
}

export interface LiveList<T> {
  items: T[] | undefined;
  error?: string;
  reload(): void;
}

/** A list kept live: `load` reads it all, `loadOne` one object (undefined when the user may no longer see it). */
export function useLiveList<T extends { id: string }>(kind: string, load: () => Promise<T[]>, loadOne: (id: string) => Promise<T | undefined>, deps: unknown[] = []): LiveList<T> {
  const [items, setItems] = useState<T[] | undefined>();
  const [error, setError] = useState<string>();
  const [order] = useState(() => new LiveOrder());
  const reload = useCallback(() => {
    const since = order.now();
    load().then(
      (list) => (setItems((shown) => order.mergeList(list, since, shown)), setError(undefined)),
      (e: Error) => setError(e.message),
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  useEffect(reload, [reload]);
  const shown = useRef<T[] | undefined>(undefined);
  shown.current = items;
  useLiveChanges(kind, (c) => {
    const at = order.changed(c.id, c.type === 'DELETED');
    const drop = () => setItems((list) => list?.filter((x) => x.id !== c.id));
    if (c.type === 'DELETED') return drop();
    // The API answers from its own watch, which may be a moment behind the dashboard's: an answer that shows
    // nothing new is asked again, a few times, briefly (this object only, never a poll of the list). An answer
    // overtaken by a later change of the object (its deletion above all) is not shown.
    const read = (retries: number[]) =>
      loadOne(c.id).then(
        (one) => {
          if (!order.current(c.id, at)) return;
          if (!one) return drop();
          const before = shown.current?.find((x) => x.id === one.id);
          if (c.type === 'MODIFIED' && before && JSON.stringify(before) === JSON.stringify(one) && retries.length) return void setTimeout(() => read(retries.slice(1)), retries[0]);
          setItems((list) => (list ? (list.some((x) => x.id === one.id) ? list.map((x) => (x.id === one.id ? one : x)) : [one, ...list]) : list));
        },
        () => undefined,
      );
    read([50, 250, 1000]);
  });
  return { items, error, reload };
}
