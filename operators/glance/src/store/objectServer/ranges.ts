/** HTTP Range for GetObject, as S3 reads it: one byte range (RFC 9110 §14.1.2); pure. */
export type RangeChoice = { start: number; end: number } | 'whole' | 'unsatisfiable';

/**
 * The bytes `header` asks of an object of `size` bytes, `end` inclusive. As S3: no header, a header it does
 * not understand, or several ranges → the whole object; a range starting at or past the end → unsatisfiable
 * (416 InvalidRange); an end past the object is cut to its last byte.
 */
export function rangeOf(header: string | undefined, size: number): RangeChoice {
  const m = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!m || (m[1] === '' && m[2] === '')) return 'whole';
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    return size === 0 ? 'unsatisfiable' : { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return 'whole'; // syntactically invalid: ignored, as HTTP says
  return start >= size ? 'unsatisfiable' : { start, end };
}
