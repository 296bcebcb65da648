// The console's search: ArrowDown from the search box into the results, ArrowUp/ArrowDown
// between them, ArrowUp from the first back to the box. Everything works without it (Tab).
(function () {
  "use strict";
  function links() {
    var results = document.getElementById("results");
    return results ? Array.prototype.slice.call(results.querySelectorAll("a")) : [];
  }
  document.addEventListener("keydown", function (event) {
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") {
      return;
    }
    var box = document.getElementById("q");
    var list = links();
    if (!box || list.length === 0) {
      return;
    }
    var index = list.indexOf(document.activeElement);
    if (document.activeElement === box && event.key === "ArrowDown") {
      list[0].focus();
    } else if (index >= 0 && event.key === "ArrowDown" && index < list.length - 1) {
      list[index + 1].focus();
    } else if (index > 0 && event.key === "ArrowUp") {
      list[index - 1].focus();
    } else if (index === 0 && event.key === "ArrowUp") {
      box.focus();
    } else {
      return;
    }
    event.preventDefault();
  });
})();
