/* Call tracking: shows each visitor their own tracking number in place of the site's number.
   <script async src="https://APP/dni/v1/swap.js" data-website="wk_..."></script>
   Any failure leaves the page as the site wrote it. */
(function (w, d) {
  "use strict";
  var script = d.currentScript;
  if (!script || (w.CallTracking && w.CallTracking.swap)) return; // pasted twice
  var api = script.src.replace(/\/v1\/swap\.js.*$/, "/v1/visits");
  var started, heartbeat, observer, ads;
  var days = 90;
  var swaps = {}; // digits shown on the page (a target, or a number shown before) -> E.164
  var patterns = [];
  var SEP = "[\\s.()\\-\u2010-\u2013]{0,3}";
  var SKIP = /^(SCRIPT|STYLE|NOSCRIPT|TEXTAREA)$/;
  var ATTRIBUTES = ["href", "title", "aria-label"];
  var E164 = /^\+\d{7,15}$/;

  function cookie(name) {
    var m = d.cookie.match("(?:^|; )" + name + "=([^;]*)");
    return m ? decodeURIComponent(m[1]) : "";
  }

  function setCookie(name, value) {
    d.cookie = name + "=" + encodeURIComponent(value) + ";path=/;max-age=" + days * 86400 +
      ";SameSite=Lax" + (location.protocol == "https:" ? ";Secure" : "");
  }

  // A number as a page may write it: its digits with any separators between them, with or
  // without its country code (+ optional), or a national trunk 0 instead.
  function pattern(digits) {
    var spaced = function (s) { return SEP + s.split("").join(SEP); };
    var forms = ["\\+?" + spaced(digits)];
    for (var cc = 1; cc < (/^1\d{10}$/.test(digits) ? 2 : 4); cc++) {
      forms.push("0?" + spaced(digits.slice(cc)));
    }
    return new RegExp("(^|[^\\d+])(" + forms.join("|") + ")(?!\\d)", "g");
  }

  // `number` written as `shown` is written (each digit replaced in place), or in E.164 when
  // the two cannot be written alike.
  function formatLike(shown, from, number) {
    var have = shown.replace(/\D/g, "");
    var want = number.slice(1);
    var trunk = have[0] == "0" && from.indexOf(have) ? "0" : "";
    var omitted = from.length - have.length + trunk.length;
    if (omitted) {
      if (from.slice(0, omitted) != want.slice(0, omitted)) return number;
      want = trunk + want.slice(omitted);
    }
    var i = 0;
    return want.length != have.length ? number : shown.replace(/\d/g, function () {
      return want[i++];
    });
  }

  function replace(text) {
    patterns.forEach(function (p) {
      text = text.replace(p.re, function (all, before, shown) {
        return before + formatLike(shown, p.from, swaps[p.from]);
      });
    });
    return text;
  }

  function swapAttribute(el, name) {
    var value = el.getAttribute(name);
    if (value && (name != "href" || /^\s*(tel|sms|callto):/i.test(value))) {
      var swapped = replace(value);
      if (swapped != value) el.setAttribute(name, swapped);
    }
  }

  // Not in scripts and styles, nor where the site marks a number to keep (data-keep-number).
  function kept(el) {
    return el && el.closest && (SKIP.test(el.nodeName) || el.closest("[data-keep-number]"));
  }

  function scan(node) {
    if (!patterns.length || !node) return;
    if (node.nodeType == 3) {
      var text = replace(node.data);
      if (text != node.data && !kept(node.parentNode)) node.data = text;
    } else if (!kept(node)) {
      if (node.nodeType == 1) ATTRIBUTES.forEach(function (a) { swapAttribute(node, a); });
      for (var child = node.firstChild; child; child = child.nextSibling) scan(child);
    }
  }

  function rescan() {
    try { scan(d.documentElement); } catch (e) {}
  }

  function apply(list) {
    list.forEach(function (swap) {
      var number = swap.number;
      if (!E164.test(swap.target) || !E164.test(number)) return;
      var target = swap.target.slice(1);
      var before = swaps[target];
      // A new number for this visitor also replaces the one the page shows now.
      for (var from in swaps) if (swaps[from] == before) swaps[from] = number;
      if (before) swaps[before.slice(1)] = number;
      swaps[target] = number;
    });
    patterns = [];
    for (var digits in swaps) {
      if (digits != swaps[digits].slice(1)) patterns.push({ from: digits, re: pattern(digits) });
    }
    rescan();
    if (!observer && w.MutationObserver) {
      // Numbers a single-page app or a late widget adds after load.
      observer = new MutationObserver(function (records) {
        try {
          records.forEach(function (r) {
            if (r.type == "attributes") {
              if (!kept(r.target)) swapAttribute(r.target, r.attributeName);
            } else if (r.type == "characterData") scan(r.target);
            else for (var i = 0; i < r.addedNodes.length; i++) {
              if (!kept(r.target)) scan(r.addedNodes[i]);
            }
          });
        } catch (e) {}
      });
      observer.observe(d.documentElement, {
        childList: true, subtree: true, characterData: true, attributeFilter: ATTRIBUTES
      });
    }
  }

  function request() {
    var ga = cookie("_ga").split("."); // GA1.<depth>.<random>.<time>: the id is the last two
    var first = null;
    try { first = JSON.parse(cookie("_ctf")); } catch (e) {}
    var abort = new AbortController();
    var timer = setTimeout(function () { abort.abort(); }, 3000);
    // A string body goes as text/plain: a CORS simple request, without a preflight.
    fetch(api, {
      method: "POST",
      credentials: "omit",
      signal: abort.signal,
      body: JSON.stringify({
        website: script.getAttribute("data-website") || "",
        visitor: cookie("_ctv"),
        page: location.href.slice(0, 1500),
        referrer: d.referrer.slice(0, 600),
        ga: ga.length > 3 ? ga.slice(-2).join(".") : "",
        first: first && typeof first == "object" ? first : null,
        consent: ads
      })
    }).then(function (response) {
      if (response.status != 200) throw response.status;
      return response.json();
    }).then(function (answer) {
      clearTimeout(timer);
      if (answer.cookie_days > 0) days = answer.cookie_days;
      if (/^[\w.-]{1,64}$/.test(answer.visitor)) setCookie("_ctv", answer.visitor);
      if (answer.first) setCookie("_ctf", JSON.stringify(answer.first));
      apply(answer.swaps || []);
      if (answer.heartbeat > 0 && !heartbeat) {
        heartbeat = setInterval(function () {
          if (!d.hidden) request();
        }, Math.max(answer.heartbeat, 15) * 1000);
      }
    }).catch(function () {
      clearTimeout(timer);
    });
  }

  function start() {
    if (started || !w.fetch || !w.AbortController) return;
    started = 1;
    try {
      request();
      // Back on the page after a while: keep (or renew) the visitor's number at once.
      d.addEventListener("visibilitychange", function () {
        if (!d.hidden && heartbeat) request();
      });
    } catch (e) {}
  }

  // swap(): look for numbers again now; consent(): the visitor agreed (data-consent="wait"),
  // and to what for ads if said (or as the event's detail): {ad_user_data: true, ...}.
  function consent(c) {
    c = c instanceof Event ? c.detail : c;
    if (c && typeof c == "object") {
      ads = { ad_user_data: c.ad_user_data === true,
        ad_personalization: c.ad_personalization === true };
      if (started) request();
    }
    start();
  }
  w.CallTracking = { swap: rescan, consent: consent };
  d.addEventListener("calltracking:consent", consent);
  if (script.getAttribute("data-consent") != "wait") start();
})(window, document);
