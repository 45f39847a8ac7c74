/*! PayDigital QRIS checkout loader. Embed with:
 *    <script src="https://your-shop.example/checkout/paydigital-checkout.js" defer></script>
 *    <paydigital-checkout amount="10000"></paydigital-checkout>
 *  Works as a classic or a module script, from any page or origin, and may be loaded twice.
 *  It finds the widget's wasm next to itself; the file names below are filled in by the build. */
(function () {
  "use strict";
  if (window.PayDigitalCheckout) return;

  var WIDGET_JS = "__PAYDIGITAL_WIDGET_JS__";
  var WIDGET_WASM = "__PAYDIGITAL_WIDGET_WASM__";

  // Where this script came from (module scripts have no currentScript: look for the tag).
  function scriptBase() {
    var script = document.currentScript;
    if (!script || !script.src) {
      var scripts = document.querySelectorAll("script[src]");
      for (var i = scripts.length - 1; i >= 0; i--) {
        if (/paydigital-checkout\.js(\?|#|$)/.test(scripts[i].src)) { script = scripts[i]; break; }
      }
    }
    return new URL(".", script && script.src ? script.src : document.baseURI).href;
  }
  var base = scriptBase();

  var ready = null;
  // The glue and the wasm are fetched at once, not one after the other (the glue's init takes
  // the pending `Response`): a whole network latency less on a slow phone (issue 23). The wasm
  // is served as application/wasm, so the browser compiles it while it downloads.
  function load() {
    if (!ready) {
      var wasm = fetch(new URL(WIDGET_WASM, base).href);
      wasm.catch(function () {});  // failures surface through `ready`
      ready = import(new URL(WIDGET_JS, base).href).then(function (widget) {
        return widget.default({ module_or_path: wasm }).then(function () {
          return widget;
        });
      });
      ready.catch(function () { ready = null; });
    }
    return ready;
  }

  // For pages that show the checkout later (a button, a modal): downloads and compiles the
  // widget now. Never rejects: a failure shows when the checkout mounts.
  function preload() {
    return load().then(function () {}, function () {});
  }

  var ATTRIBUTES = {
    endpoint: "endpoint", amount: "amount", item: "item", payment: "payment",
    description: "description",
    "customer-name": "customerName", reference: "reference", lang: "lang",
    "poll-interval": "pollInterval", "success-url": "successUrl", theme: "theme"
  };

  function optionsFrom(element) {
    var options = {};
    Object.keys(ATTRIBUTES).forEach(function (name) {
      if (element.hasAttribute(name)) options[ATTRIBUTES[name]] = element.getAttribute(name);
    });
    return options;
  }

  // The create the widget would send, sent now, while the wasm downloads: its answer is
  // handed to the widget, which sends its own instead when what it would send differs, and
  // verifies the QRIS either way (issue 23). Only the plain cases, spelled as
  // `src/options.rs` reads them; anything else (a server-made `payment`, a remembered payment
  // to resume, an option that is not text) is left to the widget alone.
  function text(value) {
    if (value === undefined || value === null) return null;
    if (typeof value !== "string") return undefined;
    return value.trim() || null;
  }
  function randomKey() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b < 16 ? "0" : "") + b.toString(16); }).join("");
  }
  function earlyCreate(options) {
    if (typeof fetch !== "function" || typeof AbortController !== "function" || !window.crypto) return null;
    var endpoint = text(options.endpoint), item = text(options.item), payment = text(options.payment);
    var description = text(options.description), customerName = text(options.customerName);
    var reference = text(options.reference), amount = options.amount;
    if ([endpoint, item, payment, description, customerName, reference].indexOf(undefined) >= 0 || payment) return null;
    if (typeof amount === "string") amount = /^\s*[0-9]+\s*$/.test(amount) ? Number(amount) : amount.trim() ? NaN : null;
    else if (amount === undefined) amount = null;
    if (amount !== null && !(typeof amount === "number" && Number.isSafeInteger(amount) && amount > 0)) return null;
    if ((amount === null) === (item === null)) return null;
    endpoint = (endpoint || "/api/payments").replace(/\/+$/, "");
    var order = amount !== null ? "amount=" + amount : "item=" + item;
    // The order's idempotency key is remembered before the create goes out, under the name
    // the widget uses (`KEY_SUFFIX`): a remount, a reload or a second element with the same
    // order sends the same key, and the proxy makes one payment (issue 33).
    var resume = "paydigital-checkout|" + endpoint + "|" + order + "|" + (reference || ""), key = null;
    try {
      if (sessionStorage.getItem(resume)) return null;
      key = sessionStorage.getItem(resume + "|key");
      if (!key) sessionStorage.setItem(resume + "|key", key = randomKey());
    } catch (e) { /* no storage: nothing to resume or remember */ }
    // Key order as the widget's `CreatePayment` serialises.
    var body = {};
    if (amount !== null) body.amount = amount;
    if (item !== null) body.item = item;
    if (description) body.description = description;
    if (customerName) body.customer_name = customerName;
    if (reference) body.reference = reference;
    var early = { endpoint: endpoint, body: JSON.stringify(body), key: key || randomKey(), abort: new AbortController() };
    early.response = fetch(endpoint, {
      method: "POST", body: early.body, signal: early.abort.signal,
      headers: { "Content-Type": "application/json", "Idempotency-Key": early.key }
    });
    early.response.catch(function () {});  // the widget reads the failure, or nobody needs it
    return early;
  }

  var CALLBACKS = { onCreated: "paydigital:created", onPaid: "paydigital:paid",
                    onExpired: "paydigital:expired", onError: "paydigital:error" };

  function failLoading(element, error) {
    element.setAttribute("data-state", "error");
    element.dispatchEvent(new CustomEvent("paydigital:error", { bubbles: true, composed: true,
      detail: { code: "load_failed", message: String(error && error.message || error) } }));
  }

  // Mounts into `target` (an element or a selector). Returns a handle with destroy().
  function mount(target, options) {
    var element = typeof target === "string" ? document.querySelector(target) : target;
    if (!element) return Promise.reject(new Error("PayDigitalCheckout.mount: no element " + target));
    options = options || {};
    var listeners = [];
    Object.keys(CALLBACKS).forEach(function (key) {
      if (typeof options[key] === "function") {
        var listener = function (event) { options[key](event.detail); };
        element.addEventListener(CALLBACKS[key], listener);
        listeners.push([CALLBACKS[key], listener]);
      }
    });
    var settings = {};
    Object.keys(options).forEach(function (key) {
      if (!CALLBACKS[key]) settings[key] = options[key];
    });
    var loading = load();  // the wasm first: it is the longest download
    var early = earlyCreate(settings);
    return loading.then(function (widget) {
      var handle = widget.mountWithCreate(element, settings, early);
      return {
        get state() { return handle ? handle.state : "destroyed"; },
        get payment() { return handle ? handle.payment : null; },
        // New options over the old: another order gets its own payment (`paydigital:created`
        // again, the old QR gone at once); the same order resumes its payment.
        update: function (changes) {
          if (!handle) return;
          Object.keys(changes || {}).forEach(function (key) {
            if (!CALLBACKS[key]) settings[key] = changes[key];
          });
          handle.destroy(); handle.free();
          handle = widget.mountWithCreate(element, settings, earlyCreate(settings));
        },
        destroy: function () {
          listeners.forEach(function (l) { element.removeEventListener(l[0], l[1]); });
          listeners = [];
          if (handle) { handle.destroy(); handle.free(); handle = null; }
        }
      };
    }, function (error) {
      if (early) early.abort.abort();
      failLoading(element, error);
      throw error;
    });
  }

  window.PayDigitalCheckout = { mount: mount, load: load, preload: preload };

  if (!window.customElements || customElements.get("paydigital-checkout")) return;
  customElements.define("paydigital-checkout", class extends HTMLElement {
    static get observedAttributes() { return Object.keys(ATTRIBUTES); }
    // An attribute changed on a mounted element: mounted again with what it says now.
    // Another order (amount, item, payment, reference, endpoint) is another payment; the
    // same order resumes its payment from the session, so no second one is made.
    // The old view goes at once; the new one starts after the current script, so that a
    // framework setting amount and reference one after the other makes no payment for the
    // half-changed order in between.
    attributeChangedCallback(name, old, value) {
      if (old === value || !(this._live || this._restarting)) return;
      this._stop();
      this.setAttribute("data-state", "loading");
      if (this._restarting) return;
      this._restarting = true;
      var element = this;
      Promise.resolve().then(function () {
        element._restarting = false;
        if (element.isConnected && !element._live) element._start();
      });
    }
    // Moved in the DOM (removed and inserted again in one go, as frameworks reorder): the
    // element stays mounted, so it keeps its payment and its view. Only an element still
    // out of the page once the current script is done is stopped.
    connectedCallback() {
      if (!this._live) this._start();
    }
    disconnectedCallback() {
      var element = this;
      Promise.resolve().then(function () {
        if (!element.isConnected) element._stop();
      });
    }
    _start() {
      var element = this;
      this._live = true;
      var token = (this._token = {});
      this.setAttribute("data-state", "loading");
      var options = optionsFrom(this);
      var loading = load();  // the wasm first: it is the longest download
      var early = (this._early = earlyCreate(options));
      loading.then(function (widget) {
        // Removed (or re-added) while loading: only the latest connection mounts.
        if (element._token !== token || !element.isConnected) return;
        element._early = null;  // the widget's now: it stops it with everything else
        element._handle = widget.mountWithCreate(element, options, early);
      }, function (error) {
        if (early) early.abort.abort();
        failLoading(element, error);
      });
    }
    _stop() {
      this._live = false;
      this._token = null;
      if (this._early) { this._early.abort.abort(); this._early = null; }
      if (this._handle) { this._handle.destroy(); this._handle.free(); this._handle = null; }
    }
  });
})();
