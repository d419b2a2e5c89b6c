/** Status conditions as kstatus reads them: Ready, Reconciling, Stalled, each with observedGeneration. */

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export const READY = 'Ready';
export const RECONCILING = 'Reconciling';
export const STALLED = 'Stalled';

/** RFC 3339 at second precision, as Kubernetes stamps times. */
export const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * Sets one condition, like meta.SetStatusCondition: lastTransitionTime moves only when the status changes.
 * Returns a new list; the input is not modified.
 */
export function setCondition(conditions: Condition[] | undefined, c: Omit<Condition, 'lastTransitionTime'>, at = now()): Condition[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((x) => x.type === c.type);
  if (i < 0) return [...list, { ...c, lastTransitionTime: at }];
  const prev = list[i];
  list[i] = { ...c, lastTransitionTime: prev.status === c.status ? prev.lastTransitionTime : at };
  return list;
}

export const removeCondition = (conditions: Condition[] | undefined, type: string) => (conditions ?? []).filter((c) => c.type !== type);

export const findCondition = (conditions: Condition[] | undefined, type: string) => conditions?.find((c) => c.type === type);

export const isTrue = (conditions: Condition[] | undefined, type: string) => findCondition(conditions, type)?.status === 'True';

/** The object reached its desired state: Ready=True, and neither Reconciling nor Stalled. */
export function markReady(conditions: Condition[] | undefined, generation: number | undefined, reason: string, message: string): Condition[] {
  const set = setCondition(conditions, { type: READY, status: 'True', reason, message, observedGeneration: generation });
  return removeCondition(removeCondition(set, RECONCILING), STALLED);
}

/** Work is under way: Reconciling=True, Ready=False. */
export function markReconciling(conditions: Condition[] | undefined, generation: number | undefined, reason: string, message: string): Condition[] {
  const set = setCondition(conditions, { type: RECONCILING, status: 'True', reason, message, observedGeneration: generation });
  return removeCondition(setCondition(set, { type: READY, status: 'False', reason, message, observedGeneration: generation }), STALLED);
}

/** Progress is impossible without a change from outside: Stalled=True, Ready=False. */
export function markStalled(conditions: Condition[] | undefined, generation: number | undefined, reason: string, message: string): Condition[] {
  const set = setCondition(conditions, { type: STALLED, status: 'True', reason, message, observedGeneration: generation });
  return removeCondition(setCondition(set, { type: READY, status: 'False', reason, message, observedGeneration: generation }), RECONCILING);
}
