// `bun run test` finds or starts its Kafka (scripts/with-kafka.ts). With the broker's ports taken by
// something that is not our broker, it starts one of its own on free ports instead of giving up.
// These start a real broker: about 10 s each on a 2-core machine.
import { describe, expect, test } from 'bun:test'
import { existsSync } from 'node:fs'
import { tempDir } from '@mart/shared/testing'
import { Kafka, logLevel } from 'kafkajs'
import { holdFreePort, inUse } from '../ports.ts'
import { withKafka } from '../with-kafka.ts'

const hasJava = Boolean(Bun.which('java') && Bun.which('mvn'))
if (!hasJava && process.env.CI !== 'true')
  console.warn('\n!!! SKIPPED (no Java/Maven): the Kafka launcher tests\n')

describe.skipIf(!hasJava && process.env.CI !== 'true')('the Kafka of bun run test', () => {
  for (const [what, portFor] of [
    ['the broker port', (taken: number) => taken],
    ['the controller port', (taken: number) => taken - 1],
  ] as const) {
    test(`with ${what} taken by another process, it runs a broker of its own on free ports and stops it after`, async () => {
      const other = holdFreePort()
      // The home `bun run kafka start` would use: no broker of ours runs there.
      const home = tempDir('mart-kafka-home-')
      const kafkaPort = portFor(other.port)
      try {
        const kafka = withKafka({
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          KAFKA_PORT: String(kafkaPort),
          KAFKA_HOME_DIR: home.dir,
        })
        const brokers = kafka.brokers as string
        let ownHome: string | undefined
        try {
          expect(brokers).toMatch(/^127\.0\.0\.1:\d+$/)
          expect(brokers).not.toBe(`127.0.0.1:${kafkaPort}`)
          ownHome = kafka.home
          expect(ownHome).toBeDefined()
          expect(ownHome).not.toBe(home.dir)
          // A real broker answers there.
          const admin = new Kafka({ brokers: [brokers], logLevel: logLevel.NOTHING }).admin()
          await admin.connect()
          expect(await admin.listTopics()).toBeArray()
          await admin.disconnect()
        } finally {
          kafka.release()
        }
        // Stopped and cleaned up; the other process and the usual home untouched.
        expect(inUse(Number(brokers.split(':')[1]))).toBe(false)
        expect(existsSync(ownHome as string)).toBe(false)
        expect(inUse(other.port)).toBe(true)
        expect(existsSync(`${home.dir}/broker.pid`)).toBe(false)
      } finally {
        other.stop(true)
        home.cleanup()
      }
    }, 180_000)
  }
})
