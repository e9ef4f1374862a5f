import { audit, type Logger, unauthorized } from '@mart/shared'
import type { Devices } from './devices.ts'
import type { LoginThrottle } from './login-throttle.ts'
import type { UserRow, Users } from './users.ts'

export interface Credentials {
  username?: string
  email?: string
  password: string
}

export interface Client {
  address: string
  /** The device token it sent (body field or cookie), if any. */
  deviceToken?: string
  /** The request's logger, for the audit lines of a failure or a lockout. */
  log: Logger
}

/**
 * Who is logging in: the attempt counted first (per address, and per account or per device), then
 * one answer for every wrong case. A right password makes the client a trusted device of the
 * account: it answers the device token to hand back.
 */
export class Login {
  constructor(
    private readonly users: Users,
    private readonly devices: Devices,
    private readonly throttle: LoginThrottle,
  ) {}

  async attempt(credentials: Credentials, client: Client): Promise<{ user: UserRow; deviceToken: string }> {
    // From here to the count, nothing awaits: parallel guesses are counted one by one.
    const account = this.users.byLogin(credentials)
    const device = this.devices.recognise(client.deviceToken, account?.id)
    // An unknown identifier has a counter of its own, so that it answers as an account would.
    const counter =
      account?.id ?? `unknown:${(credentials.email ?? credentials.username ?? '').toLowerCase()}`
    const attempt = this.throttle.login(client.address, counter, device?.key ?? null)
    let user: UserRow | null
    try {
      user = await this.users.authenticate(account, credentials.password)
    } catch (err) {
      // Never checked (the hasher was busy): not a guess.
      attempt.refund()
      throw err
    }
    if (!user) {
      // The account when there is one; what was typed otherwise stays out of the log (it may be
      // a password typed in the wrong field).
      const target = account?.id
      audit(client.log, 'login.failed', { target, address: client.address })
      const lockout = attempt.failed()
      if (lockout) audit(client.log, 'lockout', { target, address: client.address, ...lockout })
      throw unauthorized('wrong username, email or password')
    }
    attempt.refund()
    return { user, deviceToken: this.devices.trust(user.id, device) }
  }
}
