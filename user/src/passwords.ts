import { HttpProblem } from '@mart/shared'

export interface PasswordCost {
  /** argon2id memory in KiB. */
  memoryCost: number
  timeCost: number
}

export interface PasswordHasherOptions {
  cost: PasswordCost
  /** Hashes running at once. */
  concurrency: number
  /** Hashes waiting for a turn; one more is refused with 503. */
  queue: number
}

/** Checks started in a row, ahead of a waiting hash, before that hash gets its turn. */
const CHECKS_IN_A_ROW = 4

interface Job {
  run: () => Promise<unknown>
  resolve: (value: unknown) => void
  reject: (err: unknown) => void
}

/**
 * Every argon2id hash and check of the service. Each costs 64 MiB and about 0.1 s of a core, so at
 * most `concurrency` run at once, a bounded queue waits, and beyond it the request is refused
 * (503 with Retry-After) before anything is done: a flood of registrations cannot take every core,
 * nor memory. Checks (logins) go ahead of new hashes (registrations, password changes), so a
 * login waits for the hashes already running, never behind a queue of registrations; a check that
 * finds the queue full turns away the newest waiting hash instead of being turned away. So that a
 * steady stream of logins cannot starve registrations for ever, a waiting hash gets every
 * (CHECKS_IN_A_ROW + 1)th turn.
 */
export class PasswordHasher {
  private readonly checks: Job[] = []
  private readonly hashes: Job[] = []
  private running = 0
  private checksInARow = 0
  /** Mean duration of a job, for Retry-After; starts from the decoy's hash. */
  private meanMs: number
  // Checked when the account does not exist, so a wrong username costs as long as a wrong
  // password: the timing says nothing about which accounts exist.
  private readonly decoy: string

  constructor(private readonly opts: PasswordHasherOptions) {
    const started = performance.now()
    this.decoy = this.hashNow(crypto.randomUUID())
    this.meanMs = performance.now() - started
  }

  /** A new password's hash (registration, password change); queued behind every check. */
  hash(password: string): Promise<string> {
    return this.enqueue(this.hashes, () =>
      Bun.password.hash(password, { algorithm: 'argon2id', ...this.opts.cost }),
    )
  }

  /** Whether `password` matches `hash`; without a hash (no such account) a decoy is checked. */
  verify(password: string, hash: string | undefined): Promise<boolean> {
    return this.enqueue(this.checks, async () => {
      const ok = await Bun.password.verify(password, hash ?? this.decoy)
      return ok && hash !== undefined
    })
  }

  /** A hash on the spot, outside the queue: only at boot, before any request is served. */
  hashNow(password: string): string {
    return Bun.password.hashSync(password, { algorithm: 'argon2id', ...this.opts.cost })
  }

  private enqueue<T>(lane: Job[], run: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const job: Job = { run, resolve: resolve as (value: unknown) => void, reject }
      if (this.running < this.opts.concurrency) return this.start(job)
      if (this.checks.length + this.hashes.length >= this.opts.queue) {
        const displaced = lane === this.checks ? this.hashes.pop() : undefined
        if (!displaced) return reject(this.busy())
        displaced.reject(this.busy())
      }
      lane.push(job)
    })
  }

  private start(job: Job) {
    this.running++
    const started = performance.now()
    job
      .run()
      .then(job.resolve, job.reject)
      .finally(() => {
        this.meanMs = 0.8 * this.meanMs + 0.2 * (performance.now() - started)
        this.running--
        const next = this.next()
        if (next) this.start(next)
      })
  }

  private next(): Job | undefined {
    const hashWaits = this.hashes.length > 0
    if (this.checks.length > 0 && !(hashWaits && this.checksInARow >= CHECKS_IN_A_ROW)) {
      if (hashWaits) this.checksInARow++
      return this.checks.shift()
    }
    this.checksInARow = 0
    return this.hashes.shift()
  }

  /** 503: the seconds until the work ahead is likely done, at least 1. */
  private busy(): HttpProblem {
    const ahead = this.running + this.checks.length + this.hashes.length
    const seconds = Math.max(1, Math.ceil((ahead * this.meanMs) / this.opts.concurrency / 1000))
    return new HttpProblem('unavailable', 'too many passwords are being checked; try again shortly', {
      headers: { 'retry-after': String(seconds) },
    })
  }
}
