// Form capture: a form's fields mirrored into one root map of a document, restored on load,
// and updated live when another tab or device changes them.
//
// Each field is one map entry keyed by its `name`. Text fields (text-like inputs and
// textareas) are `Y.Text` entries written on every input event, so two devices typing in one
// field merge character by character and the caret stays where the user is. Choices (selects,
// radios, checkboxes, dates, numbers) are plain values, last writer wins; when another
// device's concurrent choice replaced this device's, `onOverwrite` says so. Entries stored as
// strings by earlier versions are read as they are and become `Y.Text` once the document has
// synced with the server (or on the first edit). Passwords, file inputs and buttons are never
// captured.

import * as Y from 'yjs';

import type { ContinuumDoc } from './document.js';
import { type Overwrite, plain, watchOverwrites } from './overwrite.js';
import { type DeltaOp, diffText, mapPosition } from './textdiff.js';

/** A captured value: text, a checkbox's state, or the chosen values of a group. */
export type FieldValue = string | boolean | string[] | null;

export interface FormOptions {
  /** The root map the fields go into (default `form`). */
  map?: string;
  /** Quiet time after the last change of a choice before it is written (default 0: at
   *  once). Text is always written on every input event, so concurrent typing merges. */
  debounceMs?: number;
}

export interface FormBinding {
  /** Writes pending edits now. */
  flush(): void;
  /** The captured values, as in the document (text as strings). */
  values(): Record<string, FieldValue>;
  /** Writes `value` into field `name` and the document (to take a lost value back). */
  set(name: string, value: FieldValue): void;
  /** Calls `listener` when another device's concurrent change replaced a value this device
   *  wrote (see {@link Overwrite}); returns the unsubscribe function. */
  onOverwrite(listener: (overwrite: Overwrite) => void): () => void;
  /** Stops capturing; the document keeps what it has. */
  destroy(): void;
}

type Field = HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement;
type TextField = HTMLInputElement | HTMLTextAreaElement;
type Entry = FieldValue | Y.Text;

const SKIPPED = new Set(['password', 'file', 'submit', 'button', 'reset', 'image', 'hidden']);
/** Input types whose value is free text, merged character by character. */
const TEXT_TYPES = new Set(['text', 'email', 'search', 'tel', 'url']);

function fields(form: HTMLFormElement): Map<string, Field[]> {
  const byName = new Map<string, Field[]>();
  for (const element of Array.from(form.elements)) {
    if (
      !(element instanceof HTMLInputElement || element instanceof HTMLTextAreaElement || element instanceof HTMLSelectElement)
    )
      continue;
    if (!element.name || (element instanceof HTMLInputElement && SKIPPED.has(element.type))) continue;
    const group = byName.get(element.name) ?? [];
    group.push(element);
    byName.set(element.name, group);
  }
  return byName;
}

/** The text field of a group, when the group is one text field. */
function textField(group: Field[] | undefined): TextField | null {
  const first = group?.length === 1 ? group[0] : undefined;
  if (first instanceof HTMLTextAreaElement) return first;
  if (first instanceof HTMLInputElement && TEXT_TYPES.has(first.type)) return first;
  return null;
}

/** The caret of a focused field, when its type has one (email inputs do not). */
function selection(field: TextField): { start: number; end: number } | null {
  if (document.activeElement !== field) return null;
  try {
    const { selectionStart: start, selectionEnd: end } = field;
    return start === null || end === null ? null : { start, end };
  } catch {
    return null;
  }
}

/** The value of one named group of fields. */
export function readField(group: Field[]): FieldValue {
  const first = group[0];
  if (!first) return null;
  if (first instanceof HTMLInputElement && first.type === 'radio') {
    return (group as HTMLInputElement[]).find((input) => input.checked)?.value ?? null;
  }
  if (first instanceof HTMLInputElement && first.type === 'checkbox') {
    if (group.length === 1) return first.checked;
    return (group as HTMLInputElement[]).filter((input) => input.checked).map((input) => input.value);
  }
  if (first instanceof HTMLSelectElement && first.multiple) {
    return Array.from(first.selectedOptions).map((option) => option.value);
  }
  return first.value;
}

/** Shows `value` in one named group of fields, keeping the caret of a focused text field. */
export function writeField(group: Field[], value: FieldValue): void {
  for (const field of group) {
    if (field instanceof HTMLInputElement && (field.type === 'radio' || field.type === 'checkbox')) {
      field.checked =
        typeof value === 'boolean' ? value : Array.isArray(value) ? value.includes(field.value) : value === field.value;
    } else if (field instanceof HTMLSelectElement && field.multiple) {
      const chosen = Array.isArray(value) ? value : [];
      for (const option of Array.from(field.options)) option.selected = chosen.includes(option.value);
    } else {
      const text = typeof value === 'string' ? value : '';
      if (field.value === text) continue;
      const caret = field instanceof HTMLSelectElement ? null : selection(field);
      field.value = text;
      if (caret && !(field instanceof HTMLSelectElement)) {
        field.setSelectionRange(Math.min(caret.start, text.length), Math.min(caret.end, text.length));
      }
    }
  }
}

/** Shows another device's edit of a text: the delta moves the caret with the text around it. */
function applyTextDelta(field: TextField, text: string, delta: readonly DeltaOp[]): void {
  if (field.value === text) return;
  const caret = selection(field);
  field.value = text;
  if (caret) field.setSelectionRange(mapPosition(delta, caret.start), mapPosition(delta, caret.end));
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Binds `form` to `doc`: restores it once the local copy is loaded, then captures edits. */
export function bindForm(form: HTMLFormElement, doc: ContinuumDoc, options: FormOptions = {}): FormBinding {
  const map: Y.Map<Entry> = doc.map<Entry>(options.map ?? 'form');
  const debounceMs = options.debounceMs ?? 0;
  const origin = { form };
  /** Fields edited and not yet written: choices in their debounce, anything before restore. */
  const dirty = new Set<string>();
  const overwriteListeners = new Set<(overwrite: Overwrite) => void>();
  let timer: ReturnType<typeof setTimeout> | null = null;
  let restored = false;
  let destroyed = false;

  /** Writes a text field's edit into its Y.Text as one splice (a new Y.Text if it has none). */
  const writeText = (name: string, field: TextField): void => {
    const current = map.get(name);
    doc.doc.transact(() => {
      if (!(current instanceof Y.Text)) {
        if (current !== field.value) map.set(name, new Y.Text(field.value));
        return;
      }
      const splice = diffText(current.toString(), field.value, selection(field)?.end);
      if (!splice) return;
      if (splice.remove > 0) current.delete(splice.index, splice.remove);
      if (splice.insert) current.insert(splice.index, splice.insert);
    }, origin);
  };

  const flush = (): void => {
    if (timer) clearTimeout(timer);
    timer = null;
    if (dirty.size === 0 || !restored) return;
    const groups = fields(form);
    doc.doc.transact(() => {
      for (const name of dirty) {
        const group = groups.get(name);
        if (!group) continue;
        const text = textField(group);
        if (text) {
          writeText(name, text);
          continue;
        }
        const value = readField(group);
        if (!same(plain(map.get(name)), value)) map.set(name, value);
      }
    }, origin);
    dirty.clear();
  };

  const onEdit = (event: Event): void => {
    const target = event.target as Partial<Field> | null;
    if (!target?.name) return;
    const text = textField(fields(form).get(target.name));
    if (text && restored) {
      writeText(target.name, text);
      return;
    }
    dirty.add(target.name);
    if (timer) clearTimeout(timer);
    if (debounceMs <= 0) flush();
    else timer = setTimeout(flush, debounceMs);
  };

  const show = (names: Iterable<string>): void => {
    const groups = fields(form);
    for (const name of names) {
      const group = groups.get(name);
      // A choice being changed keeps the user's value until it is written.
      if (group && map.has(name) && !dirty.has(name)) writeField(group, plain(map.get(name)) as FieldValue);
    }
  };

  const observer = (events: Array<Y.YEvent<Y.AbstractType<unknown>>>, transaction: Y.Transaction): void => {
    if (transaction.origin === origin) return;
    const groups = fields(form);
    for (const event of events) {
      if (event.target === map) {
        show((event as Y.YMapEvent<Entry>).keysChanged);
      } else if (event.target instanceof Y.Text) {
        for (const [name, value] of map.entries()) {
          if (value !== event.target) continue;
          const text = textField(groups.get(name));
          if (text) applyTextDelta(text, value.toString(), event.delta as DeltaOp[]);
        }
      }
    }
  };

  /** Turns the strings earlier versions stored for text fields into Y.Text entries. */
  const migrate = (): void => {
    if (destroyed) return;
    const groups = fields(form);
    doc.doc.transact(() => {
      for (const [name, value] of map.entries()) {
        if (typeof value === 'string' && textField(groups.get(name)) && !dirty.has(name)) map.set(name, new Y.Text(value));
      }
    }, origin);
  };

  form.addEventListener('input', onEdit);
  form.addEventListener('change', onEdit);
  map.observeDeep(observer);
  const stopOverwrites = watchOverwrites(map as Y.Map<unknown>, (overwrite) => {
    for (const listener of [...overwriteListeners]) listener(overwrite);
  });
  const stopFlush = doc.onFlush(flush);
  void doc.ready.then(() => {
    restored = true;
    show(map.keys());
    flush();
  });
  void doc.synced.then(migrate);

  return {
    flush,
    values: () => map.toJSON() as Record<string, FieldValue>,
    set: (name, value) => {
      const group = fields(form).get(name);
      dirty.delete(name);
      const current = map.get(name);
      doc.doc.transact(() => {
        if (current instanceof Y.Text && typeof value === 'string') {
          current.delete(0, current.length);
          current.insert(0, value);
        } else if (group && textField(group) && typeof value === 'string') {
          map.set(name, new Y.Text(value));
        } else {
          map.set(name, value);
        }
      }, origin);
      if (group) writeField(group, value);
    },
    onOverwrite: (listener) => {
      overwriteListeners.add(listener);
      return () => overwriteListeners.delete(listener);
    },
    destroy: () => {
      flush();
      destroyed = true;
      form.removeEventListener('input', onEdit);
      form.removeEventListener('change', onEdit);
      map.unobserveDeep(observer);
      stopOverwrites();
      stopFlush();
    },
  };
}
