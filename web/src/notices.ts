// The demo's overwrite notices: another device's concurrent change replaced a value of this
// device's (the SDK's `onOverwrite`); the notice says which and offers the lost value back.

import type { FieldValue, FormBinding, Overwrite } from '../../sdk/browser/src/index.js';

import { LABELS, displayValue } from './labels.js';

const $ = (id: string): HTMLElement => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element;
};

/** Tells that another device's choice replaced this device's, with a way to take it back. */
export function showOverwrite(form: FormBinding, overwrite: Overwrite): void {
  const list = $('overwrites');
  list.querySelector(`[data-field="${CSS.escape(overwrite.field)}"]`)?.remove();
  const item = document.createElement('div');
  item.className = 'banner warn';
  item.dataset.field = overwrite.field;
  item.dataset.kept = JSON.stringify(overwrite.kept);
  item.dataset.lost = JSON.stringify(overwrite.lost);
  const label = LABELS[overwrite.field] ?? overwrite.field;
  const text = document.createElement('span');
  text.textContent = `${label}: another device changed it to “${displayValue(overwrite.field, overwrite.kept)}” at the same time, so your “${displayValue(overwrite.field, overwrite.lost)}” was replaced.`;
  const actions = document.createElement('span');
  actions.className = 'row';
  const restore = document.createElement('button');
  restore.type = 'button';
  restore.className = 'take-back';
  restore.textContent = `Use “${displayValue(overwrite.field, overwrite.lost)}”`;
  restore.addEventListener('click', () => {
    form.set(overwrite.field, overwrite.lost as FieldValue);
    item.remove();
  });
  const dismiss = document.createElement('button');
  dismiss.type = 'button';
  dismiss.className = 'quiet';
  dismiss.textContent = 'Keep';
  dismiss.setAttribute('aria-label', `Keep “${displayValue(overwrite.field, overwrite.kept)}”`);
  dismiss.addEventListener('click', () => item.remove());
  actions.append(restore, dismiss);
  item.append(text, actions);
  list.append(item);
}
