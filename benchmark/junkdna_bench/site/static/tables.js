/*
 * Sortable, filterable leaderboard tables. Local, dependency-free, no network.
 *
 * Marks up every <table data-jdb-sortable> and every board table (table.jd-board): clicking (or
 * Enter/Space on) a header sorts the rows by that column, ascending then descending; a search box
 * above the table hides rows that do not contain the typed text. Cells may carry data-value with the
 * number to sort by (the text shown can then be formatted freely); an empty data-value sorts last in
 * both directions.
 *
 * A header's title is its explanation and is left as it is; the sort hint is the arrow drawn beside
 * the header text (leaderboard.css) and aria-sort once sorted. Headers may span rows and columns:
 * only a header that sits over exactly one column sorts. A body row of class jd-details belongs to
 * the row above it: it moves and hides with that row. Body cells without data-label get their
 * column's header text as one, which the narrow-screen card layout prints beside each value.
 */
(function () {
  "use strict";

  function isDetails(row) {
    return row.classList.contains("jd-details");
  }

  /** Each header cell with the body column it sits over (null when it spans several). */
  function headerColumns(table) {
    var taken = [];
    var headers = [];
    Array.prototype.forEach.call(table.tHead.rows, function (row, r) {
      var column = 0;
      Array.prototype.forEach.call(row.cells, function (cell) {
        while (taken[r] && taken[r][column]) column += 1;
        for (var dr = 0; dr < cell.rowSpan; dr += 1) {
          taken[r + dr] = taken[r + dr] || [];
          for (var dc = 0; dc < cell.colSpan; dc += 1) taken[r + dr][column + dc] = true;
        }
        headers.push({ cell: cell, column: cell.colSpan === 1 ? column : null });
        column += cell.colSpan;
      });
    });
    return headers;
  }

  /** Body rows grouped as [main row, its details rows...], in document order. */
  function rowGroups(table) {
    var groups = [];
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
      if (isDetails(row) && groups.length) groups[groups.length - 1].push(row);
      else groups.push([row]);
    });
    return groups;
  }

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

  function sortBy(table, headers, header, index) {
    var body = table.tBodies[0];
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    var groups = rowGroups(table).map(function (rows, position) {
      return { rows: rows, value: cellValue(rows[0], index), position: position };
    });
    groups.sort(function (a, b) {
      var order = compare(a.value, b.value);
      if (a.value.empty || b.value.empty) return order || a.position - b.position;
      return (ascending ? order : -order) || a.position - b.position;
    });
    groups.forEach(function (group) {
      group.rows.forEach(function (row) { body.appendChild(row); });
    });
    headers.forEach(function (item) { item.cell.removeAttribute("aria-sort"); });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }

  function labelCells(table, headers) {
    var labels = {};
    headers.forEach(function (item) {
      if (item.column !== null) labels[item.column] = item.cell.textContent.trim();
    });
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
      if (isDetails(row)) return;
      Array.prototype.forEach.call(row.cells, function (cell, index) {
        if (!cell.hasAttribute("data-label") && labels[index]) cell.setAttribute("data-label", labels[index]);
      });
    });
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
      var groups = rowGroups(table);
      var shown = 0;
      groups.forEach(function (rows) {
        var text = rows.map(function (row) { return row.textContent; }).join(" ").toLowerCase();
        var visible = query === "" || text.indexOf(query) !== -1;
        rows.forEach(function (row) { row.hidden = !visible; });
        if (visible) shown += 1;
      });
      count.textContent = shown + " of " + groups.length + " rows";
    }
    box.addEventListener("input", apply);
    apply();
  }

  function enhance(table) {
    if (table.hasAttribute("data-jdb-ready") || !table.tHead || !table.tBodies.length) return;
    table.setAttribute("data-jdb-ready", "");
    var headers = headerColumns(table);
    headers.forEach(function (item) {
      if (item.column === null) return;
      var header = item.cell;
      var index = item.column;
      header.tabIndex = 0;
      header.setAttribute("role", "columnheader");
      header.setAttribute("data-jdb-sort", "");
      if (!header.title) header.title = "Sort by this column";
      header.addEventListener("click", function (event) {
        if (event.target.closest("a, button, summary")) return;
        sortBy(table, headers, header, index);
      });
      header.addEventListener("keydown", function (event) {
        if (event.target !== header) return;
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          sortBy(table, headers, header, index);
        }
      });
    });
    labelCells(table, headers);
    addFilter(table);
  }

  function enhanceAll() {
    var tables = document.querySelectorAll("table[data-jdb-sortable], table.jd-board");
    Array.prototype.forEach.call(tables, enhance);
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
