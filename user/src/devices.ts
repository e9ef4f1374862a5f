import type { Store } from '@mart/shared'
import { and, eq, gt, lte, or, sql } from 'drizzle-orm'
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3'
import type * as schema from './db/schema.ts'
import { deviceTokens } from './db/schema.ts'
import { hashOpaqueToken, newOpaqueToken } from './tokens.ts'

type Db = Store<typeof schema>

/** A client that proved, with a live device token of the account, that it logged in before. */
export interface Device {
  token: string
  /** Names the device to the per-device counter; never leaves the process. */
  key: string
}

// Enough for every browser and app a person uses; a script that logs in without keeping its
// token would otherwise add a row per login for DEVICE_TOKEN_TTL_DAYS.
const DEVICES_PER_ACCOUNT = 20

/** The device tokens of OWASP's "device cookies" scheme: issued at login, bound to one account. */
export class Devices {
  constructor(
    private readonly store: Db,
    private readonly ttlMs: number,
  ) {}

  /** The device behind `token` if it is a live token of `userId`; anything else is no device. */
  recognise(token: string | undefined, userId: string | undefined): Device | null {
    if (!token || !userId) return null
    const key = hashOpaqueToken(token)
    const row = this.store.db
      .select({ userId: deviceTokens.userId })
      .from(deviceTokens)
      .where(and(eq(deviceTokens.tokenHash, key), gt(deviceTokens.expiresAt, Date.now())))
      .get()
    return row?.userId === userId ? { token, key } : null
  }

  /**
   * After a right password: the device's token, its life started again, or a new one for a
   * client that had none. Expired tokens of the account, and the oldest beyond the cap, go.
   */
  trust(userId: string, device: Device | null): string {
    const now = Date.now()
    const expiresAt = now + this.ttlMs
    if (device) {
      this.store.db
        .update(deviceTokens)
        .set({ expiresAt })
        .where(eq(deviceTokens.tokenHash, device.key))
        .run()
      return device.token
    }
    const token = newOpaqueToken()
    this.store.sqlite.transaction(() => {
      const { db } = this.store
      db.insert(deviceTokens)
        .values({ tokenHash: hashOpaqueToken(token), userId, createdAt: now, expiresAt })
        .run()
      const newest = db
        .select({ tokenHash: deviceTokens.tokenHash })
        .from(deviceTokens)
        .where(eq(deviceTokens.userId, userId))
        .orderBy(sql`${deviceTokens.expiresAt} DESC`)
        .limit(DEVICES_PER_ACCOUNT)
      db.delete(deviceTokens)
        .where(
          and(
            eq(deviceTokens.userId, userId),
            or(lte(deviceTokens.expiresAt, now), sql`${deviceTokens.tokenHash} NOT IN ${newest}`),
          ),
        )
        .run()
    })()
    return token
  }
}

/** Drops every device token of a user (password changed, account disabled), in the caller's transaction. */
export function forgetDevices(db: BetterSQLite3Database<typeof schema>, userId: string): void {
  db.delete(deviceTokens).where(eq(deviceTokens.userId, userId)).run()
}
