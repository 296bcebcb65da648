// A long list of checkboxes narrowed as one types (the contracts' residences and categories).
// <input data-filter-list="ID"> hides the items of #ID whose words do not hold what was typed,
// accents and case ignored; ticked boxes always stay in view. Without JavaScript the filter
// stays hidden and the whole list shows.
(function () {
  "use strict";
  function plain(text) {
    return text.normalize("NFD").replace(/\p{Diacritic}/gu, "").toLowerCase();
  }
  function narrow(box) {
    var words = plain(box.value.trim());
    var list = document.getElementById(box.dataset.filterList);
    list.querySelectorAll("li").forEach(function (item) {
      var ticked = item.querySelector("input:checked") !== null;
      item.hidden = words !== "" && !ticked && !plain(item.textContent).includes(words);
    });
    list.querySelectorAll("fieldset.group").forEach(function (group) {
      group.hidden = group.querySelector("li:not([hidden])") === null;
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[data-filter-list]").forEach(function (box) {
      box.closest("[data-filter]").hidden = false;
      box.addEventListener("input", function () { narrow(box); });
      // Enter in the filter narrows the list; it does not send the form.
      box.addEventListener("keydown", function (event) {
        if (event.key === "Enter") { event.preventDefault(); }
      });
    });
  });
})();
