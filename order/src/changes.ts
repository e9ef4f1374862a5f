// Who is watching which order: the streams subscribe, and every committed change tells them.
// In memory and per process, which is enough: an order's changes all commit in this process, and a
// stream that missed a notification (or reconnects) reads what it missed from order_versions.

type Listener = (version: number) => void

export class OrderChanges {
  private readonly listeners = new Map<string, Set<Listener>>()

  /** Calls `listener` with the new version after each committed change of `orderId`; answers how to stop. */
  watch(orderId: string, listener: Listener): () => void {
    let set = this.listeners.get(orderId)
    if (!set) {
      set = new Set()
      this.listeners.set(orderId, set)
    }
    set.add(listener)
    return () => {
      set.delete(listener)
      if (set.size === 0 && this.listeners.get(orderId) === set) this.listeners.delete(orderId)
    }
  }

  /** Called after a change of `orderId` committed. */
  changed(orderId: string, version: number): void {
    for (const listener of this.listeners.get(orderId) ?? []) listener(version)
  }

  /** How many streams are watching, across all orders. */
  get watchers(): number {
    let n = 0
    for (const set of this.listeners.values()) n += set.size
    return n
  }
}
