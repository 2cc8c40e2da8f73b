import { t } from './strings.js';

/**
 * The API token and the operator's name, kept in this browser (localStorage). Tokens come with
 * the platform's auth work; until then none is needed and requests go without one.
 */
const TOKEN = 'pp.token';
const OPERATOR = 'pp.operator';

export function token() {
  return localStorage.getItem(TOKEN) || null;
}

export function operator() {
  return localStorage.getItem(OPERATOR) || 'dashboard';
}

/** Wire the settings dialog; `onSaved` runs after a change (reconnect with the new token). */
export function initSettings(onSaved) {
  const dialog = document.getElementById('settings');
  const tokenInput = document.getElementById('token');
  const operatorInput = document.getElementById('operator');
  document.getElementById('settings-open').addEventListener('click', () => {
    tokenInput.value = token() ?? '';
    operatorInput.value = localStorage.getItem(OPERATOR) ?? '';
    dialog.showModal();
  });
  dialog.addEventListener('close', () => {
    if (dialog.returnValue !== 'save') return;
    const before = token();
    store(TOKEN, tokenInput.value.trim());
    store(OPERATOR, operatorInput.value.trim());
    if (token() !== before) onSaved();
  });
  document.getElementById('settings-open').title = t('settings');
}

function store(key, value) {
  if (value) localStorage.setItem(key, value);
  else localStorage.removeItem(key);
}
