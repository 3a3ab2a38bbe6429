/*
 * A copy button on every command block (<pre class="jd-command">). Local, dependency-free.
 *
 * The clipboard API needs a secure context and, in some browsers, a permission; a page opened
 * from file:// or over plain http may have neither. So the button always selects the command
 * first (the visitor can then press Ctrl+C / Cmd+C, or use the touch "Copy" menu), then tries the
 * clipboard API and, failing that, the older execCommand("copy"); the button says which happened.
 */
(function () {
  "use strict";

  function select(pre) {
    var range = document.createRange();
    range.selectNodeContents(pre.querySelector("code") || pre);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function legacyCopy() {
    try {
      return document.execCommand("copy");
    } catch (error) {
      return false;
    }
  }

  function report(button, copied) {
    button.textContent = copied ? "Copied" : "Selected: press Ctrl+C";
    button.setAttribute("data-jd-copied", copied ? "yes" : "no");
    window.setTimeout(function () {
      button.textContent = "Copy";
      button.removeAttribute("data-jd-copied");
    }, 2500);
  }

  function copy(pre, button) {
    var text = pre.textContent.replace(/\n+$/, "");
    select(pre);
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        function () { report(button, true); },
        function () { report(button, legacyCopy()); }
      );
    } else {
      report(button, legacyCopy());
    }
  }

  function addButton(pre) {
    if (pre.hasAttribute("data-jd-copy-ready")) return;
    pre.setAttribute("data-jd-copy-ready", "");
    var button = document.createElement("button");
    button.type = "button";
    button.className = "jd-copy";
    button.textContent = "Copy";
    button.setAttribute("aria-label", "Copy this command");
    button.addEventListener("click", function () { copy(pre, button); });
    pre.parentNode.insertBefore(button, pre.nextSibling);
  }

  function addAll() {
    Array.prototype.forEach.call(document.querySelectorAll("pre.jd-command"), addButton);
  }

  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(addAll);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", addAll);
  } else {
    addAll();
  }
})();
