// IAPT submission portal: page behaviour. Plain ES2017 loaded as an ES module
// from templates/base.html (<script type="module">); no build step, no inline
// scripts, so it works under "script-src 'self'".
//
// 1. Initialises the NHS.UK frontend components (v10 needs an explicit initAll()).
// 2. Polls [data-progress-url] elements (see templates/components/progress.html).
// 3. Shows the chosen file's name and size next to input[type=file][data-show-size].

import { initAll } from '../vendor/nhsuk/nhsuk-frontend.min.js';

const POLL_INTERVAL_MS = 1000;
const ERROR_BACKOFF_MS = 5000;
const HIDDEN_TAB_INTERVAL_MS = 5000;
const MAX_POLLING_MS = 2 * 60 * 60 * 1000;

// --- 2. Progress polling ---------------------------------------------------

function progressText(data) {
  const label = data.stage_label || data.status_label || '';
  const position = parseInt(data.queue_position, 10);
  // The server may already say "Queued: position 3 in the queue".
  if (data.stage === 'queued' && position > 0 && !/position/i.test(label)) {
    return `${label || 'Queued'} — position ${position} in the queue`;
  }
  return label;
}

function clampPercent(value) {
  const number = typeof value === 'number' ? value : parseFloat(value);
  if (!Number.isFinite(number)) return null;
  return Math.min(100, Math.max(0, Math.round(number)));
}

// Reload the page, unless this page was already reloaded for the same reason
// moments ago (which would mean the page and the progress endpoint disagree):
// that guard prevents a reload loop. Returns false when it did not reload.
function reloadOnce(key) {
  const storageKey = `app-progress-reload:${key}`;
  try {
    const previous = parseInt(window.sessionStorage.getItem(storageKey) || '0', 10);
    if (Date.now() - previous < 15000) return false;
    window.sessionStorage.setItem(storageKey, String(Date.now()));
  } catch (error) {
    // sessionStorage unavailable: reload anyway.
  }
  window.location.reload();
  return true;
}

function isJson(response) {
  return (response.headers.get('Content-Type') || '').includes('json');
}

function initProgress(container) {
  const url = container.getAttribute('data-progress-url');
  if (!url) return;

  const bar = container.querySelector('[data-progress-bar]');
  const label = container.querySelector('[data-progress-label]');
  const percentText = container.querySelector('[data-progress-percent]');
  const statusText = container.querySelector('[data-progress-status]');
  const message = container.querySelector('[data-progress-message]');
  const live = container.querySelector('[data-progress-live]');

  const startedAt = Date.now();
  let lastStage = container.getAttribute('data-progress-stage');
  let lastAnnounced = '';
  let failing = false;

  function announce(text) {
    if (!live || !text || text === lastAnnounced) return;
    lastAnnounced = text;
    live.textContent = text;
  }

  function showMessage(text) {
    if (!message) return;
    message.textContent = text || '';
    message.hidden = !text;
  }

  function setPercent(percent) {
    if (bar) {
      if (bar instanceof HTMLProgressElement) {
        // Native <progress>: no value attribute means "indeterminate".
        if (percent === null) bar.removeAttribute('value');
        else bar.value = percent;
        bar.textContent = percent === null ? '' : `${percent}%`;
      } else {
        // A div-based bar (role="progressbar" with an inner .app-progress__fill).
        if (percent === null) bar.removeAttribute('aria-valuenow');
        else bar.setAttribute('aria-valuenow', String(percent));
        const fill = bar.querySelector('.app-progress__fill');
        // Setting styles through the CSSOM is allowed by style-src 'self'.
        if (fill) fill.style.width = `${percent === null ? 0 : percent}%`;
      }
    }
    if (percentText) percentText.textContent = percent === null ? '' : `${percent}%`;
  }

  function render(data) {
    const text = progressText(data);
    if (label && text) label.textContent = text;
    if (statusText && data.status_label) statusText.textContent = data.status_label;
    setPercent(clampPercent(data.percent));
    if (data.stage) container.setAttribute('data-progress-stage', data.stage);

    // Announce stage changes (not every percentage point) to screen readers.
    if (data.stage !== lastStage) {
      lastStage = data.stage;
      announce(text);
    }
  }

  function schedule(delay) {
    window.setTimeout(poll, delay);
  }

  async function poll() {
    if (Date.now() - startedAt > MAX_POLLING_MS) {
      showMessage('This page has stopped checking for progress. Refresh the page to see the latest status.');
      announce('Stopped checking for progress.');
      return;
    }
    if (document.hidden) {
      // Keep the load light while the tab is in the background.
      schedule(HIDDEN_TAB_INTERVAL_MS);
      return;
    }

    let response;
    try {
      response = await window.fetch(url, {
        credentials: 'same-origin',
        headers: { Accept: 'application/json' },
        cache: 'no-store',
      });
    } catch (error) {
      onFailure();
      return;
    }

    // Signed out (redirected to the sign-in page) or no longer allowed:
    // reload so the server shows the user what they should now see.
    if ([401, 403].includes(response.status) || (response.redirected && !isJson(response))) {
      if (!reloadOnce(`auth:${url}`)) {
        showMessage('This page cannot check progress any more. Refresh the page to see the latest status.');
      }
      return;
    }
    if ([404, 410].includes(response.status)) {
      showMessage('Progress for this submission is not available. Refresh the page to see the latest status.');
      return;
    }
    if (!response.ok) {
      onFailure();
      return;
    }

    let data;
    try {
      data = await response.json();
    } catch (error) {
      onFailure();
      return;
    }

    if (failing) {
      failing = false;
      showMessage('');
    }
    render(data);

    if (data.final) {
      announce('Processing has finished. Loading the result.');
      if (!reloadOnce(`final:${url}`)) {
        showMessage('Processing has finished. Refresh the page to see the result.');
      }
      return;
    }
    schedule(POLL_INTERVAL_MS);
  }

  function onFailure() {
    if (!failing) {
      failing = true;
      showMessage('We could not check progress just now. We will keep trying.');
    }
    schedule(ERROR_BACKOFF_MS);
  }

  schedule(POLL_INTERVAL_MS);
}

// --- 3. File name and size next to file inputs -----------------------------

function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} bytes`;
  const units = ['KB', 'MB', 'GB'];
  let size = bytes / 1024;
  let unit = 0;
  while (size >= 1024 && unit < units.length - 1) {
    size /= 1024;
    unit += 1;
  }
  return `${size < 10 ? size.toFixed(1) : Math.round(size)} ${units[unit]}`;
}

let fileInfoCount = 0;

function initFileSize(input) {
  fileInfoCount += 1;
  const info = document.createElement('p');
  info.className = 'nhsuk-body-s app-file-info';
  info.id = `${input.id || 'app-file'}-info-${fileInfoCount}`;
  info.setAttribute('aria-live', 'polite');
  info.hidden = true;
  input.insertAdjacentElement('afterend', info);

  const describedBy = (input.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
  describedBy.push(info.id);
  input.setAttribute('aria-describedby', describedBy.join(' '));

  // Optional data-max-bytes="104857600": warn early; the server still checks.
  const maxBytes = parseInt(input.getAttribute('data-max-bytes') || '', 10);

  function update() {
    const files = Array.from(input.files || []);
    info.classList.remove('app-file-info--too-big');
    if (!files.length) {
      info.textContent = '';
      info.hidden = true;
      return;
    }
    const total = files.reduce((sum, file) => sum + file.size, 0);
    info.textContent = files.length === 1
      ? `Selected: ${files[0].name} (${formatBytes(files[0].size)})`
      : `Selected: ${files.length} files (${formatBytes(total)} in total)`;
    if (Number.isFinite(maxBytes) && total > maxBytes) {
      info.textContent += `. This is larger than the ${formatBytes(maxBytes)} limit.`;
      info.classList.add('app-file-info--too-big');
    }
    info.hidden = false;
  }

  input.addEventListener('change', update);
  update(); // Browsers may keep the selection after "back".
}

// --- Start -----------------------------------------------------------------

function start() {
  try {
    initAll();
  } catch (error) {
    // Keep the rest of the page working if a component fails to initialise.
    if (window.console) window.console.error(error);
  }
  document.querySelectorAll('[data-progress-url]').forEach(initProgress);
  document.querySelectorAll('input[type="file"][data-show-size]').forEach(initFileSize);
}

// Module scripts are deferred, so the DOM is already parsed here.
start();
