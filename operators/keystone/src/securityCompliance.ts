/**
 * Keystone's [security_compliance] account rules, pure: locking an account after repeated failed sign-ins
 * (lockout_failure_attempts, lockout_duration) and refusing a self-service password change to one of the last
 * passwords (unique_last_password_count). Off unless set, as in Keystone.
 */

export interface SecurityCompliance {
  /** Failed password sign-ins in a row that lock the account; 0: never locked. */
  lockoutFailureAttempts: number;
  /** How long a locked account stays locked after its last failure, in seconds; 0: until an admin enables it again. */
  lockoutDurationSeconds: number;
  /** How many of the last passwords (the current one counted) a user's own change may not go back to; 0: any. */
  uniqueLastPasswordCount: number;
}

export const NO_SECURITY_COMPLIANCE: SecurityCompliance = { lockoutFailureAttempts: 0, lockoutDurationSeconds: 1800, uniqueLastPasswordCount: 0 };

/** How many earlier password hashes a user's credential keeps: the rule's count less the current one. */
export const keptHistory = (s: SecurityCompliance): number => Math.max(0, s.uniqueLastPasswordCount - 1);

/** The settings from KEYSTONE_LOCKOUT_FAILURE_ATTEMPTS, KEYSTONE_LOCKOUT_DURATION_SECONDS and KEYSTONE_UNIQUE_LAST_PASSWORD_COUNT; a value that is not a whole number of 0 or more is refused. */
export function securityComplianceFromEnv(env: NodeJS.ProcessEnv): SecurityCompliance {
  const read = (name: string, fallback: number) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    if (!/^\d+$/.test(raw.trim())) throw new Error(`${name} must be a whole number of 0 or more, not "${raw}"`);
    return Number(raw);
  };
  return {
    lockoutFailureAttempts: read('KEYSTONE_LOCKOUT_FAILURE_ATTEMPTS', NO_SECURITY_COMPLIANCE.lockoutFailureAttempts),
    lockoutDurationSeconds: read('KEYSTONE_LOCKOUT_DURATION_SECONDS', NO_SECURITY_COMPLIANCE.lockoutDurationSeconds),
    uniqueLastPasswordCount: read('KEYSTONE_UNIQUE_LAST_PASSWORD_COUNT', NO_SECURITY_COMPLIANCE.uniqueLastPasswordCount),
  };
}

/** A user's failed sign-ins, as its status keeps them. */
export interface FailedSignIns {
  failedAuthCount?: number;
  /** RFC 3339: the last failure. */
  failedAuthAt?: string;
}

/** Whether the account is locked now (Keystone's _is_account_locked): as many failures as allowed, the last within the duration. */
export function isLocked(s: SecurityCompliance, f: FailedSignIns, nowMs: number): boolean {
  if (!s.lockoutFailureAttempts || (f.failedAuthCount ?? 0) < s.lockoutFailureAttempts) return false;
  if (!s.lockoutDurationSeconds) return true;
  return Date.parse(f.failedAuthAt ?? '') + s.lockoutDurationSeconds * 1000 > nowMs;
}

/**
 * The counters after a failed sign-in (none to keep when lockout is off). A lock that has run out starts the
 * count again, as Keystone resets it when it finds the lock expired.
 */
export function afterFailure(s: SecurityCompliance, f: FailedSignIns, nowMs: number): FailedSignIns | undefined {
  if (!s.lockoutFailureAttempts) return undefined;
  const expired = (f.failedAuthCount ?? 0) >= s.lockoutFailureAttempts && !isLocked(s, f, nowMs);
  return { failedAuthCount: (expired ? 0 : (f.failedAuthCount ?? 0)) + 1, failedAuthAt: new Date(nowMs).toISOString() };
}

/** Keystone's AccountLocked message. */
export const accountLockedMessage = (userId: string) => `The account is locked for user: ${userId}.`;
/** Keystone's PasswordHistoryValidationError message. */
export const passwordReusedMessage = (s: SecurityCompliance) =>
  `The new password cannot be identical to a previous password. The total number which includes the new password must be unique is ${s.uniqueLastPasswordCount}.`;
