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
  function load() {
    if (!ready) {
      ready = import(new URL(WIDGET_JS, base).href).then(function (widget) {
        return widget.default({ module_or_path: new URL(WIDGET_WASM, base).href }).then(function () {
          return widget;
        });
      });
      ready.catch(function () { ready = null; });
    }
    return ready;
  }

  var ATTRIBUTES = {
    endpoint: "endpoint", amount: "amount", item: "item", payment: "payment",
    description: "description",
    "customer-name": "customerName", reference: "reference", lang: "lang",
    "poll-interval": "pollInterval", "success-url": "successUrl"
  };

  function optionsFrom(element) {
    var options = {};
    Object.keys(ATTRIBUTES).forEach(function (name) {
      if (element.hasAttribute(name)) options[ATTRIBUTES[name]] = element.getAttribute(name);
    });
    return options;
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
    return load().then(function (widget) {
      var handle = widget.mount(element, settings);
      return {
        get state() { return handle ? handle.state : "destroyed"; },
        get payment() { return handle ? handle.payment : null; },
        destroy: function () {
          listeners.forEach(function (l) { element.removeEventListener(l[0], l[1]); });
          listeners = [];
          if (handle) { handle.destroy(); handle.free(); handle = null; }
        }
      };
    }, function (error) {
      failLoading(element, error);
      throw error;
    });
  }

  window.PayDigitalCheckout = { mount: mount, load: load };

  if (!window.customElements || customElements.get("paydigital-checkout")) return;
  customElements.define("paydigital-checkout", class extends HTMLElement {
    connectedCallback() {
      var element = this;
      var token = (this._token = {});
      this.setAttribute("data-state", "loading");
      load().then(function (widget) {
        // Removed (or re-added) while loading: only the latest connection mounts.
        if (element._token !== token || !element.isConnected) return;
        element._handle = widget.mount(element, optionsFrom(element));
      }, function (error) { failLoading(element, error); });
    }
    disconnectedCallback() {
      this._token = null;
      if (this._handle) { this._handle.destroy(); this._handle.free(); this._handle = null; }
    }
  });
})();
