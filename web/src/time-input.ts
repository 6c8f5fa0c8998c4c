import { h } from './dom.ts';
import { fmtMinute, parseLocalInput } from './time.ts';

/**
 * A date-time field in the page's zone and always on a 24-hour clock ("2026-11-23 14:05"):
 * the browser's own datetime-local field follows the browser's locale (am/pm in en-US).
 */
export function timeInput(name: string, ms: number | undefined, label: string): HTMLInputElement {
  const input = h('input', {
    name, type: 'text', inputmode: 'numeric', autocomplete: 'off', spellcheck: 'false', class: 'time-input',
    placeholder: 'YYYY-MM-DD HH:MM', pattern: '\\d{4}-\\d{2}-\\d{2}[ T]\\d{2}:\\d{2}(:\\d{2})?', 'aria-label': label, title: label,
  });
  // As its default too, so that a form can tell a field left as it was filled in.
  input.defaultValue = ms === undefined ? '' : fmtMinute(ms);
  return input;
}

/** The time a timeInput holds (NaN when it is empty or not a date-time). */
export function timeInputValue(input: HTMLInputElement): number {
  return parseLocalInput(input.value.trim().replace(' ', 'T'));
}
