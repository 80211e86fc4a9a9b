// Form capture: a form's fields mirrored into one root map of a document, debounced, restored
// on load, and updated live when another tab or device changes them.
//
// Each field is one map entry keyed by its `name`, so two devices editing different fields
// merge; the same field edited on two devices ends with one of the two values (the last
// writer Yjs orders). Passwords, file inputs and buttons are never captured.

import type * as Y from 'yjs';

import type { ContinuumDoc } from './document.js';

/** A captured value: text, a checkbox's state, or the chosen values of a group. */
export type FieldValue = string | boolean | string[] | null;

export interface FormOptions {
  /** The root map the fields go into (default `form`). */
  map?: string;
  /** Quiet time after the last keystroke before a change is written (default 300 ms). */
  debounceMs?: number;
}

export interface FormBinding {
  /** Writes pending edits now. */
  flush(): void;
  /** The captured values, as in the document. */
  values(): Record<string, FieldValue>;
  /** Stops capturing; the document keeps what it has. */
  destroy(): void;
}

type Field = HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement;

const SKIPPED = new Set(['password', 'file', 'submit', 'button', 'reset', 'image', 'hidden']);

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
      const focused = document.activeElement === field && !(field instanceof HTMLSelectElement);
      const start = focused ? (field as HTMLInputElement).selectionStart : null;
      const end = focused ? (field as HTMLInputElement).selectionEnd : null;
      field.value = text;
      if (focused && start !== null && end !== null) {
        (field as HTMLInputElement).setSelectionRange(Math.min(start, text.length), Math.min(end, text.length));
      }
    }
  }
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Binds `form` to `doc`: restores it once the local copy is loaded, then captures edits. */
export function bindForm(form: HTMLFormElement, doc: ContinuumDoc, options: FormOptions = {}): FormBinding {
  const map: Y.Map<FieldValue> = doc.map<FieldValue>(options.map ?? 'form');
  const debounceMs = options.debounceMs ?? 300;
  const origin = { form };
  const dirty = new Set<string>();
  let timer: ReturnType<typeof setTimeout> | null = null;
  let restored = false;

  const flush = (): void => {
    if (timer) clearTimeout(timer);
    timer = null;
    if (dirty.size === 0 || !restored) return;
    const groups = fields(form);
    doc.doc.transact(() => {
      for (const name of dirty) {
        const group = groups.get(name);
        if (!group) continue;
        const value = readField(group);
        if (!same(map.get(name), value)) map.set(name, value);
      }
    }, origin);
    dirty.clear();
  };

  const onEdit = (event: Event): void => {
    const target = event.target as Partial<Field> | null;
    if (!target?.name) return;
    dirty.add(target.name);
    if (timer) clearTimeout(timer);
    timer = setTimeout(flush, debounceMs);
  };

  const show = (names: Iterable<string>): void => {
    const groups = fields(form);
    for (const name of names) {
      const group = groups.get(name);
      // A field being typed in keeps the user's text until it is written.
      if (group && map.has(name) && !dirty.has(name)) writeField(group, map.get(name) ?? null);
    }
  };

  const observer = (event: Y.YMapEvent<FieldValue>, transaction: Y.Transaction): void => {
    if (transaction.origin !== origin) show(event.keysChanged);
  };

  form.addEventListener('input', onEdit);
  form.addEventListener('change', onEdit);
  map.observe(observer);
  const stopFlush = doc.onFlush(flush);
  void doc.ready.then(() => {
    restored = true;
    show(map.keys());
    flush();
  });

  return {
    flush,
    values: () => Object.fromEntries(map.entries()),
    destroy: () => {
      flush();
      form.removeEventListener('input', onEdit);
      form.removeEventListener('change', onEdit);
      map.unobserve(observer);
      stopFlush();
    },
  };
}
