// Local ports for the servers the test runner starts (Kafka, stripe-mock).

/** Whether something accepts connections on 127.0.0.1:`port` (what the launchers refuse to start over). */
export function inUse(port: number): boolean {
  return (
    Bun.spawnSync(['bash', '-c', `exec 3<>/dev/tcp/127.0.0.1/${port}`], { stderr: 'ignore' }).exitCode === 0
  )
}

/**
 * A port P with P+1 free too (a server that listens on two neighbouring ports), as the system hands
 * free ports out. `what` names the server in the error.
 */
export function freePortPair(what: string): number {
  for (let attempt = 0; attempt < 50; attempt++) {
    const first = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
    try {
      if (first.port >= 65535) continue
      Bun.listen({ hostname: '127.0.0.1', port: first.port + 1, socket: { data() {} } }).stop(true)
      return first.port
    } catch {
      // P+1 is taken: try another P.
    } finally {
      first.stop(true)
    }
  }
  throw new Error(`found no two free consecutive ports for ${what}`)
}

/** A plain TCP server on a free port: another process holding a port, as the launchers' tests need. */
export const holdFreePort = () => Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
