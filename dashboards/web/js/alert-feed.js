import { acknowledge } from './api.js';
import { h, replaceChildren, setText, toast } from './dom.js';
import { dateTime, num } from './format.js';
import { applyAlert, changes, state } from './plant-state.js';
import { operator } from './settings.js';
import { currentLang, t } from './strings.js';

const SEVERITY_RANK = { critical: 0, warning: 1, info: 2 };

/** Most urgent first: open before resolved, then severity, then newest. */
export function sortAlerts(list) {
  return [...list].sort((a, b) => (a.state === b.state ? 0 : a.state === 'open' ? -1 : 1) || SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || b.openedAt - a.openedAt);
}

/** What decides an item's shape (its action); anything else (count, value, message) is updated in place. */
const shapeOf = (alert) => `${alert.state}|${alert.ackedAt}|${alert.ackedBy}|${currentLang()}`;

/** One alert as a list item, with its Acknowledge button (or who acknowledged it). */
function alertItem(alert) {
  const key = `${alert.site}/${alert.line}/${alert.device}`;
  const action =
    alert.state === 'resolved'
      ? h('span', { class: 'alert-resolved' }, t('resolved'))
      : alert.ackedAt
        ? h('span', { class: 'alert-acked' }, `✓ ${t('acknowledged', { by: alert.ackedBy ?? '' })}`)
        : h('button', { class: 'btn ack', type: 'button', dataset: { action: 'ack' }, onclick: (ev) => ack(alert.id, ev.currentTarget) }, t('acknowledge'));
  const msg = h('p', { class: 'alert-msg' });
  const meta = h('div', { class: 'alert-meta' });
  const el = h(
    'li',
    { class: `alert severity-${alert.severity}${alert.state === 'resolved' ? ' is-resolved' : ''}${alert.ackedAt ? ' is-acked' : ''}`, dataset: { alertId: alert.id, state: alert.state, acked: alert.ackedAt ? 'true' : 'false' } },
    h('div', { class: 'alert-head' }, h('span', { class: 'sev' }, t(`severity_${alert.severity}`)), h('span', { class: 'cat' }, t(`category_${alert.category}`)), h('a', { class: 'alert-device', href: `#/machine/${key}` }, key)),
    msg,
    meta,
    h('div', { class: 'alert-action' }, action),
  );
  const update = (a) => {
    setText(msg, a.message[currentLang()] ?? a.message.en);
    replaceChildren(
      meta,
      h('span', {}, t('openedAt', { t: dateTime(a.openedAt) })),
      a.count > 1 ? h('span', {}, t('times', { n: a.count })) : null,
      h('span', {}, t('value', { v: num(a.value, 2) })),
      a.threshold !== null ? h('span', {}, t('threshold', { v: num(a.threshold, 2) })) : null,
    );
  };
  update(alert);
  return { el, update, shape: shapeOf(alert) };
}

async function ack(id, button) {
  button.disabled = true;
  try {
    const res = await acknowledge(id, operator());
    applyAlert(res.alert);
  } catch (err) {
    button.disabled = false;
    toast(t('ackFailed', { reason: err.message }));
  }
}

/**
 * A live list of alerts (`select` picks them from the state): items are keyed by alert id;
 * an alert seen again (`updated`, up to twice a second) only has its text refreshed, so the
 * Acknowledge button under someone's finger is never replaced while they press it.
 */
export function mountAlertList(list, select, counter = null) {
  const items = new Map();
  const render = () => {
    const alerts = sortAlerts(select(state.alerts.values()));
    const keep = new Set(alerts.map((a) => a.id));
    for (const id of items.keys()) if (!keep.has(id)) items.delete(id);
    const nodes = alerts.map((a) => {
      let item = items.get(a.id);
      if (item?.shape !== shapeOf(a)) {
        item = alertItem(a);
        items.set(a.id, item);
      } else item.update(a);
      return item.el;
    });
    if (nodes.length === 0) {
      if (!list.querySelector('.empty')) replaceChildren(list, h('li', { class: 'empty' }, t('noAlerts')));
    } else if (list.children.length !== nodes.length || nodes.some((n, i) => list.children[i] !== n)) replaceChildren(list, nodes);
    if (counter) setText(counter, String(alerts.filter((a) => a.state === 'open').length));
  };
  changes.addEventListener('alerts', render);
  render();
  return {
    render,
    destroy: () => changes.removeEventListener('alerts', render),
  };
}

/** The alert feed (right column): open alerts from the API, then every transition from the hub. */
export function mountAlertFeed(list, counter) {
  return mountAlertList(list, (all) => [...all], counter);
}
