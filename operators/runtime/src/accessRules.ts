/**
 * Application credential access rules, as keystonemiddleware enforces them in every service: a token made
 * with such a credential may make only the calls a rule names (service type, method, path). In a rule's path
 * `*` and `{name}` stand for one path segment and `**` for any rest, slashes included.
 */

export interface AccessRule {
  service: string;
  method: string;
  path: string;
}

/** The header a service sends when validating a token, to say it enforces access rules (and which version). */
export const ACCESS_RULES_HEADER = 'OpenStack-Identity-Access-Rules';
export const ACCESS_RULES_VERSION = '1.0';

type Piece = { literal: string } | { one: true } | { any: true };

function piecesOf(pattern: string): Piece[] {
  const pieces: Piece[] = [];
  for (let i = 0; i < pattern.length; ) {
    if (pattern.startsWith('**', i)) {
      pieces.push({ any: true });
      i += 2;
    } else if (pattern[i] === '*') {
      pieces.push({ one: true });
      i += 1;
    } else if (pattern[i] === '{' && pattern.indexOf('}', i) > i) {
      pieces.push({ one: true });
      i = pattern.indexOf('}', i) + 1;
    } else {
      pieces.push({ literal: pattern[i] });
      i += 1;
    }
  }
  return pieces;
}

/**
 * Whether `path` matches the rule's `pattern`. A table over (piece, position) rather than a regular
 * expression built from the pattern, so a pattern full of wildcards costs its length times the path's, never
 * more (a rule is user input).
 */
export function pathMatches(pattern: string, path: string): boolean {
  const pieces = piecesOf(pattern);
  // at[j]: the pieces so far can end just before path[j].
  let at = new Array<boolean>(path.length + 1).fill(false);
  at[0] = true;
  for (const piece of pieces) {
    const next = new Array<boolean>(path.length + 1).fill(false);
    if ('literal' in piece) {
      for (let j = 0; j < path.length; j++) if (at[j] && path[j] === piece.literal) next[j + 1] = true;
    } else if ('one' in piece) {
      // One or more characters, none a slash.
      for (let j = 0; j < path.length; j++) next[j + 1] = path[j] !== '/' && (at[j] || next[j]);
    } else {
      // Any run, empty included.
      let reached = false;
      for (let j = 0; j <= path.length; j++) {
        reached = reached || at[j];
        next[j] = reached;
      }
    }
    at = next;
  }
  return at[path.length];
}

/** Whether a request to `service` is one of the rules'. */
export function accessRuleAllows(rules: readonly AccessRule[], service: string, method: string, path: string): boolean {
  return rules.some((r) => r.service === service && r.method === method.toUpperCase() && pathMatches(r.path, path));
}
