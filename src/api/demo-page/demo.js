// The demo page's script (GET /demo/demo.js): plain browser JavaScript, no framework, no
// external resource, served as a file of its own so the API's CSP (script-src 'self') holds.
// It POSTs the session, follows its event stream, then sends the prospect to the login URL
// (the token in the fragment) or shows the token and the tenant. Text is set with
// textContent only: nothing the server or the URL says is ever parsed as HTML.
(function () {
  'use strict';

  var API = '/api/v1/demo-sessions';
  var FINAL = { ready: true, failed: true, destroyed: true, expired: true };
  var FIELD_NAMES = { email: 'Email', demo_account_type: 'Demo type', subscription_tier: 'Subscription tier' };

  var $ = function (id) {
    return document.getElementById(id);
  };
  var root = $('demo');
  var params = new URLSearchParams(window.location.search);
  var profiles = (root.getAttribute('data-profiles') || '').split(',').filter(Boolean);
  // The 11 services in load order, as the server's catalog names them.
  var SERVICES = (root.getAttribute('data-services') || '').split(',').filter(Boolean);
  var fallback = root.getAttribute('data-default') || profiles[0] || 'professional';
  var asked = (params.get('type') || '').trim();
  var type = asked === '' ? fallback : asked;
  var tier = (params.get('tier') || '').trim();

  /** What the page is doing now; `run` grows on every attempt so late answers of an old one are dropped. */
  var state = { run: 0, email: '', source: null, poll: null, access: null, sessionId: null };

  var label = function (name) {
    return name.charAt(0).toUpperCase() + name.slice(1);
  };
  var sentence = function (text) {
    var t = String(text || '').trim();
    return t ? t.charAt(0).toUpperCase() + t.slice(1) : t;
  };
  var show = function (id, on) {
    $(id).hidden = !on;
  };

  // ---- the demo type (?type=) ----
  if (profiles.indexOf(type) < 0) {
    show('start', false);
    show('type-error', true);
    $('type-error-text').textContent =
      'There is no demo of type "' + type + '". Choose one of: ' + profiles.map(label).join(', ') + '.';
    profiles.forEach(function (p) {
      var q = new URLSearchParams(params);
      q.set('type', p);
      var a = document.createElement('a');
      a.href = window.location.pathname + '?' + q.toString();
      a.textContent = label(p) + ' demo';
      var li = document.createElement('li');
      li.appendChild(a);
      $('type-links').appendChild(li);
    });
    return;
  }
  $('title').textContent = 'Start your ' + label(type) + ' demo';
  document.title = label(type) + ' demo · Bakery platform';

  // ---- the 11 services ----
  var rows = {};
  SERVICES.forEach(function (name) {
    var li = document.createElement('li');
    li.setAttribute('data-service', name);
    li.setAttribute('data-status', 'pending');
    var n = document.createElement('span');
    n.className = 'name';
    n.textContent = name;
    var s = document.createElement('span');
    s.className = 'state';
    s.textContent = 'waiting';
    li.appendChild(n);
    li.appendChild(s);
    $('services').appendChild(li);
    rows[name] = { li: li, state: s };
  });

  var serviceText = function (svc) {
    switch (svc.status) {
      case 'ready':
        return Number(svc.rows || 0).toLocaleString('en') + ' rows';
      case 'loading':
        return 'loading…';
      case 'failed':
        return 'failed';
      case 'removed':
        return 'removed';
      default:
        return 'waiting';
    }
  };

  var render = function (view) {
    var services = view.services || {};
    var loaded = 0;
    var removed = 0;
    SERVICES.forEach(function (name) {
      var svc = services[name] || { status: 'pending' };
      if (svc.status === 'ready') loaded++;
      if (svc.status === 'removed') removed++;
      rows[name].li.setAttribute('data-status', svc.status);
      rows[name].state.textContent = serviceText(svc);
    });
    $('bar').value = loaded;
    var summary;
    if (view.status === 'ready') {
      summary =
        'All ' +
        SERVICES.length +
        ' services ready' +
        (typeof view.duration_ms === 'number' ? ' in ' + (view.duration_ms / 1000).toFixed(1) + ' s' : '') +
        '.';
    } else if (view.status === 'failed') {
      summary =
        'Loading failed after ' +
        (loaded + removed) +
        ' of ' +
        SERVICES.length +
        ' services had loaded' +
        (removed > 0 ? '; their data was removed.' : '.');
    } else if (view.status === 'destroyed' || view.status === 'expired') {
      summary = 'This demo was ' + view.status + '.';
    } else {
      summary = loaded + ' of ' + SERVICES.length + ' services ready…';
    }
    // Only a change is announced (aria-live), not every identical update.
    if ($('summary').textContent !== summary) $('summary').textContent = summary;
  };

  // ---- errors ----
  /** The text of an `{"error": {"code", "message", "details"}}` answer. */
  var errorText = function (body, status) {
    var e = body && body.error;
    if (!e || typeof e.message !== 'string') return 'The demo service answered ' + status + '. Please try again.';
    var lines = [sentence(e.message) + (/[.!?]$/.test(e.message) ? '' : '.')];
    (Array.isArray(e.details) ? e.details : []).forEach(function (d) {
      if (d && typeof d.message === 'string') lines.push((FIELD_NAMES[d.path] || d.path) + ': ' + d.message);
    });
    return lines.join('\n');
  };

  var formError = function (text, fields) {
    var p = $('form-error');
    p.textContent = text;
    p.hidden = !text;
    $('email').setAttribute('aria-invalid', fields && fields.indexOf('email') >= 0 ? 'true' : 'false');
  };

  var stopFollowing = function () {
    if (state.source) state.source.close();
    state.source = null;
    if (state.poll) clearTimeout(state.poll);
    state.poll = null;
  };

  var setBusy = function (busy) {
    $('submit').disabled = busy;
    $('retry').disabled = busy;
    $('submit').textContent = busy ? 'Starting…' : 'Start my demo';
  };

  // ---- the end of a session ----
  var failed = function (text, again) {
    stopFollowing();
    setBusy(false);
    $('failed-error').textContent = text;
    $('retry').textContent = again || 'Try again';
    show('failed', true);
    $('retry').focus();
  };

  var ready = function (view) {
    stopFollowing();
    var access = state.access;
    $('tenant-id').textContent = view.tenant_id;
    $('session-id').textContent = view.session_id;
    var expires = (access && access.expires_at) || view.expires_at;
    $('expires').setAttribute('datetime', expires);
    $('expires').textContent = new Date(expires).toLocaleString();
    show('ready', true);
    if (access && typeof access.login_url === 'string' && access.login_url) {
      $('ready-text').textContent = 'Taking you to your demo…';
      show('ready-details', false);
      window.location.assign(access.login_url);
      return;
    }
    if (access && typeof access.token === 'string') {
      $('ready-text').textContent = 'Sign in to the platform with this token, as the demo bakery’s owner.';
      $('token').value = access.token;
      var user = access.user || {};
      $('user').textContent =
        'User ' + (user.email || '?') + (user.role ? ' (' + user.role + ')' : '') + '. Keep the token to yourself.';
      show('token-box', true);
    } else {
      $('ready-text').textContent = 'Your demo tenant is loaded. No access token was issued for it.';
    }
    $('ready-title').focus();
  };

  var settle = function (view) {
    render(view);
    $('progress-title').textContent = view.status === 'ready' ? 'Demo loaded' : 'Loading stopped';
    if (view.status === 'ready') ready(view);
    else if (view.status === 'failed') failed(view.error || 'A service of the demo failed to load.');
    else failed('This demo was ' + view.status + ' before it was ready.', 'Start a new demo');
  };

  // ---- following a session: the event stream, polling GET when the stream is not available ----
  var pollOnce = function (run, misses) {
    fetch(API + '/' + encodeURIComponent(state.sessionId), { headers: { Accept: 'application/json' } })
      .then(function (res) {
        return res.json().then(
          function (body) {
            return { res: res, body: body };
          },
          function () {
            return { res: res, body: null };
          },
        );
      })
      .then(
        function (r) {
          if (run !== state.run) return;
          if (r.res.status >= 400 && r.res.status < 500) {
            failed(errorText(r.body, r.res.status));
            return;
          }
          if (r.res.ok && r.body) {
            if (FINAL[r.body.status]) {
              settle(r.body);
              return;
            }
            render(r.body);
          }
          state.poll = setTimeout(function () {
            pollOnce(run, 0);
          }, 1000);
        },
        function () {
          if (run !== state.run) return;
          if (misses >= 30) {
            failed('The demo service cannot be reached. Check your connection and try again.');
            return;
          }
          state.poll = setTimeout(function () {
            pollOnce(run, misses + 1);
          }, 1000);
        },
      );
  };

  var follow = function (run) {
    if (typeof window.EventSource !== 'function') {
      pollOnce(run, 0);
      return;
    }
    var es = new EventSource(API + '/' + encodeURIComponent(state.sessionId) + '/events');
    state.source = es;
    var onView = function (ev) {
      if (run !== state.run) return;
      var view;
      try {
        view = JSON.parse(ev.data);
      } catch (_) {
        return;
      }
      if (ev.type === 'end' || FINAL[view.status]) settle(view);
      else render(view);
    };
    es.addEventListener('progress', onView);
    es.addEventListener('end', onView);
    es.addEventListener('error', function (ev) {
      if (run !== state.run) return;
      if (ev.data) {
        // The server's own `error` event: the session can no longer be read.
        var body = null;
        try {
          body = JSON.parse(ev.data);
        } catch (_) {
          /* not JSON: the generic text below */
        }
        failed(errorText(body, 'an error'));
        return;
      }
      // A closed stream (refused, or answered 204) is not retried by the browser: read the session instead.
      if (es.readyState === EventSource.CLOSED) {
        state.source = null;
        pollOnce(run, 0);
      }
    });
  };

  // ---- starting a session ----
  var start = function () {
    stopFollowing();
    var run = ++state.run;
    state.access = null;
    state.sessionId = null;
    setBusy(true);
    formError('');
    var body = { demo_account_type: type, email: state.email };
    if (tier) body.subscription_tier = tier;
    fetch(API, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(body),
    })
      .then(function (res) {
        return res.json().then(
          function (json) {
            return { res: res, body: json };
          },
          function () {
            return { res: res, body: null };
          },
        );
      })
      .then(
        function (r) {
          if (run !== state.run) return;
          if (!r.res.ok || !r.body || typeof r.body.session_id !== 'string') {
            var text = errorText(r.body, r.res.status);
            var retryAfter = r.res.headers.get('Retry-After');
            if (r.res.status === 429 && retryAfter && /^\d+$/.test(retryAfter))
              text += '\nYou can try again in ' + retryAfter + ' s.';
            var fields = ((r.body && r.body.error && r.body.error.details) || []).map(function (d) {
              return d && d.path;
            });
            // Back to the form (a retry after a failed session comes back here too).
            show('failed', false);
            show('progress', false);
            show('start', true);
            setBusy(false);
            formError(text, fields);
            $('email').focus();
            return;
          }
          $('title').textContent = 'Your ' + label(type) + ' demo';
          state.sessionId = r.body.session_id;
          state.access = r.body.access || null;
          show('start', false);
          show('failed', false);
          show('ready', false);
          $('progress-title').textContent = 'Loading your demo';
          render({ status: r.body.status, services: {} });
          show('progress', true);
          $('progress-title').focus();
          follow(run);
        },
        function () {
          if (run !== state.run) return;
          show('failed', false);
          show('start', true);
          setBusy(false);
          formError('The demo service cannot be reached. Check your connection and try again.');
        },
      );
  };

  $('start').addEventListener('submit', function (ev) {
    ev.preventDefault();
    state.email = $('email').value.trim();
    start();
  });
  $('retry').addEventListener('click', function () {
    show('failed', false);
    start();
  });

  // ---- copy buttons ----
  Array.prototype.forEach.call(document.querySelectorAll('button.copy'), function (button) {
    button.addEventListener('click', function () {
      var target = $(button.getAttribute('data-copy'));
      var text = 'value' in target && target.value !== undefined ? target.value : target.textContent;
      var done = function () {
        $('copied').textContent = 'Copied.';
      };
      var byHand = function () {
        if (target.select) target.select();
        $('copied').textContent = 'Select the text and copy it (Ctrl+C).';
      };
      if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(text).then(done, byHand);
      else byHand();
    });
  });
})();
