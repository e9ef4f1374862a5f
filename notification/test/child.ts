// The notification service as a process of its own (fixtures/service.ts), so a test can kill it
// with -9 where it wants: no shutdown hook runs, nothing is flushed.
import { join } from 'node:path'
import type { EventData, EventType } from '@mart/shared'

export interface NotificationProcess {
  /** Where it listens: http://127.0.0.1:<port>. */
  url: string
  /** Puts an event on the service's bus, as its producer would. */
  send<T extends EventType>(type: T, data: EventData<T>, subject: string): void
  /** kill -9; resolves once the process is gone. */
  kill9(): Promise<void>
}

const running = new Set<NotificationProcess>()

/** Starts the service with exactly `env` and waits for the URL it prints. */
export async function spawnNotification(
  env: Record<string, string | undefined>,
): Promise<NotificationProcess> {
  const child = Bun.spawn(['bun', join(import.meta.dir, 'fixtures', 'service.ts')], {
    env,
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'inherit',
  })
  const reader = child.stdout.getReader()
  const decoder = new TextDecoder()
  let out = ''
  while (!out.includes('\n')) {
    const { value, done } = await reader.read()
    if (done) throw new Error(`the notification service exited before it served: ${out}`)
    out += decoder.decode(value, { stream: true })
  }
  reader.releaseLock()
  const { url } = JSON.parse(out) as { url: string }
  const p: NotificationProcess = {
    url,
    send(type, data, subject) {
      child.stdin.write(`${JSON.stringify({ type, data, subject })}\n`)
      child.stdin.flush()
    },
    async kill9() {
      running.delete(p)
      child.kill('SIGKILL')
      await child.exited
    },
  }
  running.add(p)
  return p
}

/** Kills every process still running (for afterEach). */
export async function killAll(): Promise<void> {
  for (const p of [...running]) await p.kill9()
}
