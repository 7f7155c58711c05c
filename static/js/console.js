/* energydash console: small progressive enhancements. Everything works without this file;
   it is loaded from our origin (strict CSP: no inline scripts, no eval, no inline styles). */
(function () {
  "use strict";

  // Orders list on a phone: the filters fold away while none is set, so the first order is
  // above the fold ("Filters" opens them). Without JavaScript they stay open.
  document.addEventListener("DOMContentLoaded", function () {
    var panel = document.querySelector("details.filters-panel");
    if (!panel || !window.matchMedia("(max-width: 48rem)").matches) return;
    var params = new URLSearchParams(window.location.search);
    var set = false;
    params.forEach(function (value, key) {
      if (value && key !== "size" && key !== "sort" && key !== "after" && key !== "before") set = true;
    });
    if (!set) panel.open = false;
  });

  // Energy presets fill the one energy number (the form quotes exactly what the box shows).
  // Without JavaScript the preset buttons submit the form and the server fills the number.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-energy-preset]");
    if (!button) return;
    var input = document.getElementById(button.getAttribute("data-target") || "id_energy");
    if (!input) return;
    event.preventDefault();
    input.value = button.getAttribute("data-energy-preset");
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.dispatchEvent(new Event("change", { bubbles: true }));
    input.focus();
  });

  // A slow submit shows that it is working: the clicked button is disabled and says what it is
  // waiting for ("Waiting for itrx…"); a second click cannot send a second request.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter;
    if (!button || !button.hasAttribute("data-busy-text")) return;
    if (form.classList.contains("is-busy")) {
      event.preventDefault();
      return;
    }
    form.classList.add("is-busy");
    form.setAttribute("aria-busy", "true");
    var note = form.querySelector(".busy-note");
    if (note) note.textContent = button.getAttribute("data-busy-text");
    // After the browser has built the request from the form, so the button's own value counts.
    window.setTimeout(function () {
      button.disabled = true;
      button.setAttribute("data-label", button.textContent);
      button.textContent = button.getAttribute("data-busy-text");
    }, 0);
  });

  // Coming back with the Back button restores the page from cache: make it usable again.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("form.is-busy").forEach(function (form) {
      form.classList.remove("is-busy");
      form.removeAttribute("aria-busy");
      form.querySelectorAll("button[data-label]").forEach(function (button) {
        button.disabled = false;
        button.textContent = button.getAttribute("data-label");
      });
    });
  });

  // A print button (monthly statement): the page's print stylesheet does the rest.
  // A copy button copies the text of the element it names (a deposit address) and says so.
  document.addEventListener("click", function (event) {
    if (event.target.closest("button[data-print]")) {
      window.print();
      return;
    }
    var button = event.target.closest("button[data-copy]");
    if (!button) return;
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source || !navigator.clipboard) return;
    navigator.clipboard.writeText(source.textContent.trim()).then(function () {
      button.textContent = "Copied";
    });
  });
})();
