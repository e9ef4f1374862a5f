// A fixture service run as its own process, the way `bun <service>/src/index.ts` runs a service:
// runStandalone on the in-process bus, JSON log lines on stdout that the test reads back.
import { join } from 'node:path'
import { waitFor } from '../../src/testing.ts'

/** Starts `fixtures/<fixture>` on `dataDir` (a free port) and waits until it listens. */
export async function spawnStandalone(fixture: string, dataDir: string, env: Record<string, string> = {}) {
  const child = Bun.spawn(['bun', join(import.meta.dir, '..', 'fixtures', fixture)], {
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      PORT: '0',
      KAFKA_BROKERS: '',
      LOG_LEVEL: 'info',
      LOG_PRETTY: 'false',
      ...env,
    },
    stdout: 'pipe',
    stderr: 'inherit',
  })
  const lines: Record<string, unknown>[] = []
  const reading = (async () => {
    const decoder = new TextDecoder()
    for await (const chunk of child.stdout) {
      for (const line of decoder.decode(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line))
    }
  })()
  const listening = await waitFor(
    () => lines.find((l) => typeof l.msg === 'string' && l.msg.endsWith(' listening')),
    'the service to listen',
  )
  return {
    url: listening.url as string,
    /** Its log lines so far, parsed. */
    lines,
    /** Sends SIGTERM; answers the exit code once the process has ended and its output is read. */
    async terminate(): Promise<number> {
      child.kill('SIGTERM')
      const code = await child.exited
      await reading
      return code
    },
  }
}
