import type { Logger } from '@mart/shared'
import type { Users } from './users.ts'

// What the first admin is called unless ADMIN_USERNAME / ADMIN_EMAIL say otherwise.
export const DEFAULT_ADMIN = { username: 'admin', email: 'admin@mart.local' }
// A development-only admin password, printed once when it is used.
const DEV_ADMIN_PASSWORD = 'mart-admin-dev'

const ADMIN_VARIABLES = ['ADMIN_USERNAME', 'ADMIN_EMAIL', 'ADMIN_PASSWORD'] as const
export type AdminSettings = Partial<Record<(typeof ADMIN_VARIABLES)[number], string>>

/**
 * Seeds the admin from ADMIN_* when no admin exists (the first start). Later starts ignore ADMIN_*
 * and say so, naming the variables that are set (never a value): an operator who changes them
 * expecting a new admin or password learns why nothing happened.
 */
export function seedFirstAdmin(
  users: Users,
  settings: AdminSettings,
  opts: { production: boolean; log: Logger },
) {
  if (users.hasAdmin()) {
    const ignored = ADMIN_VARIABLES.filter((name) => settings[name] !== undefined)
    if (ignored.length > 0) {
      opts.log.warn(
        { variables: ignored },
        `${ignored.join(', ')} ignored: an admin already exists, and ADMIN_* only seed the first one (change an admin through the API)`,
      )
    }
    return
  }
  if (!settings.ADMIN_PASSWORD && opts.production) {
    throw new Error('ADMIN_PASSWORD is required in production to seed the first admin')
  }
  const seeded = users.seedAdmin({
    username: settings.ADMIN_USERNAME ?? DEFAULT_ADMIN.username,
    email: settings.ADMIN_EMAIL ?? DEFAULT_ADMIN.email,
    password: settings.ADMIN_PASSWORD ?? DEV_ADMIN_PASSWORD,
  })
  if (seeded && !settings.ADMIN_PASSWORD) {
    // Printed, not logged: logs never carry a password, even a public development one.
    console.warn(
      `user: seeded the admin "${seeded.username}" with the development password "${DEV_ADMIN_PASSWORD}"; set ADMIN_PASSWORD`,
    )
  }
}
