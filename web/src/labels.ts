// The demo form's words: each field's label, and how a value reads (an option's or a radio's
// label, not its code), for the review and the notices.

/** The label of each field of the trip form, by name. */
export const LABELS: Record<string, string> = {
  name: 'Name', email: 'Email', country: 'Country', destination: 'Destination', departure: 'Departure',
  class: 'Travel class', notes: 'Notes', insurance: 'Insurance', vegetarian: 'Vegetarian meals',
  newsletter: 'Travel tips', seat: 'Seat',
};

/** How a field's value reads: an option's or a radio's label, not its code. */
export function displayValue(key: string, value: unknown): string {
  if (value === true) return 'Yes';
  if (value === false || value === undefined || value === '' || value === null) return '—';
  const select = document.querySelector<HTMLSelectElement>(`#trip-form select[name="${CSS.escape(key)}"]`);
  const option = select ? Array.from(select.options).find((o) => o.value === String(value)) : undefined;
  if (option) return option.textContent ?? String(value);
  const radio = Array.from(document.querySelectorAll<HTMLInputElement>('#trip-form input[type="radio"]')).find(
    (input) => input.name === key && input.value === String(value),
  );
  if (radio) return radio.closest('label')?.textContent?.trim() ?? String(value);
  return String(value);
}

