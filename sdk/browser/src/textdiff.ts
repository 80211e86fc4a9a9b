// Pure helpers for binding a text field to a Y.Text: the one splice that turns the old text
// into the new (what a keystroke, a paste or an autocorrect did), and where a caret goes when
// another device's edit (a Yjs delta) lands in the text around it.

/** One splice: delete `remove` characters at `index`, then insert `insert` there. */
export interface Splice {
  index: number;
  remove: number;
  insert: string;
}

/** The smallest single splice turning `before` into `after` (common prefix and suffix kept),
 *  or `null` when they are equal. `caret` (the caret after the edit) settles where a repeated
 *  character went: typing "a" after the first "a" of "ab" inserts at the caret, and Backspace
 *  there deletes that "a", not the other one. */
export function diffText(before: string, after: string, caret?: number): Splice | null {
  if (before === after) return null;
  const shortest = Math.min(before.length, after.length);
  let prefix = 0;
  while (prefix < shortest && before.charCodeAt(prefix) === after.charCodeAt(prefix)) prefix += 1;
  // The edit ends at the caret when we know it: keep the prefix from running past it (an
  // insertion ends at the caret, a deletion happened at it).
  if (caret !== undefined) {
    prefix = Math.min(prefix, Math.max(0, caret - Math.max(0, after.length - before.length)));
  }
  let suffix = 0;
  while (
    suffix < shortest - prefix &&
    before.charCodeAt(before.length - 1 - suffix) === after.charCodeAt(after.length - 1 - suffix)
  )
    suffix += 1;
  return { index: prefix, remove: before.length - prefix - suffix, insert: after.slice(prefix, after.length - suffix) };
}

/** A Yjs text delta op. */
export type DeltaOp = { retain?: number; insert?: unknown; delete?: number };

/** Where position `position` of the old text is in the new one after `delta`. Text inserted
 *  exactly at the position goes after it (the caret stays before another device's insertion,
 *  so the words typed here stay together). */
export function mapPosition(delta: readonly DeltaOp[], position: number): number {
  let index = 0; // in the old text
  let shift = 0;
  for (const op of delta) {
    if (index > position) break;
    if (op.retain !== undefined) {
      index += op.retain;
    } else if (op.insert !== undefined) {
      const length = typeof op.insert === 'string' ? op.insert.length : 1;
      if (index < position) shift += length;
    } else if (op.delete !== undefined) {
      const removed = Math.min(op.delete, Math.max(0, position - index));
      shift -= removed;
      index += op.delete;
    }
  }
  return Math.max(0, position + shift);
}
