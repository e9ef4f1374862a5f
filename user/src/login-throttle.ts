import { HttpProblem, RateLimiter } from '@mart/shared'

export interface LoginLimits {
  /** Wrong passwords per counter (an account's untrusted clients, one device) per window. */
  maxFailures: number
  failureWindowMs: number
  /** Attempts per client address per window, right or wrong. */
  maxPerAddress: number
  addressWindowMs: number
}

/** Which counter a wrong password ran out: the lockout it started. */
export type Lockout = 'untrusted_clients' | 'device' | 'current_password'

/**
 * Password guessing limits, after OWASP's "Slow Down Online Guessing Attacks with Device Cookies".
 * Wrong passwords count per account, whatever identifier named it. A client without a device token
 * of the account counts against the account's untrusted clients, and when those are locked out a
 * device that logged in to it before still gets in, on its own counter: an attacker can lock out
 * every client but the victim's. Every attempt is counted before its password is checked, with no
 * await between check and count; a right password gives its attempt back.
 */
export class LoginThrottle {
  private readonly byAddress: RateLimiter
  private readonly untrusted: RateLimiter
  private readonly perDevice: RateLimiter
  private readonly reauthentication: RateLimiter

  constructor(limits: LoginLimits) {
    this.byAddress = new RateLimiter(limits.maxPerAddress, limits.addressWindowMs)
    this.untrusted = new RateLimiter(limits.maxFailures, limits.failureWindowMs)
    this.perDevice = new RateLimiter(limits.maxFailures, limits.failureWindowMs)
    this.reauthentication = new RateLimiter(limits.maxFailures, limits.failureWindowMs)
  }

  /**
   * A login attempt from `address` for `account` (an account id, or the unknown identifier as
   * typed, lower-cased), from the device `device` names if it proved one. Throws 429 when refused.
   */
  login(address: string, account: string, device: string | null): Attempt {
    const fromAddress = this.byAddress.take(address)
    if (!fromAddress.taken) throw tooManyAttempts(fromAddress.retryAfter)
    try {
      return device
        ? Attempt.take(this.perDevice, device, 'device')
        : Attempt.take(this.untrusted, account, 'untrusted_clients')
    } catch (err) {
      // Refused for the account or the device: no password is checked, and the address keeps
      // its attempt for another account.
      this.byAddress.refund(address)
      throw err
    }
  }

  /** A signed-in user's currentPassword, guessed as at login. Throws 429 when refused. */
  recheck(userId: string): Attempt {
    return Attempt.take(this.reauthentication, userId, 'current_password')
  }
}

/** One counted attempt, settled once its password has been checked. */
export class Attempt {
  private constructor(
    private readonly counter: RateLimiter,
    private readonly key: string,
    private readonly left: number,
    readonly scope: Lockout,
  ) {}

  /** Counts an attempt on `counter`, or throws 429 with Retry-After when its window is full. */
  static take(counter: RateLimiter, key: string, scope: Lockout): Attempt {
    const t = counter.take(key)
    if (!t.taken) throw tooManyAttempts(t.retryAfter)
    return new Attempt(counter, key, t.left, scope)
  }

  /** The password was right, or never checked (the service was busy): the attempt does not count. */
  refund(): void {
    this.counter.refund(this.key)
  }

  /**
   * The password was wrong: it stays counted. Answers the lockout it started, if it was the last
   * one allowed: what is locked out, and for how many seconds.
   */
  failed(): { scope: Lockout; seconds: number } | null {
    return this.left === 0 ? { scope: this.scope, seconds: this.counter.retryAfter(this.key) } : null
  }
}

export const tooManyAttempts = (seconds: number) =>
  new HttpProblem('too-many-requests', 'too many attempts; try again later', {
    headers: { 'retry-after': String(seconds) },
  })
