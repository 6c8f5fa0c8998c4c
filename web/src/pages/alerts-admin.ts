import { HttpError } from '../api.ts';
import { h, replace } from '../dom.ts';
import { t } from '../i18n.ts';

/**
 * The admin token for state-changing calls (create / expire a silence): typed once, kept in
 * this browser's localStorage, sent only with those calls, never shown back in full.
 */
const KEY = 'smokemesh.adminToken';

/** The saved admin token, if any. */
export function adminToken(): string | undefined {
  return localStorage.getItem(KEY) || undefined;
}

/** A small form: the token's status (last 3 characters only), a password field, save and clear. */
export function tokenBar(): HTMLElement {
  const status = h('span', { class: 'token-status' });
  const input = h('input', { type: 'password', name: 'admin-token', autocomplete: 'off', 'aria-label': t('adminToken'), placeholder: t('adminToken') });
  const show = () => {
    const tok = adminToken();
    status.dataset.set = tok ? 'yes' : 'no';
    replace(status, tok ? t('tokenSet', { tail: tok.slice(-3) }) : t('tokenUnset'));
  };
  const clear = h('button', { type: 'button', class: 'token-clear' }, t('clear'));
  clear.addEventListener('click', () => { localStorage.removeItem(KEY); input.value = ''; show(); });
  const form = h('form', {
    class: 'token-bar',
    onsubmit: (e: Event) => {
      e.preventDefault();
      const v = input.value.trim();
      if (v) localStorage.setItem(KEY, v);
      input.value = '';
      show();
    },
  }, h('strong', {}, t('adminToken')), status, input, h('button', { type: 'submit', class: 'token-save' }, t('save')), clear,
  h('p', { class: 'hint' }, t('tokenHint')));
  show();
  return form;
}

/** The message for a failed state-changing call: a clear request for the token on 401/403. */
export function actionError(e: unknown): string {
  if (e instanceof HttpError && (e.status === 401 || e.status === 403)) return adminToken() ? t('tokenRejected') : t('tokenRequired');
  return `${t('error')}: ${(e as Error).message}`;
}
