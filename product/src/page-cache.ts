// The finished answers of anonymous catalogue reads, kept by query: the encoded JSON of a page and its
// ETag. Reading a page (SQL, rows to views, the response schema, JSON) cost about 100 µs of CPU,
// a cached one is a map lookup. Any change to what a page may show forgets them all (see forget).
import type { Tx } from '@mart/shared'

export interface CachedPage {
  /**
   * The JSON, encoded once, as a Blob: a Response made from a string encodes it again on every
   * answer, and one made from bytes copies them (about 0.6 µs more a page than a Blob it shares).
   */
  body: Blob
  /** A strong ETag: a hash of the body, so it changes exactly when the content does. */
  etag: string
}

/** How many pages are kept: a few MB at most (a page of 20 is about 6 KB). */
const MAX_PAGES = 500

export class PageCache {
  private readonly pages = new Map<string, CachedPage>()
  /** Moves on each forget: a page read before a change is never kept after it. */
  private generation = 0

  constructor(private readonly maxPages = MAX_PAGES) {}

  /** The page for `key`: the kept one, or `read` it now, serialised, and keep it. */
  get(key: string, read: () => unknown): CachedPage {
    const hit = this.pages.get(key)
    if (hit) return hit
    const generation = this.generation
    const json = JSON.stringify(read())
    const page = { body: new Blob([json]), etag: `"${Bun.hash(json).toString(36)}"` }
    if (generation === this.generation) {
      // The oldest goes first (Map keeps insertion order): a flood of distinct searches only
      // costs the pages it pushes out a new read.
      if (this.pages.size >= this.maxPages) this.pages.delete(this.pages.keys().next().value as string)
      this.pages.set(key, page)
    }
    return page
  }

  /**
   * Forgets every page once `t` commits: a write that may change what a page shows calls it in
   * its transaction (the catalogue's own writes, and the stock read model's events). Every page,
   * not the ones naming the product: a change moves products between pages, filters and sorts.
   */
  forgetOnCommit(t: Pick<Tx, 'afterCommit'>): void {
    t.afterCommit(() => this.forget())
  }

  forget(): void {
    this.generation++
    this.pages.clear()
  }

  get size(): number {
    return this.pages.size
  }
}
