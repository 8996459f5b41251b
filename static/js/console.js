/* The console's few behaviours, bound from data- attributes: the Content-Security-Policy allows no
   inline scripts or event handlers (onclick=, onsubmit=) and no style attributes, so templates mark
   elements and this file acts on them. Delegated listeners, so content that htmx swaps in works too.

   data-confirm="Question?"        on a <form>: ask before submitting; nothing is sent on Cancel.
   data-auto-submit                on a <select>/<input>: submit its form when the value changes; with
                                   data-confirm on the field, ask first (a switch flips back on Cancel).
   data-query-from-location        on a <form>: its `query` field takes the page's current query string.
   data-print                      on a button: print the page.
   data-drop-empty                 on an htmx <form>: leave empty fields out of the request's query string.
   data-width="42"                 set the element's width to 42 % (progress bars).
   #tab-content[data-active-tab]   swapped in by htmx: mark the matching [data-tab] link as the active tab. */
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
      return;
    }
    if (form.hasAttribute("data-query-from-location") && form.elements.query) {
      form.elements.query.value = window.location.search.slice(1);
    }
  }, true);

  document.addEventListener("change", function (event) {
    var field = event.target;
    if (!(field && field.hasAttribute && field.hasAttribute("data-auto-submit") && field.form)) return;
    if (field.dataset.confirm && !window.confirm(field.dataset.confirm)) {
      if (field.type === "checkbox" || field.type === "radio") field.checked = !field.checked;
      return;
    }
    field.form.submit();
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-print]");
    if (button) {
      event.preventDefault();
      window.print();
    }
  });

  document.addEventListener("htmx:configRequest", function (event) {
    var form = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("form[data-drop-empty]");
    if (!form) return;
    var data = event.detail.formData;
    Array.from(data.keys()).forEach(function (key) {
      if (data.getAll(key).every(function (value) { return value === ""; })) { data.delete(key); }
    });
  });

  function applyWidths(root) {
    root.querySelectorAll("[data-width]").forEach(function (element) {
      element.style.width = Math.max(0, Math.min(100, Number(element.dataset.width) || 0)) + "%";
    });
  }

  function markActiveTab(root) {
    var content = root.id === "tab-content" ? root : root.querySelector("#tab-content[data-active-tab]");
    if (!content || !content.dataset.activeTab) return;
    document.querySelectorAll("[data-tab]").forEach(function (link) {
      var active = link.dataset.tab === content.dataset.activeTab;
      link.classList.toggle("active", active);
      link.setAttribute("aria-selected", active ? "true" : "false");
    });
  }

  document.addEventListener("DOMContentLoaded", function () { applyWidths(document); });
  document.addEventListener("htmx:load", function (event) {
    applyWidths(event.detail.elt.parentElement || event.detail.elt);
    markActiveTab(event.detail.elt);
  });
})();
