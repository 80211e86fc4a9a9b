// Overwrite notices: when another device's change replaced a value this device wrote without
// having seen it (two devices chose at once, or this one chose while offline), the value this
// device chose is gone. Yjs settles such a conflict by client id, silently; this watches one
// root map and reports each such loss, so the app can show it and offer the lost value back.
//
// "Without having seen it" is read from Yjs itself: a map entry's item records the entry it
// replaced (its left origin). A remote entry whose origin is not the entry this device wrote
// was written concurrently with it; one whose origin is ours came after ours, on purpose.

import * as Y from 'yjs';

/** A value of this device's that another device's concurrent change replaced. */
export interface Overwrite {
  /** The map key (the field's name). */
  field: string;
  /** The value the document keeps (the other device's). */
  kept: unknown;
  /** The value this device had written, now gone. */
  lost: unknown;
}

type Entries = { _map: Map<string, Y.Item> };

/** The plain value of a map entry (text as a string). */
export function plain(value: unknown): unknown {
  if (value instanceof Y.Text) return value.toString();
  if (value instanceof Y.AbstractType) return value.toJSON();
  return value;
}

/** The id of an item's last character (a map entry's item has length 1). */
const lastId = (item: Y.Item): Y.ID => Y.createID(item.id.client, item.id.clock + item.length - 1);

/** Calls `listener` for every value of this document's that a concurrent remote change
 *  replaced in `map`; returns the function that stops watching. */
export function watchOverwrites(map: Y.Map<unknown>, listener: (overwrite: Overwrite) => void): () => void {
  const doc = map.doc;
  if (!doc) throw new Error('watchOverwrites needs a map that belongs to a document');
  const entries = (map as unknown as Entries)._map;
  /** Per key, the last id of the entry this device last saw as current, if it wrote it. */
  const mine = new Map<string, { id: Y.ID; value: unknown }>();
  const remember = (key: string): void => {
    const item = entries.get(key);
    if (item && !item.deleted && item.id.client === doc.clientID) mine.set(key, { id: lastId(item), value: plain(map.get(key)) });
    else mine.delete(key);
  };
  const observer = (event: Y.YMapEvent<unknown>, transaction: Y.Transaction): void => {
    for (const key of event.keysChanged) {
      const before = mine.get(key);
      if (!transaction.local && before) {
        const now = entries.get(key);
        const sawOurs = now?.origin ? Y.compareIDs(now.origin, before.id) : false;
        if (now && !now.deleted && now.id.client !== doc.clientID && !sawOurs) {
          // Kept as it last read: a replaced text's characters are already deleted here.
          listener({ field: key, kept: plain(map.get(key)), lost: before.value });
        }
      }
      remember(key);
    }
  };
  // Text edits inside an entry change what this device would lose, not who wrote the entry.
  const deep = (events: Array<Y.YEvent<Y.AbstractType<unknown>>>): void => {
    for (const event of events) {
      if (event.target === map) continue;
      for (const [key, value] of map.entries()) if (value === event.target && mine.has(key)) remember(key);
    }
  };
  for (const key of map.keys()) remember(key);
  map.observe(observer);
  map.observeDeep(deep);
  return () => {
    map.unobserve(observer);
    map.unobserveDeep(deep);
  };
}
