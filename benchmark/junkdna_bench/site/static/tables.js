/*
 * Sortable, filterable leaderboard tables. Local, dependency-free, no network.
 *
 * Marks up every <table data-jdb-sortable>: clicking (or Enter/Space on) a header sorts the rows by
 * that column, ascending then descending; a search box above the table hides rows that do not
 * contain the typed text. Cells may carry data-value with the number to sort by (the text shown
 * can then be formatted freely); an empty data-value sorts last in both directions.
 */
(function () {
  "use strict";

  function cellValue(row, index) {
    var cell = row.cells[index];
    if (!cell) return { empty: true, number: NaN, text: "" };
    var raw = cell.hasAttribute("data-value") ? cell.getAttribute("data-value") : cell.textContent;
    var text = raw.trim();
    var number = text === "" ? NaN : Number(text);
    return { empty: text === "", number: number, text: text.toLowerCase() };
  }

  function compare(a, b) {
    if (a.empty || b.empty) return a.empty === b.empty ? 0 : a.empty ? 1 : -1;
    if (!isNaN(a.number) && !isNaN(b.number)) return a.number - b.number;
    return a.text < b.text ? -1 : a.text > b.text ? 1 : 0;
  }

  function sortBy(table, header, index) {
    var body = table.tBodies[0];
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    var rows = Array.prototype.slice.call(body.rows).map(function (row, position) {
      return { row: row, value: cellValue(row, index), position: position };
    });
    rows.sort(function (a, b) {
      var order = compare(a.value, b.value);
      if (a.value.empty || b.value.empty) return order || a.position - b.position;
      return (ascending ? order : -order) || a.position - b.position;
    });
    rows.forEach(function (item) { body.appendChild(item.row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell) {
      cell.removeAttribute("aria-sort");
    });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }

  function addFilter(table) {
    var box = document.createElement("input");
    box.type = "search";
    box.className = "jdb-filter";
    box.placeholder = "Filter rows…";
    box.setAttribute("aria-label", "Filter the rows of the table below");
    var count = document.createElement("span");
    count.className = "jdb-filter-count";
    var bar = document.createElement("div");
    bar.className = "jdb-filter-bar";
    bar.appendChild(box);
    bar.appendChild(count);
    var anchor = table.closest(".jdb-table") || table;
    anchor.parentNode.insertBefore(bar, anchor);
    function apply() {
      var query = box.value.trim().toLowerCase();
      var rows = table.tBodies[0].rows;
      var shown = 0;
      Array.prototype.forEach.call(rows, function (row) {
        var visible = query === "" || row.textContent.toLowerCase().indexOf(query) !== -1;
        row.hidden = !visible;
        if (visible) shown += 1;
      });
      count.textContent = shown + " of " + rows.length + " rows";
    }
    box.addEventListener("input", apply);
    apply();
  }

  function enhance(table) {
    if (table.hasAttribute("data-jdb-ready") || !table.tHead || !table.tBodies.length) return;
    table.setAttribute("data-jdb-ready", "");
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (header, index) {
      header.tabIndex = 0;
      header.setAttribute("role", "columnheader");
      header.title = "Sort by this column";
      header.addEventListener("click", function () { sortBy(table, header, index); });
      header.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          sortBy(table, header, index);
        }
      });
    });
    addFilter(table);
  }

  function enhanceAll() {
    Array.prototype.forEach.call(document.querySelectorAll("table[data-jdb-sortable]"), enhance);
  }

  // Material for MkDocs announces each page through document$; plain pages use DOMContentLoaded.
  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(enhanceAll);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", enhanceAll);
  } else {
    enhanceAll();
  }
})();
