// The yardstick for browse: the bare Elysia hello-world (scripts/bench/hello.ts) served the way the
// target is, direct or behind Caddy with the same shape as the root Caddyfile's routes (JSON access
// log, streaming reverse_proxy), and loaded by the same generator in the same run.
import { mkdirSync, openSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from '@mart/shared/testing'
import { caddyBinary, INSTALL_HINT } from '../caddy.ts'
import { root } from '../services.ts'
import { answers, freePort, stopChild, until } from './processes.ts'

export interface Baseline {
  url: string
  /** The hello-world's process, and Caddy's when there is one: their CPU counts together. */
  pids: number[]
  stop(): Promise<void>
}

export async function startBaseline(via: 'direct' | 'caddy'): Promise<Baseline> {
  const tmp = tempDir('mart-load-hello-')
  const port = freePort()
  const hello = Bun.spawn(['bun', join(root, 'scripts', 'bench', 'hello.ts')], {
    cwd: root,
    env: { ...process.env, PORT: String(port) },
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'inherit',
  })
  const children: Bun.Subprocess[] = [hello]
  const stop = async () => {
    for (const c of children.reverse()) await stopChild(c)
    tmp.cleanup()
  }
  try {
    await until('the hello-world', () => answers(`http://127.0.0.1:${port}/`))
    if (via === 'direct') return { url: `http://127.0.0.1:${port}`, pids: [hello.pid], stop }
    const caddy = caddyBinary()
    if (!caddy) throw new Error(INSTALL_HINT)
    const gateway = freePort()
    const file = join(tmp.dir, 'Caddyfile')
    writeFileSync(
      file,
      [
        '{',
        '\tadmin off',
        '\tauto_https off',
        '}',
        `http://:${gateway} {`,
        '\tbind 127.0.0.1',
        '\tlog {',
        '\t\toutput stderr',
        '\t\tformat json',
        '\t}',
        `\treverse_proxy 127.0.0.1:${port}`,
        '}',
        '',
      ].join('\n'),
    )
    mkdirSync(join(tmp.dir, 'xdg'))
    const log = openSync(join(tmp.dir, 'caddy.log'), 'a')
    const proc = Bun.spawn([caddy, 'run', '--config', file, '--adapter', 'caddyfile'], {
      env: { ...process.env, XDG_DATA_HOME: join(tmp.dir, 'xdg'), XDG_CONFIG_HOME: join(tmp.dir, 'xdg') },
      stdin: 'ignore',
      stdout: 'ignore',
      stderr: log,
    })
    children.push(proc)
    await until('Caddy in front of the hello-world', () => answers(`http://127.0.0.1:${gateway}/`))
    return { url: `http://127.0.0.1:${gateway}`, pids: [hello.pid, proc.pid], stop }
  } catch (err) {
    await stop()
    throw err
  }
}
