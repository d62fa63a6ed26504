/* SOFI progressive enhancements: every page works without them. No inline script (CSP). */
(function () {
  "use strict";

  function counters() {
    document.querySelectorAll("[data-maxlength]").forEach(function (input) {
      var max = parseInt(input.getAttribute("data-maxlength"), 10);
      var out = document.querySelector('[data-counter-for="' + input.id + '"]');
      if (!out) { return; }
      function update() {
        var used = input.value.length;
        out.textContent = used + " / " + max + " caractères" + (used > max ? " — trop long de " + (used - max) : "");
        out.classList.toggle("over", used > max);
      }
      input.addEventListener("input", update);
      update();
    });
  }

  function autoSubmit() {
    document.querySelectorAll("#organisation-switcher").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  }

  function printButtons() {
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
  }

  function confirmations() {
    document.querySelectorAll("[data-confirm]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        if (!window.confirm(button.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
  }

  /* Flask-Admin's bulk action menu (templates/admin/actions.html): the item names the action that
     Flask-Admin's actions.js runs on the selected rows, after its confirmation. */
  function modelActions() {
    document.addEventListener("click", function (event) {
      var item = event.target.closest("[data-model-action]");
      if (!item || !window.modelActions) { return; }
      event.preventDefault();
      window.modelActions.execute(item.getAttribute("data-model-action"));
    });
  }

  /* Links that only open a menu or add a filter ("#") never navigate. Listened to while the click
     goes down (capture): Flask-Admin's menu script stops it before it would come back up. */
  function placeholderLinks() {
    document.addEventListener("click", function (event) {
      if (event.target.closest('a[href="#"]')) { event.preventDefault(); }
    }, true);
  }

  /* Flask-Admin's list filters are built by its script without labels: each operator and value field
     is named after its filter, and so is the button removing it. */
  function filterLabels() {
    var table = document.querySelector("table.filters");
    if (!table) { return; }
    function name(row) {
      var remove = row.querySelector(".remove-filter");
      var label = remove ? remove.textContent.replace("\u00d7", "").trim() : "";
      if (remove) { remove.setAttribute("aria-label", "Retirer le filtre " + label); }
      row.querySelectorAll("select.filter-op").forEach(function (field) {
        field.setAttribute("aria-label", "Filtre " + label + " : condition");
      });
      row.querySelectorAll(".filter-val:not([type=hidden])").forEach(function (field) {
        field.setAttribute("aria-label", "Filtre " + label + " : valeur");
      });
    }
    function all() { table.querySelectorAll("tr").forEach(name); }
    new MutationObserver(all).observe(table, {childList: true, subtree: true});
    all();
  }

  function defaultPublics() {
    var form = document.querySelector("form[data-default-publics]");
    if (!form) { return; }
    var defaults = JSON.parse(form.getAttribute("data-default-publics"));
    var select = form.querySelector("#dispositif_code");
    if (!select) { return; }
    select.addEventListener("change", function () {
      var codes = defaults[select.value] || [];
      var boxes = form.querySelectorAll('input[name="publics"]');
      var anyChecked = Array.prototype.some.call(boxes, function (box) { return box.checked; });
      if (anyChecked) { return; }
      boxes.forEach(function (box) { box.checked = codes.indexOf(box.value) !== -1; });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    counters();
    autoSubmit();
    printButtons();
    confirmations();
    defaultPublics();
    filterLabels();
  });
  modelActions();
  placeholderLinks();
})();
